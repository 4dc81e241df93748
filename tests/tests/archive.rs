//! Streamed ZIP archives (`sendfile_actix::Archive`) read back by independent readers
//! (`unzip -t`, `bsdtar -tf`, 7-Zip, Python's `zipfile`): the hostile names, an empty file,
//! a file over 4 GiB, 70,000 entries; exact lengths, HEAD, what is left out or denied, a file
//! changing under the stream, and nginx mod_zip's manifest.
//!
//! Without a reader these tests say so in one line and skip it; with `CI=true` they fail.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, HttpRequest, test, web};
use sendfile_actix::{Archive, Backend, ResolvedArchive, SendFileConfig, SendFileError};
use sendfile_e2e::fixture::{self, Fixture, HOSTILE_DIR};
use sendfile_e2e::readers;

/// Anyone may read `public/`; nothing else.
fn public_only(path: &Path) -> bool {
    path.starts_with("public")
}

async fn archive_dir(
    req: HttpRequest,
    dir: web::Path<String>,
) -> Result<ResolvedArchive, SendFileError> {
    Archive::new("all.zip")
        .directory(dir.into_inner(), "")
        .resolve(&req, public_only)
        .await
}

/// `?f=path` repeated: those files, named by their last component.
async fn archive_list(req: HttpRequest) -> Result<ResolvedArchive, SendFileError> {
    let mut archive = Archive::new("list.zip");
    for pair in req.query_string().split('&').filter(|p| !p.is_empty()) {
        let path = pair.trim_start_matches("f=").to_owned();
        let name = path.rsplit('/').next().unwrap_or_default().to_owned();
        archive = archive.file(path, name);
    }
    archive.resolve(&req, public_only).await
}

async fn manifest(
    req: HttpRequest,
    dir: web::Path<String>,
) -> Result<ResolvedArchive, SendFileError> {
    Ok(Archive::new("all.zip")
        .directory(dir.into_inner(), "")
        .resolve(&req, public_only)
        .await?
        .mod_zip())
}

async fn service(
    config: SendFileConfig,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .app_data(config)
            .route("/archive/{dir:.*}", web::get().to(archive_dir))
            .route("/archive/{dir:.*}", web::head().to(archive_dir))
            .route("/list", web::get().to(archive_list))
            .route("/manifest/{dir:.*}", web::get().to(manifest)),
    )
    .await
}

fn simple(root: &Path) -> SendFileConfig {
    SendFileConfig::builder(Backend::Simple)
        .root(root)
        .build()
        .expect("config")
}

/// Where a streamed body goes.
#[derive(Default)]
struct Received {
    len: u64,
    /// The chunks' error, if the stream stopped with one.
    error: Option<String>,
}

/// Streams the body of `res` into `out` (runs of zeros become holes: a sparse file), or
/// only counts it.
async fn drain(res: ServiceResponse, mut out: Option<&mut fs::File>) -> Received {
    let mut body = res.into_body();
    let mut received = Received::default();
    loop {
        let chunk = std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await;
        match chunk {
            None => break,
            Some(Err(e)) => {
                received.error = Some(e.to_string());
                break;
            }
            Some(Ok(bytes)) => {
                if let Some(file) = out.as_deref_mut() {
                    // Compared by slices (memcmp): fast in a debug build too.
                    const ZEROS: [u8; 4096] = [0; 4096];
                    if bytes.chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()]) {
                        file.seek(SeekFrom::Current(bytes.len() as i64)).unwrap();
                    } else {
                        file.write_all(&bytes).unwrap();
                    }
                }
                received.len += bytes.len() as u64;
            }
        }
    }
    if let Some(file) = out {
        file.set_len(received.len).unwrap();
    }
    received
}

/// GETs `uri` into a file in `dir`; checks 200, the type and that the length is the one
/// announced.
async fn download<S>(app: &S, uri: &str, dir: &Path) -> PathBuf
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res = test::call_service(app, test::TestRequest::get().uri(uri).to_request()).await;
    assert_eq!(res.status(), 200, "{uri}");
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/zip"
    );
    let announced: u64 = res.headers().get("content-length").map_or_else(
        || match res.response().body().size() {
            actix_web::body::BodySize::Sized(n) => n,
            other => panic!("no length: {other:?}"),
        },
        |v| v.to_str().unwrap().parse().unwrap(),
    );
    let path = dir.join("archive.zip");
    let mut file = fs::File::create(&path).unwrap();
    let received = drain(res, Some(&mut file)).await;
    assert_eq!(received.error, None);
    assert_eq!(received.len, announced, "Content-Length is exact");
    path
}

#[actix_web::test]
async fn hostile_names_and_an_empty_file_are_read_back_by_every_reader() {
    let fixture = Fixture::new().unwrap();
    let hostile = fixture.root.join(HOSTILE_DIR);
    fs::write(hostile.join("empty.txt"), b"").unwrap();
    // Inside the root but not public: left out, as is the link out of the root.
    std::os::unix::fs::symlink("../../users/alice/notes.txt", hostile.join("alice.txt")).unwrap();
    let app = service(simple(&fixture.root)).await;

    let mut names = fixture::hostile_names();
    names.push("empty.txt".to_owned());
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let contents: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|n| {
            let data = if n == "empty.txt" {
                Vec::new()
            } else {
                fixture::content_for(n)
            };
            (n.clone(), data)
        })
        .collect();

    let path = download(&app, &format!("/archive/{HOSTILE_DIR}"), fixture.path()).await;
    readers::check_all(&path, &names, &contents);
    let bytes = fs::read(&path).unwrap();
    assert!(
        !bytes
            .windows(fixture.secret_marker.len())
            .any(|w| w == fixture.secret_marker),
        "a file outside the root was archived"
    );
    assert!(
        !bytes.windows(5).any(|w| w == b"alice"),
        "a refused file was archived"
    );

    // HEAD: the same length, no body.
    let get_len = bytes.len().to_string();
    let res = test::call_service(
        &app,
        test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&format!("/archive/{HOSTILE_DIR}"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let len = match res.response().body().size() {
        actix_web::body::BodySize::Sized(n) => n.to_string(),
        other => panic!("HEAD without a length: {other:?}"),
    };
    assert_eq!(len, get_len);
    assert_eq!(drain(res, None).await.len, 0);
}

#[actix_web::test]
async fn explicit_lists_are_all_or_nothing_and_directories_stay_in_the_root() {
    let fixture = Fixture::new().unwrap();
    let app = service(simple(&fixture.root)).await;
    let status = |uri: &str| {
        let req = test::TestRequest::get().uri(uri).to_request();
        let app = &app;
        async move { test::call_service(app, req).await.status().as_u16() }
    };
    // Every file allowed: 200, with exactly those files.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/list?f=public/big.bin&f=public/hostile/plain.txt")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = test::read_body(res).await;
    assert_eq!(&body[..4], b"PK\x03\x04");
    // One refused: the whole answer is denied. One missing: 404. One out of the root: 404.
    assert_eq!(
        status("/list?f=public/big.bin&f=users/alice/notes.txt").await,
        403
    );
    assert_eq!(
        status("/list?f=public/big.bin&f=public/nope.txt").await,
        404
    );
    assert_eq!(status("/list?f=public/link-out.txt").await, 404);
    // Directories: out of the root, through a link out, missing.
    assert_eq!(status("/archive/..").await, 404);
    assert_eq!(status("/archive/public/../..").await, 404);
    assert_eq!(status("/archive/public/dir-out").await, 404);
    assert_eq!(status("/archive/nope").await, 404);
    // A directory whose files are all refused: a valid, empty archive.
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/archive/users").to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = test::read_body(res).await;
    assert_eq!(body.len(), 22);
    assert_eq!(&body[..4], b"PK\x05\x06");
}

#[actix_web::test]
async fn a_file_over_4_gib_is_zip64_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("public/big")).unwrap();
    // Sparse: 4 GiB + 1 MiB of holes, a marker at both ends.
    let big = fs::File::create(root.join("public/big/huge.bin")).unwrap();
    let size = (4u64 << 30) + (1 << 20);
    big.set_len(size).unwrap();
    big.write_all_at(b"first", 0).unwrap();
    big.write_all_at(b"last!", size - 5).unwrap();
    fs::write(root.join("public/big/small.txt"), b"after the big one").unwrap();
    let app = service(simple(&root)).await;
    let path = download(&app, "/archive/public/big", dir.path()).await;
    let names = vec!["huge.bin".to_owned(), "small.txt".to_owned()];
    readers::check_large(
        &path,
        &names,
        &[("small.txt".to_owned(), b"after the big one".to_vec())],
    );
}

#[actix_web::test]
async fn seventy_thousand_entries_are_zip64_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = root.join("public/many");
    fs::create_dir_all(&files).unwrap();
    let mut names = Vec::with_capacity(70_000);
    for i in 0..70_000u32 {
        let name = format!("f{i:05}");
        let mut file = fs::File::create(files.join(&name)).unwrap();
        if i % 1000 == 0 {
            file.write_all(name.as_bytes()).unwrap();
        }
        names.push(name);
    }
    let app = service(simple(&root)).await;
    let path = download(&app, "/archive/public/many", dir.path()).await;
    let contents: Vec<(String, Vec<u8>)> = (0..70_000)
        .step_by(1000)
        .map(|i| (names[i].clone(), names[i].clone().into_bytes()))
        .collect();
    readers::check_all(&path, &names, &contents);
}

#[actix_web::test]
async fn a_file_changing_under_the_stream_breaks_the_download() {
    let fixture = Fixture::new().unwrap();
    let dir = fixture.root.join("public/changing");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("a.bin"), vec![1u8; 300_000]).unwrap();
    fs::write(dir.join("b.bin"), vec![2u8; 300_000]).unwrap();
    let app = service(simple(&fixture.root)).await;

    for (what, change) in [
        // Truncated while its data streams: a short read.
        (
            "truncated",
            (|d: &Path| {
                fs::File::options()
                    .write(true)
                    .open(d.join("a.bin"))
                    .unwrap()
                    .set_len(10)
                    .unwrap();
            }) as fn(&Path),
        ),
        // The next file rewritten in place before its turn: size and time differ.
        ("rewritten", |d: &Path| {
            fs::write(d.join("b.bin"), vec![3u8; 10]).unwrap();
        }),
        // The next file replaced by another one of the same size.
        ("replaced", |d: &Path| {
            fs::write(d.join("b.new"), vec![4u8; 300_000]).unwrap();
            fs::rename(d.join("b.new"), d.join("b.bin")).unwrap();
        }),
    ] {
        fs::write(dir.join("a.bin"), vec![1u8; 300_000]).unwrap();
        fs::write(dir.join("b.bin"), vec![2u8; 300_000]).unwrap();
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/archive/public/changing")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
        let announced = match res.response().body().size() {
            actix_web::body::BodySize::Sized(n) => n,
            other => panic!("{other:?}"),
        };
        let mut body = res.into_body();
        // The first chunk (a's local header), then the change.
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await;
        assert!(matches!(first, Some(Ok(_))));
        change(&dir);
        let mut got = first.unwrap().unwrap().len() as u64;
        let mut failed = false;
        while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await {
            match chunk {
                Ok(b) => got += b.len() as u64,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "{what}: the stream ended without an error");
        assert!(got < announced, "{what}: {got} of {announced} bytes");
    }
}

#[actix_web::test]
async fn mod_zip_manifest_lists_checked_files_under_the_internal_location() {
    let fixture = Fixture::new().unwrap();
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&fixture.root)
        .url("/protected")
        .build()
        .unwrap();
    let app = service(config).await;
    let dir = fixture.root.join("public/m");
    fs::create_dir_all(dir.join("sub dir")).unwrap();
    fs::write(dir.join("a b%.txt"), b"12345").unwrap();
    fs::write(dir.join("sub dir/ü#?.txt"), b"").unwrap();
    std::os::unix::fs::symlink("../../users/alice/notes.txt", dir.join("z-alice.txt")).unwrap();
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/manifest/public/m")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("x-archive-files").unwrap(), "zip");
    assert!(
        res.headers()
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("all.zip")
    );
    let body = test::read_body(res).await;
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        "- 5 /protected/public/m/a%20b%25.txt a b%.txt\n\
         - 0 /protected/public/m/sub%20dir/%C3%BC%23%3F.txt sub dir/ü#?.txt\n"
    );
    // Without the nginx backend: refused, never a manifest sent to a client.
    let app = service(simple(&fixture.root)).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/manifest/public/m")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 500);
    assert!(res.headers().get("x-archive-files").is_none());
}
