//! The handler keeps its visibility, attributes, doc comments, generics, `where` clause and
//! argument patterns; its body keeps `?` and `return` for its own return type.

use std::collections::HashMap;
use std::marker::PhantomData;

use actix_web::{App, ResponseError, web};
use sendfile_actix::{SendFile, protected_file};

#[derive(Debug)]
pub struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl ResponseError for MyError {}

impl From<std::num::ParseIntError> for MyError {
    fn from(_: std::num::ParseIntError) -> Self {
        MyError
    }
}

/// A local alias shadowing the prelude's `Result`.
type Result<T> = std::result::Result<T, MyError>;

pub mod handlers {
    use super::*;

    /// Documented, public, generic, with a `where` clause.
    #[must_use = "futures do nothing unless awaited"]
    #[allow(clippy::needless_pass_by_value)]
    #[protected_file(allow = T::default() == T::default())]
    pub async fn generic<T>(
        web::Query(params): web::Query<HashMap<String, String>>,
        (first, mut second): (web::Path<String>, web::Path<String>),
    ) -> Result<SendFile>
    where
        T: Default + PartialEq + 'static,
    {
        #![allow(unused_mut)]
        let version: u32 = params.get("v").map_or("1", String::as_str).parse()?;
        if version == 0 {
            return Err(MyError);
        }
        second = web::Path::from(format!("{first}/{second}"));
        Ok(SendFile::new(second.into_inner()))
    }

    pub(crate) struct Files<T>(PhantomData<T>);

    impl<T> Files<T> {
        /// An associated function (no receiver) using `Self`.
        #[protected_file(allow = Self::open())]
        pub(crate) async fn associated(name: web::Path<String>) -> actix_web::Result<SendFile> {
            Ok(SendFile::new(name.into_inner()))
        }

        fn open() -> bool {
            true
        }
    }
}

/// The generated code's own names do not clash with the handler's.
#[protected_file(allow = !__sendfile_req.is_empty() && !req.is_empty())]
async fn hygiene(
    __sendfile_req: web::Path<String>,
    req: web::Query<HashMap<String, String>>,
) -> SendFile {
    let __sendfile_file = __sendfile_req.into_inner();
    SendFile::new(__sendfile_file)
}

/// Two attributes stack: the outer one guards the inner one's handler.
#[protected_file(allow = true, denied_status = 404u16)]
#[protected_file(check = ok)]
async fn stacked() -> SendFile {
    SendFile::new("a.txt")
}

async fn ok(_: &actix_web::HttpRequest, _: &sendfile_actix::ResolvedSendFile) -> bool {
    true
}

fn main() {
    let _ = App::new()
        .route(
            "/g/{first}/{second}",
            web::get().to(handlers::generic::<u8>),
        )
        .route(
            "/a/{name}",
            web::get().to(handlers::Files::<()>::associated),
        )
        .route("/h/{name}", web::get().to(hygiene))
        .route("/s", web::get().to(stacked));
}
