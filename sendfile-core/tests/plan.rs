//! The planner: each backend's header, and the rules that hold for every backend.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sendfile_core::encode::{check_header_value, percent_decode};
use sendfile_core::engine::{Method, Request};
use sendfile_core::policy::SANDBOX;
use sendfile_core::{
    Backend, Body, Config, ContentPolicy, DispositionType, Error, FileRequest, NotFoundReason, Plan,
};

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn tree(files: &[&[u8]]) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("files");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    for name in files {
        let path = root.join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(path, b"0123456789").unwrap();
    }
    Tree { _dir: dir, root }
}

fn plan(config: &Config, request: &FileRequest) -> Result<Plan, Error> {
    sendfile_core::plan(config, request, &Request::new(Method::Get))
}

fn value<'a>(plan: &'a Plan, name: &str) -> &'a [u8] {
    &plan
        .header(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .value
}

const HOSTILE: &[u8] = "a b%41?#+\"';ü.txt".as_bytes();

#[test]
fn nginx_url_prefix_plus_encoded_relative_path() {
    let t = tree(&[HOSTILE]);
    let config = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/protected/")
        .build()
        .unwrap();
    let p = plan(
        &config,
        &FileRequest::new(Path::new(std::ffi::OsStr::from_bytes(HOSTILE))),
    )
    .unwrap();
    assert_eq!(p.status, 200);
    assert!(matches!(p.body, Body::Empty));
    let v = value(&p, "X-Accel-Redirect");
    assert_eq!(v, b"/protected/a%20b%2541%3F%23%2B%22%27%3B%C3%BC.txt");
    assert_eq!(
        percent_decode(std::str::from_utf8(v).unwrap()),
        [b"/protected/", HOSTILE].concat()
    );
}

#[test]
fn mod_wsgi_location_is_encoded_like_nginx() {
    let t = tree(&[b"sub/x y.txt"]);
    let config = Config::builder(Backend::ModWsgi)
        .root(&t.root)
        .url("/internal")
        .build()
        .unwrap();
    let p = plan(&config, &FileRequest::new("sub/x y.txt")).unwrap();
    assert_eq!(p.status, 200);
    assert_eq!(value(&p, "Location"), b"/internal/sub/x%20y.txt");
}

#[test]
fn xsendfile_raw_absolute_path_bytes_even_non_utf8() {
    let name: &[u8] = b"raw \xff %41.txt";
    let t = tree(&[name]);
    let config = Config::builder(Backend::XSendfile)
        .root(&t.root)
        .build()
        .unwrap();
    let p = plan(
        &config,
        &FileRequest::new(Path::new(std::ffi::OsStr::from_bytes(name))),
    )
    .unwrap();
    assert_eq!(
        value(&p, "X-Sendfile"),
        t.root
            .join(std::ffi::OsStr::from_bytes(name))
            .as_os_str()
            .as_bytes()
    );
}

#[test]
fn lighttpd_encoded_absolute_path_and_utf8_required() {
    let t = tree(&[b"a b.txt", b"bad\xff.txt"]);
    let config = Config::builder(Backend::Lighttpd)
        .root(&t.root)
        .build()
        .unwrap();
    let p = plan(&config, &FileRequest::new("a b.txt")).unwrap();
    let v = std::str::from_utf8(value(&p, "X-Sendfile")).unwrap();
    assert!(v.starts_with('/') && v.ends_with("/a%20b.txt"), "{v}");
    assert_eq!(
        percent_decode(v),
        t.root.join("a b.txt").as_os_str().as_bytes()
    );
    let err = plan(
        &config,
        &FileRequest::new(Path::new(std::ffi::OsStr::from_bytes(b"bad\xff.txt"))),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Unrepresentable { .. }), "{err}");
    assert_eq!(err.status(), 500);
}

#[test]
fn caddy_raw_url_and_question_mark_refused() {
    let t = tree(&[b"a b%41#.txt", b"q?mark.txt"]);
    let config = Config::builder(Backend::Caddy)
        .root(&t.root)
        .url("/protected")
        .build()
        .unwrap();
    let p = plan(&config, &FileRequest::new("a b%41#.txt")).unwrap();
    assert_eq!(value(&p, "X-Accel-Redirect"), b"/protected/a b%41#.txt");
    let err = plan(&config, &FileRequest::new("q?mark.txt")).unwrap_err();
    assert!(matches!(err, Error::Unrepresentable { .. }));
    assert!(err.to_string().contains('?'), "{err}");
}

#[test]
fn raw_backends_refuse_names_a_header_cannot_carry() {
    let t = tree(&[b"line\nbreak.txt", b"trailing "]);
    for backend in [Backend::XSendfile, Backend::Caddy] {
        let config = Config::builder(backend.clone())
            .root(&t.root)
            .url("/p")
            .build()
            .unwrap();
        for name in ["line\nbreak.txt", "trailing "] {
            let err = plan(&config, &FileRequest::new(name)).unwrap_err();
            assert!(
                matches!(err, Error::Unrepresentable { .. }),
                "{backend} {name:?}: {err}"
            );
        }
    }
    // The percent-encoding backends carry them.
    let config = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .build()
        .unwrap();
    assert_eq!(
        value(
            &plan(&config, &FileRequest::new("line\nbreak.txt")).unwrap(),
            "X-Accel-Redirect"
        ),
        b"/p/line%0Abreak.txt"
    );
}

#[test]
fn offload_plans_carry_type_and_disposition_but_no_encoding_or_validators() {
    let t = tree(&[b"archive.tar.gz"]);
    for backend in [
        Backend::Nginx,
        Backend::XSendfile,
        Backend::Lighttpd,
        Backend::ModWsgi,
        Backend::Caddy,
    ] {
        let config = Config::builder(backend.clone())
            .root(&t.root)
            .url("/p")
            .build()
            .unwrap();
        let mut req = FileRequest::new("archive.tar.gz");
        req.content_encoding = Some(sendfile_core::ContentCoding::Gzip);
        req.disposition = DispositionType::Attachment;
        let p = plan(&config, &req).unwrap();
        assert_eq!(p.status, 200, "{backend}");
        assert_eq!(value(&p, "Content-Type"), b"application/gzip", "{backend}");
        assert_eq!(
            value(&p, "Content-Disposition"),
            b"attachment; filename=\"archive.tar.gz\""
        );
        for absent in [
            "Content-Encoding",
            "ETag",
            "Last-Modified",
            "Content-Length",
            "Accept-Ranges",
        ] {
            assert!(p.header(absent).is_none(), "{backend} sent {absent}");
        }
        assert!(p.headers.iter().all(|h| !h.value.is_empty()));
    }
}

#[test]
fn content_type_override_and_filename_override() {
    let t = tree(&[b"data"]);
    let config = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .build()
        .unwrap();
    let mut req = FileRequest::new("data");
    req.content_type = Some(mime::TEXT_CSV);
    req.filename = Some("Report Q3.csv".into());
    let p = plan(&config, &req).unwrap();
    assert_eq!(value(&p, "Content-Type"), b"text/csv");
    // Not a passive type: an attachment under the default content policy.
    assert_eq!(
        value(&p, "Content-Disposition"),
        b"attachment; filename=\"Report Q3.csv\""
    );
    req.content_policy = Some(ContentPolicy::Trusted);
    let p = plan(&config, &req).unwrap();
    assert_eq!(
        value(&p, "Content-Disposition"),
        b"inline; filename=\"Report Q3.csv\""
    );

    // A Content-Type that would inject a header cannot even be made.
    assert!("text/plain\r\nX-Evil: 1".parse::<mime::Mime>().is_err());
    assert!(
        "text/plain; a=\"b\r\nX-Evil: 1\""
            .parse::<mime::Mime>()
            .is_err()
    );
}

#[test]
fn the_content_type_follows_the_name_the_browser_saves() {
    let t = tree(&[b"data"]);
    let config = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .build()
        .unwrap();
    for (name, content_type) in [
        // Saved as `download.pdf`.
        ("   .pdf", &b"application/pdf"[..]),
        // Saved as `evil.htm_l`: never typed, nor saved, as HTML.
        ("evil.htm\u{200B}l", b"application/octet-stream"),
        ("evil.htm\u{202E}l", b"application/octet-stream"),
    ] {
        let mut req = FileRequest::new("data");
        req.filename = Some(name.into());
        let p = plan(&config, &req).unwrap();
        assert_eq!(value(&p, "Content-Type"), content_type, "{name:?}");
        let disposition = String::from_utf8(value(&p, "Content-Disposition").to_vec()).unwrap();
        assert!(!disposition.contains(".html"), "{disposition}");
    }
}

#[test]
fn the_download_name_and_type_are_the_checked_files_not_the_links() {
    let t = tree(&[b"sub/v2-final.pdf", b"sub/data.txt"]);
    std::os::unix::fs::symlink("sub/v2-final.pdf", t.root.join("latest.pdf")).unwrap();
    // A link whose name would make the checked text file HTML.
    std::os::unix::fs::symlink("sub/data.txt", t.root.join("page.html")).unwrap();
    let config = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .build()
        .unwrap();
    let p = plan(&config, &FileRequest::new("page.html")).unwrap();
    assert_eq!(value(&p, "Content-Type"), b"text/plain; charset=utf-8");
    assert_eq!(
        value(&p, "Content-Disposition"),
        b"inline; filename=\"data.txt\""
    );
    let p = plan(&config, &FileRequest::new("latest.pdf")).unwrap();
    assert_eq!(
        value(&p, "Content-Disposition"),
        b"inline; filename=\"v2-final.pdf\""
    );
    // The front server is sent the real file, which is what was checked.
    assert_eq!(value(&p, "X-Accel-Redirect"), b"/p/sub/v2-final.pdf");
}

#[test]
fn check_file_exists_false_names_a_file_only_the_front_server_has() {
    let t = tree(&[]);
    let settings = Config::builder(Backend::Nginx).root(&t.root).url("/bucket");
    let config = settings.clone().check_file_exists(false).build().unwrap();
    let p = plan(&config, &FileRequest::new("2026/archive.zip")).unwrap();
    assert_eq!(value(&p, "X-Accel-Redirect"), b"/bucket/2026/archive.zip");
    let err = plan(&config, &FileRequest::new("../escape.zip")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                reason: NotFoundReason::OutsideRoot,
                ..
            }
        ),
        "{err}"
    );
    // With the check on, the same request is a 404.
    let config = settings.check_file_exists(true).build().unwrap();
    assert_eq!(
        plan(&config, &FileRequest::new("2026/archive.zip"))
            .unwrap_err()
            .status(),
        404
    );
    // In-process backends always need the file.
    let config = Config::builder(Backend::Simple)
        .root(&t.root)
        .check_file_exists(false)
        .build()
        .unwrap();
    assert_eq!(
        plan(&config, &FileRequest::new("2026/archive.zip"))
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn a_configuration_error_is_refused_when_built_and_never_hidden_behind_a_404() {
    let t = tree(&[]);
    let err = Config::builder(Backend::Nginx)
        .root(&t.root)
        .build()
        .unwrap_err(); // no url
    assert_eq!(err.setting, "SENDFILE_URL");
    let err = Config::builder(Backend::Simple).build().unwrap_err();
    assert_eq!(err.setting, "SENDFILE_ROOT");
    // What a request can still bring: a backend of its own that the configuration cannot
    // serve. Reported as the configuration error, before the (missing) file is looked at.
    let config = Config::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let mut request = FileRequest::new("missing.txt");
    request.backend = Some(Backend::Nginx);
    let err = plan(&config, &request).unwrap_err();
    assert!(
        matches!(err, Error::Config(ref c) if c.setting == "SENDFILE_URL"),
        "{err}"
    );
    assert_eq!(err.status(), 500);
}

#[test]
fn in_process_plans_stream_the_confined_file() {
    let t = tree(&[b"hello.txt"]);
    for (backend, no_store) in [(Backend::Simple, false), (Backend::Development, true)] {
        let config = Config::builder(backend).root(&t.root).build().unwrap();
        let p = plan(&config, &FileRequest::new("hello.txt")).unwrap();
        assert_eq!(p.status, 200);
        assert_eq!(p.content_length(), Some(10));
        let cache = if no_store {
            &b"no-store"[..]
        } else {
            b"private"
        };
        assert_eq!(value(&p, "Cache-Control"), cache);
        match p.body {
            Body::File { len, .. } => assert_eq!(len, 10),
            Body::Empty | Body::Head { .. } => panic!("no body"),
        }
    }
}

#[test]
fn a_per_request_backend_wins() {
    let t = tree(&[b"hello.txt"]);
    let config = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .build()
        .unwrap();
    let mut req = FileRequest::new("hello.txt");
    req.backend = Some(Backend::XSendfile);
    let p = plan(&config, &req).unwrap();
    assert!(p.header("X-Sendfile").is_some() && p.header("X-Accel-Redirect").is_none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the download name, every header of every backend is a valid header value.
    #[test]
    fn every_header_is_valid_for_any_download_name(name in any::<String>()) {
        let t = tree(&[b"file.bin"]);
        for backend in [Backend::Nginx, Backend::XSendfile, Backend::Lighttpd, Backend::ModWsgi, Backend::Caddy, Backend::Simple] {
            let config = Config::builder(backend.clone()).root(&t.root).url("/p").build().unwrap();
            let mut req = FileRequest::new("file.bin");
            req.filename = Some(name.clone());
            let p = plan(&config, &req).unwrap();
            for h in &p.headers {
                prop_assert!(check_header_value(&h.name, &h.value).is_ok(), "{} {}: {:?}", backend, h.name, h.value);
            }
        }
    }
}

#[test]
fn check_file_exists_false_still_refuses_a_local_link_out_of_the_root() {
    let t = tree(&[]);
    let outside = t.root.parent().unwrap().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), b"secret").unwrap();
    std::os::unix::fs::symlink(&outside, t.root.join("escape")).unwrap();
    let config = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .check_file_exists(false)
        .build()
        .unwrap();
    for path in ["escape/secret.txt", "escape/not-here.txt"] {
        let err = plan(&config, &FileRequest::new(path)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotFound {
                    reason: NotFoundReason::OutsideRoot,
                    ..
                }
            ),
            "{path}: {err}"
        );
    }
}

#[test]
fn head_announces_the_length_of_a_get_as_a_number() {
    let t = tree(&[b"hello.txt"]);
    let config = Config::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let head = sendfile_core::plan(
        &config,
        &FileRequest::new("hello.txt"),
        &Request::new(Method::Head),
    )
    .unwrap();
    assert_eq!(head.status, 200);
    assert!(matches!(head.body, Body::Head { len: 10 }));
    assert_eq!(head.content_length(), Some(10));
    assert!(head.header("Content-Length").is_none());
    // A 304 announces nothing.
    let get = plan(&config, &FileRequest::new("hello.txt")).unwrap();
    let etag = get.header("ETag").unwrap().value_str().unwrap().to_owned();
    let mut conditional = Request::new(Method::Get);
    conditional.if_none_match = Some(&etag);
    let not_modified =
        sendfile_core::plan(&config, &FileRequest::new("hello.txt"), &conditional).unwrap();
    assert_eq!(not_modified.status, 304);
    assert!(matches!(not_modified.body, Body::Empty));
    assert_eq!(not_modified.content_length(), None);
}

#[test]
fn a_file_resolved_for_an_offload_backend_is_reopened_to_stream() {
    let t = tree(&[b"hello.txt"]);
    let nginx = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .build()
        .unwrap();
    let request = FileRequest::new("hello.txt");
    let file = sendfile_core::resolve(&nginx, &request).unwrap();
    assert!(file.file().is_none() && file.metadata().is_some());
    let mut simple = request.clone();
    simple.backend = Some(Backend::Simple);
    let p =
        sendfile_core::plan_resolved(&nginx, &simple, file, &Request::new(Method::Get)).unwrap();
    assert!(matches!(p.body, Body::File { len: 10, .. }));
}

/// The content policy, on every backend and status: nosniff always; active content an
/// attachment with the sandbox; `Cache-Control: private` unless the application says
/// otherwise; `Trusted` per file or per configuration gives the disposition asked for.
#[test]
fn the_content_policy_goes_with_every_response() {
    let t = tree(&[b"page.html", b"pic.svg", b"photo.png", b"notes.txt"]);
    let nginx = Config::builder(Backend::Nginx)
        .root(&t.root)
        .url("/p")
        .build()
        .unwrap();
    let simple = Config::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    for config in [&nginx, &simple] {
        for (name, inline) in [
            ("page.html", false),
            ("pic.svg", false),
            ("photo.png", true),
            ("notes.txt", true),
        ] {
            let p = plan(config, &FileRequest::new(name)).unwrap();
            let disposition = value(&p, "Content-Disposition");
            assert_eq!(disposition.starts_with(b"inline"), inline, "{name}");
            assert_eq!(value(&p, "X-Content-Type-Options"), b"nosniff");
            assert_eq!(value(&p, "Content-Security-Policy"), SANDBOX.as_bytes());
            assert_eq!(value(&p, "Cache-Control"), b"private");

            let mut trusted = FileRequest::new(name);
            trusted.content_policy = Some(ContentPolicy::Trusted);
            trusted.cache_control = Some("public, max-age=60".into());
            let p = plan(config, &trusted).unwrap();
            assert!(value(&p, "Content-Disposition").starts_with(b"inline"));
            assert!(p.header("Content-Security-Policy").is_none());
            assert_eq!(value(&p, "X-Content-Type-Options"), b"nosniff");
            assert_eq!(value(&p, "Cache-Control"), b"public, max-age=60");
        }
    }
    // Per configuration.
    let trusted = Config::builder(Backend::Simple)
        .root(&t.root)
        .content_policy(ContentPolicy::Trusted)
        .build()
        .unwrap();
    let p = plan(&trusted, &FileRequest::new("page.html")).unwrap();
    assert!(value(&p, "Content-Disposition").starts_with(b"inline"));
    assert!(p.header("Content-Security-Policy").is_none());

    // 304 and 416 from the in-process engine.
    let p = plan(&simple, &FileRequest::new("page.html")).unwrap();
    let etag = String::from_utf8(value(&p, "ETag").to_vec()).unwrap();
    let mut http = Request::new(Method::Get);
    http.if_none_match = Some(&etag);
    let p = sendfile_core::plan(&simple, &FileRequest::new("page.html"), &http).unwrap();
    assert_eq!(p.status, 304);
    assert_eq!(value(&p, "X-Content-Type-Options"), b"nosniff");
    assert_eq!(value(&p, "Cache-Control"), b"private");
    assert_eq!(value(&p, "Content-Security-Policy"), SANDBOX.as_bytes());
    let mut http = Request::new(Method::Get);
    http.range = Some("bytes=100-");
    let p = sendfile_core::plan(&simple, &FileRequest::new("page.html"), &http).unwrap();
    assert_eq!(p.status, 416);
    assert_eq!(value(&p, "X-Content-Type-Options"), b"nosniff");

    // A header value the application got wrong is refused, never sent.
    let mut bad = FileRequest::new("notes.txt");
    bad.cache_control = Some("private\r\nSet-Cookie: a=b".into());
    assert!(plan(&simple, &bad).is_err());
}
