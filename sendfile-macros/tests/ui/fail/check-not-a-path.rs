use sendfile_actix::{SendFile, protected_file};

#[protected_file(check = |_, _| async { true })]
async fn closure() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(check = "owns_file")]
async fn string() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {}
