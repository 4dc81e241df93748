//! The configurations shipped in `deploy/` are exactly what the generator renders.
//!
//! After a change to the generator, `SENDFILE_REGENERATE=1 cargo test -p protected_downloads
//! --test shipped_deploy_files` writes them again.

use std::path::Path;

#[test]
fn shipped_deploy_files_are_generated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let regenerate = std::env::var_os("SENDFILE_REGENERATE").is_some();
    let mut stale = Vec::new();
    for (path, generated) in protected_downloads::deploy::shipped_files() {
        let file = dir.join(&path);
        if regenerate {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &generated).unwrap();
        }
        let shipped = std::fs::read_to_string(&file).unwrap_or_default();
        if shipped != generated {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "deploy/{{{}}} differ from what sendfile_actix::deploy renders; run \
         SENDFILE_REGENERATE=1 cargo test -p protected_downloads --test shipped_deploy_files \
         and commit the result (never edit them by hand)",
        stale.join(",")
    );
}

#[test]
fn every_shipped_file_is_generated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let generated: Vec<String> = protected_downloads::deploy::shipped_files()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for server in std::fs::read_dir(&dir).unwrap() {
        let server = server.unwrap();
        if !server.file_type().unwrap().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(server.path()).unwrap() {
            let name = format!(
                "{}/{}",
                server.file_name().to_string_lossy(),
                file.unwrap().file_name().to_string_lossy()
            );
            assert!(
                generated.contains(&name),
                "deploy/{name} is not produced by the generator"
            );
        }
    }
}
