//! Protection of a server that streams files itself: the overload log, and the socket side of
//! the send timeout.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::Extensions;

/// At most one overload line per this many seconds.
const LOG_EVERY_SECS: u64 = 10;

static LAST_LOG: AtomicU64 = AtomicU64::new(0);
static SUPPRESSED: AtomicU64 = AtomicU64::new(0);

/// Logs a 503 for lack of descriptors or stream places: a warning at most every
/// [`LOG_EVERY_SECS`] seconds, saying how many were not logged since.
pub(crate) fn log_overloaded(error: &sendfile_core::Error) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_LOG.load(Ordering::Relaxed);
    if now >= last + LOG_EVERY_SECS
        && LAST_LOG
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        let others = SUPPRESSED.swap(0, Ordering::AcqRel);
        if others > 0 {
            log::warn!(
                "sendfile: 503: {error} ({others} more since the last such line, not logged)"
            );
        } else {
            log::warn!("sendfile: 503: {error}");
        }
    } else {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a connection has carried in streamed file bodies, counted when the server was set up
/// with [`on_connect`]: a connection that has carried more than the kernel's
/// buffers can hold belongs to a client that reads, and gets larger chunks from then on.
pub(crate) struct ConnProgress(pub(crate) Rc<Cell<u64>>);

/// Connection set-up for a server that streams files itself: a function for
/// [`HttpServer::on_connect`]. Give it the same value as
/// [`SendFileConfigBuilder::send_timeout`](crate::SendFileConfigBuilder::send_timeout).
///
/// On Linux, for every accepted TCP connection:
///
/// - `TCP_USER_TIMEOUT = send_timeout`: the kernel ends a connection whose client has taken no
///   data for that long. The send timeout of a streamed body closes the file when the client
///   stops taking data, but actix-web polls a body only while its write buffer has room, so a
///   client that takes nothing at all would otherwise keep its socket (and about 32 KiB plus
///   one chunk of buffer) until it goes away. It applies only while data waits to be sent:
///   idle keep-alive connections are not affected.
/// - `TCP_NODELAY`, as nginx's `tcp_nodelay on` (its default): a download's first chunks are
///   small (16 KiB, so that a client that stops reading pins little), and with Nagle's
///   algorithm a write smaller than a segment can wait for the client's delayed ACK, up to
///   200 ms on a busy host. (`HttpServer::tcp_nodelay(true)` does the same for every
///   connection.)
/// - A count of what the connection has carried, so that the later downloads of a keep-alive
///   connection start with large chunks once the client has shown it reads.
///
/// Elsewhere it only keeps the count. What a server without it gets instead: the guide's
/// section "What a deployment should do, and what changes without `on_connect`".
///
/// ```
/// use std::time::Duration;
/// use actix_web::{App, HttpServer};
/// use sendfile_actix::{Backend, SendFileConfig};
///
/// # let dir = tempfile::tempdir().unwrap();
/// let timeout = Duration::from_secs(60);
/// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).send_timeout(timeout).build().unwrap();
/// let server = HttpServer::new(move || App::new().app_data(config.clone()))
///     .on_connect(sendfile_actix::on_connect(timeout));
/// # drop(server);
/// ```
///
/// [`HttpServer::on_connect`]: actix_web::HttpServer::on_connect
pub fn on_connect(
    send_timeout: Duration,
) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + Clone + 'static {
    let millis = u32::try_from(send_timeout.as_millis())
        .unwrap_or(u32::MAX)
        .max(1);
    move |conn: &dyn Any, ext: &mut Extensions| {
        ext.insert(ConnProgress(Rc::new(Cell::new(0))));
        #[cfg(target_os = "linux")]
        if let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            use rustix::net::sockopt;
            if let Err(e) = sockopt::set_tcp_user_timeout(stream, millis) {
                log::debug!("sendfile: TCP_USER_TIMEOUT not set: {e}");
            }
            if let Err(e) = stream.set_nodelay(true) {
                log::debug!("sendfile: TCP_NODELAY not set: {e}");
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (conn, millis);
    }
}
