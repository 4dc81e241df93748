use actix_web::web;
use sendfile_actix::{SendFile, protected_file};

struct Files;

impl Files {
    // Every problem is reported at once, each on its own tokens.
    #[protected_file(allow = true, allow = true, denied_status = 200)]
    unsafe extern "C" fn download(self, name: web::Path<String>) -> SendFile {
        SendFile::new(name.into_inner())
    }
}

fn main() {}
