//! The command line of the benchmark servers: `<root> [port]`, the port also from `BENCH_PORT`.

use std::io;
use std::path::PathBuf;

/// The root and the port from the command line (`name` for the usage line), `default_port`
/// when neither the command line nor `BENCH_PORT` gives one.
pub(crate) fn root_and_port(name: &str, default_port: u16) -> io::Result<(PathBuf, u16)> {
    let mut args = std::env::args_os().skip(1);
    let root = PathBuf::from(args.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("usage: {name} <root> [port]"),
        )
    })?);
    let port: u16 = match args.next().map(|p| p.into_string()) {
        Some(Ok(p)) => p.parse().map_err(io::Error::other)?,
        Some(Err(_)) => return Err(io::Error::other("the port is not UTF-8")),
        None => std::env::var("BENCH_PORT")
            .ok()
            .map_or(Ok(default_port), |p| p.parse())
            .map_err(io::Error::other)?,
    };
    Ok((root, port))
}
