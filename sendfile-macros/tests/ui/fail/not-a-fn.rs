use actix_web::web;
use sendfile_actix::{SendFile, protected_file};

#[protected_file(allow = true)]
struct Download;

fn main() {}
