use sendfile_actix::protected_file;

#[protected_file(allow = true)]
struct Download;

fn main() {}
