use actix_web::web;
use sendfile_actix::{SendFile, protected_file};

struct Files;

impl Files {
    #[protected_file(allow = true)]
    async fn download(&self, name: web::Path<String>) -> SendFile {
        SendFile::new(name.into_inner())
    }
}

fn main() {}
