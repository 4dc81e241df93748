//! `check = <path>` with the accepted return shapes and path forms, alone and after `allow`.

use actix_web::{App, HttpRequest, ResponseError, get, web};
use sendfile_actix::{ResolvedSendFile, SendFile, protected_file};

async fn owns_file(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    req.path().len() > file.relative_path().as_os_str().len()
}

#[derive(Debug)]
struct Quota;

impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("quota exhausted")
    }
}

impl ResponseError for Quota {}

mod checks {
    use super::*;

    pub async fn within_quota(_: &HttpRequest, _: &ResolvedSendFile) -> Result<bool, super::Quota> {
        Ok(true)
    }

    pub trait Role {
        const ADMIN: bool;
    }

    pub struct Admin;

    impl Role for Admin {
        const ADMIN: bool = true;
    }

    pub async fn role<R: Role>(_: &HttpRequest, _: &ResolvedSendFile) -> Result<bool, actix_web::Error> {
        Ok(R::ADMIN)
    }
}

#[get("/mine/{name}")]
#[protected_file(check = owns_file)]
async fn mine(name: web::Path<String>) -> Result<SendFile, actix_web::Error> {
    Ok(SendFile::new(name.into_inner()))
}

#[get("/quota/{name}")]
#[protected_file(check = checks::within_quota, denied_status = 404)]
async fn quota(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

#[get("/admin/{name}")]
#[protected_file(allow = !name.is_empty(), check = checks::role::<checks::Admin>,)]
async fn admin(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

fn main() {
    let _ = App::new().service(mine).service(quota).service(admin);
}
