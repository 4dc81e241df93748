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
/// with [`send_timeout_on_connect`]: a connection that has carried more than the kernel's
/// buffers can hold belongs to a client that reads, and gets larger chunks from then on.
pub(crate) struct ConnProgress(pub(crate) Rc<Cell<u64>>);

/// A function for [`HttpServer::on_connect`] that makes the kernel close a connection whose
/// client has taken no data for `timeout` (Linux: `TCP_USER_TIMEOUT`; elsewhere it does
/// nothing). Give it the same value as
/// [`SendFileConfig::send_timeout`](crate::SendFileConfig::send_timeout).
///
/// The send timeout of a streamed body closes the file when the client stops taking data, but
/// actix-web polls a body only while its write buffer has room: a client that takes nothing
/// at all would keep its socket (and about 32 KiB plus one chunk of buffer) until it goes
/// away. With this, the kernel ends such a connection after `timeout`, and actix-web drops
/// everything that belonged to it. It applies to every response on the connection, and only
/// while data waits to be sent: idle keep-alive connections are not affected.
///
/// It also lets downloads count what their connection has carried: chunks start at 16 KiB,
/// so that a client that stops reading pins little, and grow to 128 KiB once the client has
/// taken more than the kernel's socket buffers can hold. Without it, each download starts
/// over; with it, the later downloads of a keep-alive connection start large.
///
/// ```
/// use std::time::Duration;
/// use actix_web::{App, HttpServer};
/// use sendfile_actix::{Backend, SendFileConfig, send_timeout_on_connect};
///
/// # let dir = tempfile::tempdir().unwrap();
/// let timeout = Duration::from_secs(60);
/// let config = SendFileConfig::new(Backend::Simple).root(dir.path()).send_timeout(timeout);
/// let server = HttpServer::new(move || App::new().app_data(config.clone()))
///     .on_connect(send_timeout_on_connect(timeout));
/// # drop(server);
/// ```
///
/// [`HttpServer::on_connect`]: actix_web::HttpServer::on_connect
pub fn send_timeout_on_connect(
    timeout: Duration,
) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + Clone + 'static {
    let millis = u32::try_from(timeout.as_millis())
        .unwrap_or(u32::MAX)
        .max(1);
    move |conn: &dyn Any, ext: &mut Extensions| {
        ext.insert(ConnProgress(Rc::new(Cell::new(0))));
        #[cfg(target_os = "linux")]
        if let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>()
            && let Err(e) = rustix::net::sockopt::set_tcp_user_timeout(stream, millis)
        {
            log::debug!("sendfile: TCP_USER_TIMEOUT not set: {e}");
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (conn, millis);
    }
}
