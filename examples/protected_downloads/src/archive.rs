//! "Download all": `GET /archive/{directory}` answers a ZIP of every file below that
//! directory the user may read, named relative to it (`/archive/public` for anyone,
//! `/archive/users/alice` for alice), streamed by the app whatever the backend.

use std::fmt::Write as _;

use actix_web::{HttpRequest, web};
use sendfile_actix::{Archive, ResolvedArchive, SendFileError};

use crate::{SignInRequired, SignedIn, authorize, encode_url_path, escape_html, may_download};

/// A route's error: sign in first (401), or the library's (403, 404...).
#[derive(Debug)]
pub enum ArchiveError {
    /// Anonymous, asking for a private directory.
    SignIn(SignInRequired),
    /// Refused, missing, or a configuration problem.
    SendFile(SendFileError),
}

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveError::SignIn(e) => e.fmt(f),
            ArchiveError::SendFile(e) => e.fmt(f),
        }
    }
}

impl actix_web::ResponseError for ArchiveError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            ArchiveError::SignIn(e) => e.status_code(),
            ArchiveError::SendFile(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        match self {
            ArchiveError::SignIn(e) => e.error_response(),
            ArchiveError::SendFile(e) => e.error_response(),
        }
    }
}

/// `GET /archive/{directory}` (and HEAD): the directory's files the user may read, as
/// `<last component>.zip`. The directory itself is checked first, as a download's name is
/// (anonymous and private: 401; someone else's: 403, before the filesystem is touched); then
/// each file, symlinks resolved, as a download is: a file the user may not read is left out.
pub(crate) async fn download_all(
    req: HttpRequest,
    user: SignedIn,
    dir: web::Path<String>,
) -> Result<ResolvedArchive, ArchiveError> {
    let dir = dir.into_inner();
    let dir = dir.trim_end_matches('/');
    // A file directly below the directory stands for the directory.
    if !authorize(&user, &format!("{dir}/-")).map_err(ArchiveError::SignIn)? {
        return Err(ArchiveError::SendFile(SendFileError::denied_for(&req)));
    }
    let name = dir.rsplit('/').next().unwrap_or(dir);
    let who = user.name().map(str::to_owned);
    Archive::new(format!("{name}.zip"))
        .directory(dir, "")
        .resolve(&req, move |file| {
            file.to_str()
                .is_some_and(|path| may_download(who.as_deref(), path))
        })
        .await
        .map_err(ArchiveError::SendFile)
}

/// The "Download all" buttons of the page, one per area (`(directory, label)`).
pub(crate) fn buttons(areas: &[(String, &str)]) -> String {
    let mut html = String::from("<nav class=\"download-all\">");
    for (dir, label) in areas {
        let _ = write!(
            html,
            "<a class=\"download-all\" href=\"/archive/{}\" download>Download all: {}</a> ",
            escape_html(&encode_url_path(dir)),
            escape_html(label)
        );
    }
    html.push_str("</nav>\n");
    html
}

#[cfg(test)]
mod tests {
    use actix_web::App;
    use actix_web::test as atest;
    use sendfile_actix::{Backend, SendFileConfig};

    #[actix_web::test]
    async fn archives_hold_what_the_user_may_read() {
        let root = tempfile::tempdir().unwrap();
        crate::create_sample_tree(root.path()).unwrap();
        // A link in public/ to Alice's notes: left out of the public archive for anyone.
        std::os::unix::fs::symlink(
            "../users/alice/notes.txt",
            root.path().join("public/alice-notes.txt"),
        )
        .unwrap();
        let config = SendFileConfig::builder(Backend::Simple)
            .root(root.path())
            .build()
            .unwrap();
        let app =
            atest::init_service(App::new().app_data(config).configure(crate::configure)).await;
        let get = |uri: &str, auth: Option<(&'static str, String)>| {
            let mut req = atest::TestRequest::get().uri(uri);
            if let Some(h) = auth {
                req = req.insert_header(h);
            }
            req.to_request()
        };
        let res = atest::call_service(&app, get("/archive/public", None)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/zip"
        );
        assert!(
            res.headers()
                .get("content-disposition")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("public.zip")
        );
        let zip = atest::read_body(res).await;
        assert!(zip.windows(11).any(|w| w == b"welcome.txt"));
        assert!(!zip.windows(15).any(|w| w == b"alice-notes.txt"));
        assert!(!zip.windows(13).any(|w| w == b"Alice's priva"));

        // alice:wonderland.
        let alice = || Some(("authorization", "Basic YWxpY2U6d29uZGVybGFuZA==".to_owned()));
        let res = atest::call_service(&app, get("/archive/users/alice", alice())).await;
        assert_eq!(res.status(), 200);
        let zip = atest::read_body(res).await;
        assert!(zip.windows(9).any(|w| w == b"notes.txt"));
        assert!(zip.windows(13).any(|w| w == b"Alice's priva"));
        // Someone else's, anonymous, outside the areas, out of the root.
        let res = atest::call_service(&app, get("/archive/users/bob", alice())).await;
        assert_eq!(res.status(), 403);
        let res = atest::call_service(&app, get("/archive/users/alice", None)).await;
        assert_eq!(res.status(), 401);
        let res = atest::call_service(&app, get("/archive/users", alice())).await;
        assert_eq!(res.status(), 403);
        let res = atest::call_service(&app, get("/archive/public/..", alice())).await;
        assert_eq!(res.status(), 403);
    }

    #[test]
    fn buttons_are_escaped_links() {
        let html = super::buttons(&[("users/a&b".to_owned(), "Only <you>")]);
        assert!(html.contains("href=\"/archive/users/a%26b\""), "{html}");
        assert!(html.contains("Only &lt;you&gt;"), "{html}");
    }
}
