use sendfile_actix::{SendFile, protected_file};

#[protected_file(alow = true)]
async fn misspelt() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(allow = true, status = 404, error = "nope")]
async fn two_unknown() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {}
