//! The configuration the example renders for real values (`print-config`) is the one the
//! end-to-end tests run the servers with: the shipped templates, rendered with the same values.

use protected_downloads::deploy::site_for;
use sendfile_actix::deploy::Server;
use sendfile_e2e::front::{Setup, render};

const ROOT: &str = "/srv/protected_downloads/files";
const APP: &str = "127.0.0.1:8000";
const FRONT: &str = "127.0.0.1:8080";

fn server_of(setup: Setup) -> Server {
    let backend: sendfile_actix::Backend = setup.backend_name().parse().unwrap();
    Server::for_backend(&backend).unwrap()
}

fn vars(setup: Setup) -> Vec<(&'static str, String)> {
    vec![
        ("LISTEN_HOST", "127.0.0.1".into()),
        ("LISTEN_PORT", "8080".into()),
        ("APP_HOST", "127.0.0.1".into()),
        ("APP_PORT", "8000".into()),
        ("ROOT", ROOT.into()),
        ("URL", setup.url().unwrap_or("/protected").into()),
    ]
}

#[test]
fn real_values_render_what_the_tests_run() {
    for setup in Setup::ALL {
        let backend = setup.backend_name();
        let site = site_for(
            server_of(setup),
            |name| (name == "SENDFILE_BACKEND").then(|| backend.to_owned()),
            ROOT,
            APP.parse().unwrap(),
            FRONT.parse().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{setup}: {e}"));
        let (_, template) = setup.templates()[1];
        assert_eq!(site.render(), render(template, &vars(setup)), "{setup}");
    }
}
