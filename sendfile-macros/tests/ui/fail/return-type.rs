use sendfile_actix::{SendFile, protected_file};

#[protected_file(allow = true)]
async fn nothing() {}

#[protected_file(allow = true)]
async fn opaque() -> impl actix_web::Responder {
    SendFile::new("a.txt")
}

fn main() {}
