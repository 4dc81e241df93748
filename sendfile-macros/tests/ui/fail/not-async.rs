use actix_web::web;
use sendfile_actix::{SendFile, protected_file};

#[protected_file(allow = true)]
fn download(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

fn main() {}
