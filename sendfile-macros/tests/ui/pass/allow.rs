//! `allow = <expr>` over the handler's arguments, below `#[get]` and with `web::get().to`.

use actix_web::{App, HttpRequest, get, web};
use sendfile_actix::{SendFile, protected_file};

struct User;

impl User {
    fn may_read(&self, name: &str) -> bool {
        !name.is_empty()
    }
}

impl actix_web::FromRequest for User {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(_: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(User))
    }
}

#[get("/files/{name}")]
#[protected_file(allow = user.may_read(&name))]
async fn download(user: User, name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

#[protected_file(allow = user.may_read(&name), denied_status = 404)]
async fn routed(user: User, name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

async fn is_open() -> bool {
    true
}

/// `allow` may await, and may use `?` for errors that `actix_web::Error` converts from.
#[protected_file(allow = is_open().await && "1".parse::<u8>().map_err(actix_web::error::ErrorBadRequest)? == 1)]
async fn awaiting() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {
    let _ = App::new()
        .service(download)
        .route("/routed/{name}", web::get().to(routed))
        .route("/awaiting", web::get().to(awaiting));
}
