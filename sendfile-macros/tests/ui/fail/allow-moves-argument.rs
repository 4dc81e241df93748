use actix_web::web;
use sendfile_actix::{SendFile, protected_file};

fn may_read(name: String) -> bool {
    !name.is_empty()
}

// `allow` runs on the handler's own bindings before the body: moving one leaves the body
// without it.
#[protected_file(allow = may_read(name.into_inner()))]
async fn download(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

fn main() {}
