use sendfile_actix::{SendFile, protected_file};

async fn ok(_: &actix_web::HttpRequest, _: &std::path::Path) -> bool {
    true
}

#[protected_file(allow = true, allow = false)]
async fn allow_twice() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(check = ok, denied_status = 404, check = ok, denied_status = 410)]
async fn check_and_status_twice() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {}
