use sendfile_actix::{SendFile, protected_file};

#[protected_file(allow)]
async fn no_value() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(allow = true check = ok)]
async fn no_comma() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file("allow")]
async fn literal() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {}
