//! `POST /upload`: a signed-in user adds a file to their own area, `users/<name>/`.
//!
//! The form (`multipart/form-data`, one field `file`) is streamed to disk, never held in
//! memory, and refused past [`Settings::upload_limit`](crate::state::Settings) (413). The
//! name is the browser's file name, checked by [`check_name`]: one plain path segment. The
//! file is written without following any symlink: `users/` and `users/<name>/` are opened
//! with `O_NOFOLLOW` below the root, the bytes go to a new hidden file created with
//! `O_CREAT|O_EXCL|O_NOFOLLOW` in that directory, which is then renamed to its name with
//! `RENAME_NOREPLACE`. A symlink planted anywhere on that way (the user's directory, or the
//! name itself) makes the upload fail instead of writing elsewhere, and an existing file is
//! never replaced (409).

use std::fs::File;
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::path::Path;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use futures_util::StreamExt as _;
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use sendfile_actix::SendFileConfig;

use crate::SignedIn;
use crate::sessions::same_origin;
use crate::state::AppState;

/// Why an upload was refused; the message says what to do.
#[derive(Debug)]
pub enum UploadError {
    /// Not signed in.
    SignInRequired,
    /// The file name is not acceptable.
    Name(String),
    /// The file is larger than the limit (bytes).
    TooLarge(u64),
    /// A file with this name exists.
    Exists(String),
    /// The form is not what the page sends.
    Form(String),
    /// The user's area cannot be written (a symlink, or an I/O error); details in the log.
    Storage(String),
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::SignInRequired => f.write_str("sign in to upload files"),
            UploadError::Name(why) => write!(f, "file name refused: {why}"),
            UploadError::TooLarge(limit) => write!(
                f,
                "the file is larger than the limit of {}",
                crate::page::human_size(*limit)
            ),
            UploadError::Exists(name) => write!(
                f,
                "a file named {name:?} is already in your area; rename the file and upload it again"
            ),
            UploadError::Form(why) => write!(f, "upload form refused: {why}"),
            UploadError::Storage(_) => f.write_str("the file could not be stored"),
        }
    }
}

impl ResponseError for UploadError {
    fn status_code(&self) -> StatusCode {
        match self {
            UploadError::SignInRequired => StatusCode::UNAUTHORIZED,
            UploadError::Name(_) | UploadError::Form(_) => StatusCode::BAD_REQUEST,
            UploadError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Exists(_) => StatusCode::CONFLICT,
            UploadError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let UploadError::Storage(detail) = self {
            log::error!("upload: {detail}");
        }
        HttpResponse::build(self.status_code())
            .content_type(ContentType::plaintext())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(format!("{self}.\n"))
    }
}

/// Checks an uploaded file's name: one path segment of 1 to 255 bytes, no `/`, `\`, control
/// character or leading `.` (no `..`, no hidden files), no leading or trailing space.
///
/// ```
/// use protected_downloads::upload::check_name;
/// assert!(check_name("report 2026.pdf").is_ok());
/// assert!(check_name("r\u{e9}sum\u{e9}.txt").is_ok());
/// assert!(check_name("../notes.txt").is_err());
/// assert!(check_name(".htaccess").is_err());
/// ```
pub fn check_name(name: &str) -> Result<(), UploadError> {
    let refuse = |why: &str| Err(UploadError::Name(why.to_owned()));
    if name.is_empty() || name.len() > 255 {
        return refuse("give the file a name of 1 to 255 bytes");
    }
    if name.contains(['/', '\\']) {
        return refuse("a name cannot contain / or \\");
    }
    if name.starts_with('.') {
        return refuse("a name cannot start with a dot");
    }
    if name.chars().any(char::is_control) {
        return refuse("a name cannot contain control characters");
    }
    if name.trim() != name {
        return refuse("a name cannot start or end with a space");
    }
    Ok(())
}

/// Opens (creating if missing) the directory `name` in `dir` without following a symlink.
fn open_dir_below(dir: &OwnedFd, name: &str) -> rustix::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Err(Errno::NOENT) => {
            match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
            rustix::fs::openat(dir, name, flags, Mode::empty())
        }
        other => other,
    }
}

/// The user's directory `root/users/<user>`, opened without following symlinks below the
/// root.
fn user_dir(root: &Path, user: &str) -> Result<OwnedFd, UploadError> {
    let storage = |what: &str, e: Errno| {
        UploadError::Storage(format!(
            "{what} below {}: {e} (a symlink there is refused)",
            root.display()
        ))
    };
    let root_fd = rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| storage("opening the root", e))?;
    let users = open_dir_below(&root_fd, "users").map_err(|e| storage("opening users/", e))?;
    open_dir_below(&users, user).map_err(|e| storage(&format!("opening users/{user}/"), e))
}

/// A new hidden file in `dir`, removed on drop unless kept.
struct Partial<'a> {
    dir: &'a OwnedFd,
    name: String,
    file: File,
    kept: bool,
}

impl<'a> Partial<'a> {
    fn create(dir: &'a OwnedFd) -> Result<Partial<'a>, UploadError> {
        let mut id = [0u8; 12];
        getrandom::fill(&mut id).map_err(|e| UploadError::Storage(format!("random name: {e}")))?;
        let name = format!(
            ".upload-{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let fd = rustix::fs::openat(
            dir,
            name.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(|e| UploadError::Storage(format!("creating {name}: {e}")))?;
        Ok(Partial {
            dir,
            name,
            file: File::from(fd),
            kept: false,
        })
    }

    /// Gives the file its `name`; never replaces an existing entry.
    fn keep(mut self, name: &str) -> Result<(), UploadError> {
        self.file
            .sync_all()
            .map_err(|e| UploadError::Storage(format!("writing {name}: {e}")))?;
        match rustix::fs::renameat_with(
            self.dir,
            self.name.as_str(),
            self.dir,
            name,
            RenameFlags::NOREPLACE,
        ) {
            Ok(()) => {
                self.kept = true;
                Ok(())
            }
            Err(Errno::EXIST) => Err(UploadError::Exists(name.to_owned())),
            Err(e) => Err(UploadError::Storage(format!("naming {name}: {e}"))),
        }
    }
}

impl Drop for Partial<'_> {
    fn drop(&mut self) {
        if !self.kept {
            let _ = rustix::fs::unlinkat(self.dir, self.name.as_str(), AtFlags::empty());
        }
    }
}

/// `POST /upload`: stores the form's `file` in the signed-in user's area and goes to `/`.
pub(crate) async fn upload(
    req: HttpRequest,
    user: SignedIn,
    mut form: Multipart,
) -> Result<HttpResponse, actix_web::Error> {
    same_origin(&req)?;
    let Some(user) = user.0 else {
        return Err(UploadError::SignInRequired.into());
    };
    let state = AppState::of(&req)?;
    let limit = state.settings.upload_limit;
    let config = SendFileConfig::from_req(&req)?;
    let Some(root) = config.core().root_path() else {
        return Err(UploadError::Form("this app serves files from a bucket".to_owned()).into());
    };
    let mut stored = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| UploadError::Form(e.to_string()))?;
        if field.name() != Some("file") || stored.is_some() {
            return Err(UploadError::Form("send one field named file".to_owned()).into());
        }
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned)
            .ok_or_else(|| UploadError::Form("the file field has no file name".to_owned()))?;
        check_name(&name)?;
        let dir = user_dir(root, &user.name)?;
        let mut partial = Partial::create(&dir)?;
        let mut size = 0u64;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| UploadError::Form(e.to_string()))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(UploadError::TooLarge(limit).into());
            }
            partial
                .file
                .write_all(&chunk)
                .map_err(|e| UploadError::Storage(format!("writing {name}: {e}")))?;
        }
        partial.keep(&name)?;
        stored = Some((name, size));
    }
    let Some((name, size)) = stored else {
        return Err(UploadError::Form("choose a file to upload".to_owned()).into());
    };
    state
        .db
        .add_file(&user, &name, size, crate::db::now())
        .map_err(|e| UploadError::Storage(e.to_string()))?;
    log::info!("upload: {} stored {name:?} ({size} bytes)", user.name);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "photo.png", "pic.svg", "a b.txt", "日本.txt", "x..y"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "..\\x",
            "a/b",
            ".hidden",
            " lead",
            "trail ",
            "nul\0",
            "line\nbreak",
            &"x".repeat(256),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
