use sendfile_actix::{SendFile, protected_file};

#[protected_file]
async fn nothing() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file()]
async fn empty() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(denied_status = 404)]
async fn status_only() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {}
