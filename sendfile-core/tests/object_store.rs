//! Object storage in the planner: start-up errors naming the setting, the nginx and redirect
//! plans, custom backends that learn the method and answer redirects, secrets kept out of
//! `Debug` and errors.

use std::collections::HashMap;
use std::time::Duration;

use sendfile_core::engine::{Method, Request};
use sendfile_core::object::{ObjectRequest, ObjectStore, PresignRequest, PresignedUrl, Presigner};
use sendfile_core::s3::{S3Credentials, S3Presigner};
use sendfile_core::{
    Backend, Config, CustomBackend, Error, FileRequest, Header, Offload, ResolvedFile,
};

const SECRET: &str = "SECRET-0123456789abcdef";

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

fn s3_settings() -> Vec<(&'static str, &'static str)> {
    vec![
        ("SENDFILE_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ("SENDFILE_S3_BUCKET", "protected"),
        ("SENDFILE_S3_PREFIX", "files/"),
        ("AWS_ACCESS_KEY_ID", "AKIDTEST"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", "TOKEN-abcdef"),
    ]
}

fn s3_store() -> ObjectStore {
    let s3 = S3Presigner::new(
        "http://127.0.0.1:9000",
        "protected",
        "us-east-1",
        S3Credentials::new("AKIDTEST", SECRET),
    )
    .unwrap();
    ObjectStore::new(s3).prefix("files/")
}

#[test]
fn start_up_errors_name_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let with = |extra: &[(&str, &str)], drop: &str| {
        let mut pairs: Vec<(&str, &str)> = s3_settings()
            .into_iter()
            .filter(|(k, _)| *k != drop)
            .collect();
        pairs.extend_from_slice(extra);
        Config::from_lookup(lookup(&pairs))
    };
    /// Settings added, setting removed, setting the error must name.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case<'_>; 6] = [
        (
            &[
                ("SENDFILE_BACKEND", "nginx"),
                ("SENDFILE_URL", "/p"),
                ("SENDFILE_ROOT", root),
            ],
            "",
            "SENDFILE_S3_BUCKET",
        ),
        (&[("SENDFILE_BACKEND", "xsendfile")], "", "SENDFILE_BACKEND"),
        (&[("SENDFILE_BACKEND", "simple")], "", "SENDFILE_BACKEND"),
        (
            &[("SENDFILE_BACKEND", "redirect")],
            "AWS_ACCESS_KEY_ID",
            "AWS_ACCESS_KEY_ID",
        ),
        (
            &[("SENDFILE_BACKEND", "redirect")],
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_ACCESS_KEY",
        ),
        (&[("SENDFILE_BACKEND", "nginx")], "", "SENDFILE_URL"),
    ];
    for (extra, drop, setting) in cases {
        let err = with(extra, drop).unwrap_err();
        assert_eq!(err.setting, setting, "{extra:?} -{drop}: {err}");
        assert!(!err.to_string().contains(SECRET), "{err}");
    }
    // The redirect backend needs a bucket.
    let err = Config::from_lookup(lookup(&[
        ("SENDFILE_BACKEND", "redirect"),
        ("SENDFILE_ROOT", root),
    ]))
    .unwrap_err();
    assert_eq!(err.setting, "SENDFILE_S3_BUCKET");
    // And the working ones.
    with(&[("SENDFILE_BACKEND", "redirect")], "").unwrap();
    with(&[("SENDFILE_BACKEND", "nginx"), ("SENDFILE_URL", "/p")], "").unwrap();
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let mut pairs = s3_settings();
    pairs.push(("SENDFILE_BACKEND", "redirect"));
    let config = Config::from_lookup(lookup(&pairs)).unwrap();
    let shown = format!("{config:?}");
    assert!(shown.contains("AKIDTEST"), "{shown}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("TOKEN-abcdef"),
        "{shown}"
    );
    let err = sendfile_core::plan(
        &config,
        &FileRequest::new("../x"),
        &Request::new(Method::Get),
    )
    .unwrap_err();
    assert!(!format!("{err:?} {err}").contains(SECRET));
}

#[test]
fn nginx_plan_escapes_the_presigned_path_twice_and_binds_the_method() {
    let config = Config::builder(Backend::Nginx)
        .url("/_s3")
        .object_store(s3_store())
        .build()
        .unwrap();
    let request = FileRequest::new("a b/100%?#+.pdf");
    let plan = sendfile_core::plan(&config, &request, &Request::new(Method::Get)).unwrap();
    assert_eq!(plan.status, 200);
    let accel = plan
        .header("X-Accel-Redirect")
        .unwrap()
        .value_str()
        .unwrap();
    let (path, query) = accel.split_once('?').unwrap();
    assert_eq!(
        path,
        "/_s3/protected/files/a%2520b/100%2525%253F%2523%252B.pdf"
    );
    assert!(query.contains("X-Amz-Signature="), "{query}");
    assert!(
        !query.contains("response-content"),
        "nginx keeps the app's headers: {query}"
    );
    assert_eq!(
        plan.header("Content-Type").unwrap().value,
        b"application/pdf"
    );
    assert!(plan.header("Content-Disposition").is_some());
    // HEAD gets another signature than GET (a SigV4 presign binds the method).
    let head = sendfile_core::plan(&config, &request, &Request::new(Method::Head)).unwrap();
    let head_accel = head
        .header("X-Accel-Redirect")
        .unwrap()
        .value_str()
        .unwrap();
    let sig = |v: &str| v.rsplit_once("X-Amz-Signature=").unwrap().1.to_owned();
    let get_again = sendfile_core::plan(&config, &request, &Request::new(Method::Get)).unwrap();
    let get_again = get_again
        .header("X-Accel-Redirect")
        .unwrap()
        .value_str()
        .unwrap()
        .to_owned();
    // Same second: same GET signature; HEAD differs. (Retry once across a second boundary.)
    if sig(accel) == sig(&get_again) {
        assert_ne!(sig(accel), sig(head_accel));
    }
}

#[test]
fn redirect_plan_signs_the_name_in_and_is_not_cacheable() {
    let config = Config::builder(Backend::Redirect)
        .object_store(s3_store().expires(Duration::from_secs(45)))
        .build()
        .unwrap();
    let mut request = FileRequest::new("reports/q3.pdf");
    request.filename = Some("Q3 résumé.pdf".into());
    let plan = sendfile_core::plan(&config, &request, &Request::new(Method::Get)).unwrap();
    assert_eq!(plan.status, 307);
    assert_eq!(
        plan.header("Cache-Control").unwrap().value,
        b"private, no-store"
    );
    assert!(plan.header("Content-Disposition").is_none());
    let location = plan.header("Location").unwrap().value_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:9000/protected/files/reports/q3.pdf?"),
        "{location}"
    );
    assert!(location.contains("X-Amz-Expires=45&"), "{location}");
    assert!(
        location.contains("response-content-type=application%2Fpdf"),
        "{location}"
    );
    assert!(
        location.contains("response-content-disposition=inline%3B%20filename%3D%22Q3%20r"),
        "{location}"
    );
    assert!(!location.contains(SECRET));
}

#[test]
fn keys_outside_the_prefix_are_404_and_nothing_is_signed() {
    #[derive(Debug)]
    struct Panics;
    impl Presigner for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn presign(&self, _: &PresignRequest<'_>) -> Result<PresignedUrl, Error> {
            panic!("signed a refused key")
        }
    }
    let config = Config::builder(Backend::Redirect)
        .object_store(ObjectStore::new(Panics).prefix("t/a"))
        .build()
        .unwrap();
    for bad in ["../b/x", "/t/a/x", "a//b", "a/./b", "x\r\ny", "", "a/.."] {
        let err = sendfile_core::plan(&config, &FileRequest::new(bad), &Request::new(Method::Get))
            .unwrap_err();
        assert_eq!(err.status(), 404, "{bad:?}");
    }
    // A per-request backend that cannot send from a bucket: a configuration error, not a 404.
    let mut request = FileRequest::new("x");
    request.backend = Some(Backend::XSendfile);
    let err = sendfile_core::plan(&config, &request, &Request::new(Method::Get)).unwrap_err();
    assert_eq!(err.status(), 500);
}

#[test]
fn resolve_gives_the_key_below_the_prefix() {
    let config = Config::builder(Backend::Redirect)
        .object_store(s3_store())
        .build()
        .unwrap();
    let file = sendfile_core::resolve(&config, &FileRequest::new("users/alice/notes.txt")).unwrap();
    assert_eq!(file.relative_path().to_str(), Some("users/alice/notes.txt"));
    assert_eq!(file.path().to_str(), Some("files/users/alice/notes.txt"));
    assert!(file.metadata().is_none() && file.file().is_none());
}

/// A CDN-style backend written outside the crate: redirects, learns the method.
#[derive(Debug)]
struct Cdn;

impl CustomBackend for Cdn {
    fn name(&self) -> &str {
        "cdn"
    }
    fn headers(&self, _: &ResolvedFile) -> Result<Vec<Header>, Error> {
        unreachable!("respond is overridden")
    }
    fn respond(&self, file: &ResolvedFile, method: Method) -> Result<Offload, Error> {
        let url = format!(
            "https://cdn.example/{}?m={method:?}",
            file.relative_path().display()
        );
        Ok(Offload::redirect(302, url))
    }
    fn sends_objects(&self) -> bool {
        true
    }
    fn respond_object(&self, object: &ObjectRequest<'_>) -> Result<Offload, Error> {
        let url = object.presign_with_overrides()?;
        let mut o = Offload::redirect(303, url.to_string());
        o.headers
            .push(Header::new("Cache-Control", "private, max-age=10"));
        Ok(o)
    }
}

#[test]
fn custom_backends_learn_the_method_and_may_redirect() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.txt"), b"x").unwrap();
    let config = Config::builder(Backend::custom(Cdn))
        .root(dir.path())
        .build()
        .unwrap();
    let plan = sendfile_core::plan(
        &config,
        &FileRequest::new("f.txt"),
        &Request::new(Method::Head),
    )
    .unwrap();
    assert_eq!(plan.status, 302);
    assert_eq!(
        plan.header("Location").unwrap().value,
        b"https://cdn.example/f.txt?m=Head"
    );
    assert_eq!(
        plan.header("Cache-Control").unwrap().value,
        b"private, no-store"
    );

    let config = Config::builder(Backend::custom(Cdn))
        .object_store(s3_store())
        .build()
        .unwrap();
    let plan = sendfile_core::plan(
        &config,
        &FileRequest::new("f.txt"),
        &Request::new(Method::Get),
    )
    .unwrap();
    assert_eq!(plan.status, 303);
    assert!(
        plan.header("Location")
            .unwrap()
            .value_str()
            .unwrap()
            .contains("response-content-disposition")
    );
    assert_eq!(
        plan.header("Cache-Control").unwrap().value,
        b"private, max-age=10"
    );

    // A status that is neither 200 nor a redirect, or a redirect without Location: refused.
    #[derive(Debug)]
    struct Bad(u16, bool);
    impl CustomBackend for Bad {
        fn name(&self) -> &str {
            "bad"
        }
        fn headers(&self, _: &ResolvedFile) -> Result<Vec<Header>, Error> {
            Ok(vec![])
        }
        fn respond(&self, _: &ResolvedFile, _: Method) -> Result<Offload, Error> {
            let headers = if self.1 {
                vec![Header::new("Location", "/x")]
            } else {
                vec![]
            };
            let mut offload = Offload::new(headers);
            offload.status = self.0;
            Ok(offload)
        }
    }
    for bad in [
        Bad(500, true),
        Bad(302, false),
        Bad(200, false),
        Bad(307, true),
    ] {
        let ok = bad.0 == 307;
        let config = Config::builder(Backend::custom(bad))
            .root(dir.path())
            .build()
            .unwrap();
        let res = sendfile_core::plan(
            &config,
            &FileRequest::new("f.txt"),
            &Request::new(Method::Get),
        );
        assert_eq!(res.is_ok(), ok, "{res:?}");
    }
    // A custom backend that does not send objects cannot be configured with a bucket.
    #[derive(Debug)]
    struct Local;
    impl CustomBackend for Local {
        fn name(&self) -> &str {
            "local"
        }
        fn headers(&self, _: &ResolvedFile) -> Result<Vec<Header>, Error> {
            Ok(vec![Header::new("X-Local", "1")])
        }
    }
    let err = Config::builder(Backend::custom(Local))
        .object_store(s3_store())
        .build()
        .unwrap_err();
    assert_eq!(err.setting, "SENDFILE_BACKEND");
}
