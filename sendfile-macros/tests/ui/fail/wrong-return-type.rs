use actix_web::web;
use sendfile_actix::{SendFile, protected_file};

#[protected_file(allow = true)]
async fn string() -> String {
    String::from("a.txt")
}

#[protected_file(allow = true)]
async fn option() -> Option<SendFile> {
    Some(SendFile::new("a.txt"))
}

fn main() {
    let _ = actix_web::App::new()
        .route("/s", web::get().to(string))
        .route("/o", web::get().to(option));
}
