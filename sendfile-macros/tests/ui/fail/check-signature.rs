use std::path::Path;

use sendfile_actix::{ResolvedSendFile, SendFile, protected_file};

fn not_async(_: &actix_web::HttpRequest, _: &ResolvedSendFile) -> bool {
    true
}

/// The signature of 0.1's first drafts: a path instead of the resolved file.
async fn wrong_arguments(_: &actix_web::HttpRequest, _: &Path) -> bool {
    true
}

async fn wrong_output(_: &actix_web::HttpRequest, _: &ResolvedSendFile) -> Option<bool> {
    Some(true)
}

#[protected_file(check = not_async)]
async fn a() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(check = wrong_arguments)]
async fn b() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(check = wrong_output)]
async fn c() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(check = does_not_exist)]
async fn d() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {}
