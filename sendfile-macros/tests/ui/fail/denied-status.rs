use sendfile_actix::{SendFile, protected_file};

#[protected_file(allow = true, denied_status = 200)]
async fn success() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(allow = true, denied_status = "404")]
async fn string() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(allow = true, denied_status = 70000)]
async fn too_large() -> SendFile {
    SendFile::new("a.txt")
}

#[protected_file(allow = true, denied_status = 404i8)]
async fn suffix() -> SendFile {
    SendFile::new("a.txt")
}

const GONE: u16 = 410;

#[protected_file(allow = true, denied_status = GONE)]
async fn constant() -> SendFile {
    SendFile::new("a.txt")
}

fn main() {}
