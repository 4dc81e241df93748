use actix_web::web;
use sendfile_actix::{SendFile, protected_file};

type P = web::Path<String>;

#[protected_file(allow = true)]
async fn download(
    a: P,
    b: P,
    c: P,
    d: P,
    e: P,
    f: P,
    g: P,
    h: P,
    i: P,
    j: P,
    k: P,
    l: P,
    m: P,
    n: P,
    o: P,
    p: P,
) -> SendFile {
    let _ = (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o);
    SendFile::new(p.into_inner())
}

fn main() {}
