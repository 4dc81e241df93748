use sendfile_actix::{SendFile, protected_file};

#[protected_file(allow = true)]
const fn download() -> SendFile {
    panic!("never called")
}

fn main() {}
