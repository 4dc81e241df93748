//! A directory tree behind a permission check, with `sendfile_actix::Files`.
//!
//! ```text
//! cargo run -p sendfile-actix --example files -- <root> [port]
//! curl -i http://127.0.0.1:8089/files/readme.txt              # 200
//! curl -i http://127.0.0.1:8089/files/secret/plan.txt         # 403 page
//! curl -i -H 'X-Staff: 1' http://127.0.0.1:8089/files/secret/plan.txt   # 200
//! curl -I http://127.0.0.1:8089/files/readme.txt              # HEAD: 200, Content-Length
//! curl -i -X POST http://127.0.0.1:8089/files/readme.txt      # 405, Allow: GET, HEAD
//! ```
//!
//! Every file below `<root>` is served at `/files/` by the `simple` backend (no front server
//! needed; with nginx in front, use `Backend::Nginx` and its URL prefix instead). Files below
//! `secret/` need the `X-Staff` header. When `<root>` is empty, the example writes
//! `readme.txt` and `secret/plan.txt` there. The server listens on 127.0.0.1 only.

use std::path::PathBuf;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use sendfile_actix::{Backend, Files, ResolvedSendFile, SendFileConfig};

/// The permission check: everything but `secret/`, which staff only may read.
async fn may_read(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    !file.relative_path().starts_with("secret") || req.headers().contains_key("x-staff")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        return Err(std::io::Error::other(
            "usage: cargo run -p sendfile-actix --example files -- <root> [port]",
        ));
    };
    let port: u16 = match args.next() {
        Some(port) => port
            .parse()
            .map_err(|_| std::io::Error::other(format!("{port:?} is not a port number")))?,
        None => 8089,
    };
    if std::fs::read_dir(&root)?.next().is_none() {
        std::fs::create_dir_all(root.join("secret"))?;
        std::fs::write(root.join("readme.txt"), "Anyone may read this.\n")?;
        std::fs::write(root.join("secret/plan.txt"), "Staff only.\n")?;
    }

    let config = SendFileConfig::builder(Backend::Simple)
        .root(&root)
        .error_handler(|err, _req| {
            if err.is_denied() {
                // A fixed page: nothing of the request is echoed into HTML.
                HttpResponse::build(err.status())
                    .content_type("text/html; charset=utf-8")
                    .body("<h1>Not for you</h1>")
            } else {
                err.default_response()
            }
        })
        .build()
        .map_err(|e| std::io::Error::other(e.to_string()))?;

    HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .service(Files::new("/files", "", may_read))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
