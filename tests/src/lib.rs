//! End-to-end test harness: the protected_downloads app, in-process, behind a real front
//! server (nginx, Apache + mod_xsendfile, lighttpd, Caddy) started from the shipped deploy
//! templates in a temporary directory on a free loopback port.
//!
//! - [`front`]: rendering the templates and running a server.
//! - [`app`]: running the app in-process on `127.0.0.1:0`.
//! - [`http`]: a raw HTTP/1.1 client that shows exactly what the server sent.
//! - [`fixture`]: the tree of hostile file names the tests serve.
//! - [`race`]: the symlink-swap race, and a tree whose root sits below a symlink.
//! - [`readers`]: independent ZIP readers run on an archive.
//! - [`store`]: an S3-compatible store (s3s-fs) on a free loopback port, and uploads to it.

pub mod app;
pub mod fixture;
pub mod front;
pub mod http;
pub mod race;
pub mod readers;
pub mod store;
