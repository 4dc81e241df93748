//! The `#[protected_file]` attribute of [sendfile-actix].
//!
//! Use it through `sendfile_actix::protected_file` (the default `macros`
//! feature of sendfile-actix); this crate is an implementation detail whose
//! generated code calls into sendfile-actix by absolute path, so a crate
//! using the attribute depends on `sendfile-actix` under that name. The two
//! crates are released together with the same version.
//!
//! See [`protected_file`] for what the attribute accepts and generates.
//!
//! [sendfile-actix]: https://docs.rs/sendfile-actix

mod args;
mod expand;

/// Guards an actix-web handler that returns a `SendFile`.
///
/// ```
/// use actix_web::{HttpRequest, get, web};
/// use sendfile_actix::{ResolvedSendFile, SendFile, protected_file};
/// # struct User;
/// # impl User { fn may_read(&self, _: &str) -> bool { true } }
/// # impl actix_web::FromRequest for User {
/// #     type Error = actix_web::Error;
/// #     type Future = std::future::Ready<Result<Self, Self::Error>>;
/// #     fn from_request(_: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
/// #         std::future::ready(Ok(User))
/// #     }
/// # }
///
/// // 1. A boolean expression over the handler's own arguments, evaluated
/// //    before the body runs.
/// #[get("/files/{name}")]
/// #[protected_file(allow = user.may_read(&name))]
/// async fn download(user: User, name: web::Path<String>) -> SendFile {
///     SendFile::new(name.into_inner())
/// }
///
/// // 2. An async function that sees the request and the resolved file
/// //    (inside the configured root, symbolic links resolved). It runs after
/// //    the body returned its `SendFile` and before any header is written.
/// async fn owns_file(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
///     // ... look up who owns `file.relative_path()`, e.g. "users/alice/notes.txt" ...
/// #   let _ = (req, file);
/// #   true
/// }
///
/// #[get("/mine/{name}")]
/// #[protected_file(check = owns_file, denied_status = 404)]
/// async fn mine(name: web::Path<String>) -> Result<SendFile, actix_web::Error> {
///     Ok(SendFile::new(name.into_inner()))
/// }
///
/// let app = actix_web::App::new().service(download).service(mine);
/// # drop(app);
/// ```
///
/// More examples, served through actix-web, are in the sendfile-actix
/// documentation.
///
/// # Arguments
///
/// - `allow = <expr>`: a `bool` expression over the handler's arguments. It is
///   evaluated before the body; `false` denies the download. It may `.await`,
///   and may use `?` on errors `actix_web::Error` converts from (any
///   `ResponseError`). It runs on the same bindings as the body, so it should
///   borrow them (`&name`, `user.may_read(..)`) rather than move them.
/// - `check = <path>`: an `async fn(&HttpRequest, &ResolvedSendFile)`
///   returning `bool` or `Result<bool, E>` with `E: Into<actix_web::Error>`.
///   It is called after the body returned, with the file resolved by
///   `SendFile::resolve`: its `relative_path()` is the file's location below
///   the root with symlinks resolved, the path an application stores and
///   checks. `false` denies the download and `Err(e)` answers with `e`'s
///   response; otherwise exactly the file checked is sent. A file that cannot
///   be resolved is answered as `SendFile` itself would answer it (for
///   example 404), without calling the check. Prefer `check` over `allow`
///   whenever the decision depends on which file is sent: `allow` sees only
///   the names in the request, and a symlink inside the root can give a
///   permitted name to another file.
/// - `denied_status = <400..=599>`: the status of a denied download for this
///   handler, an integer literal checked here and made a
///   `sendfile_actix::DeniedStatus`. Without it, the `denied_status` of the
///   `SendFileConfig` in the app data is used, which defaults to 403
///   Forbidden. Either way a denial goes through the configuration's
///   `error_handler` when it has one.
///
/// At least one of `allow` and `check` is required; with both, `allow` runs
/// first and `check` only when `allow` passed.
///
/// # The handler
///
/// The handler must be an `async fn` without a `self` receiver, returning
/// `SendFile` or `Result<SendFile, E>` with any `E: Into<actix_web::Error>`.
/// Its name, visibility, attributes, doc comments, generics and `where` clause
/// are kept, and its body may use `?` and `return` as written for its own
/// return type. It works below actix-web's route attributes (`#[get(..)]`
/// written above `#[protected_file]`) and with `web::get().to(handler)`.
///
/// Front servers forward HEAD requests, which `#[get]` does not route: prefer
/// `#[route("/files/{name}", method = "GET", method = "HEAD")]` above the
/// attribute, or register the handler with `sendfile_actix::resource(path,
/// handler)` (GET and HEAD, 405 for other methods).
///
/// # What it generates
///
/// The handler gets one more, hidden, leading argument (an
/// `actix_web::HttpRequest`, which is itself an extractor) and returns
/// `Result<sendfile_actix::SendFile, actix_web::Error>`, or
/// `Result<sendfile_actix::ResolvedSendFile, actix_web::Error>` with `check`.
/// Because of that extra argument a protected handler can have at most 15
/// arguments of its own, and its documented signature shows the extra
/// argument and the changed return type. The generated code uses only the
/// public API of sendfile-actix (`SendFile::resolve` and the
/// `sendfile_actix::protected` module), so the same handler can be written by
/// hand.
#[proc_macro_attribute]
pub fn protected_file(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand::protected_file(attr.into(), item.into()).into()
}
