//! The streamed body of the in-process backends: segments of an open file, read in chunks, so
//! memory stays constant whatever the file size, and small whatever the client does.
//!
//! Strategy, chosen by measurement (`scripts/bench-streaming`, `scripts/bench-load`, results in
//! `BENCHMARKS.md`):
//!
//! - **Chunks grow with the client.** A body is read in chunks of [`CHUNK_MIN`] until its
//!   connection has carried [`GROW_AFTER`] bytes (more than the kernel's socket buffers can
//!   hold, so the client has been reading); the chunk then doubles up to [`CHUNK_MAX`]. actix
//!   copies every chunk into its write buffer and asks for the next one while that buffer holds
//!   less than 32 KiB, so a client that stops reading pins about 32 KiB plus one chunk: 48 KiB
//!   for one that never really read, 160 KiB at most for one that stops after a fast start
//!   (and only until the send timeout). With [`crate::on_connect`] the count is
//!   per connection, so the later downloads of a keep-alive connection start large; writes of
//!   at least 64 KiB matter on loopback, where Nagle's algorithm holds back smaller segments.
//! - **Reads from the page cache happen on the worker** (Linux: `preadv2` with `RWF_NOWAIT`,
//!   which fails at once rather than wait for the disk); only a chunk that is not cached goes to
//!   actix's blocking pool. Elsewhere, a segment of at most [`INLINE_READ_MAX`] bytes is read on
//!   the worker and the rest on the pool. A body that is ready in the same poll as the headers
//!   goes out in the same write: with the default socket options (Nagle's algorithm on) a body
//!   that follows the headers a moment later waits for the client's delayed ACK.
//! - **Buffers are recycled, never zero-filled per chunk**: a chunk is a pooled buffer handed to
//!   actix as `Bytes`; actix copies it into its write buffer and drops it, which returns it to a
//!   small per-thread pool. A stalled stream holds no buffer of its own.
//! - **A send timeout** ([`ConfigBuilder::send_timeout`](sendfile_core::ConfigBuilder::send_timeout)): a
//!   watchdog task closes the file and gives back the stream's place under
//!   `SENDFILE_MAX_STREAMS` when the client has taken nothing for that long, and the stream
//!   fails at its next poll, so actix closes the connection. actix only polls a body while its
//!   write buffer has room, so a client that takes nothing at all keeps its socket until the
//!   kernel gives up on it: [`crate::on_connect`] has the kernel do that after the
//!   same time (`TCP_USER_TIMEOUT`).
//! - **Reads are exact**: a file that shrinks under the stream (truncated, or rewritten in
//!   place) is an error, so actix closes the connection before the announced Content-Length;
//!   nothing is ever padded, and the connection is not reused. A file deleted or renamed over
//!   is still read through the open descriptor: the client gets the whole old file, which is
//!   what the headers (length, ETag) describe.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use actix_web::rt::task::{JoinHandle, spawn_blocking};
use bytes::Bytes;
use futures_core::Stream;
use sendfile_core::StreamPermit;
use sendfile_core::engine::Segment;

/// The first chunk of a body.
pub(crate) const CHUNK_MIN: usize = 16 * 1024;

/// The largest chunk: what a client that stops reading after a fast start pins, on top of
/// actix's 32 KiB write buffer.
pub(crate) const CHUNK_MAX: usize = 128 * 1024;

/// Chunks stay at [`CHUNK_MIN`] until the connection has carried this much (the stream alone,
/// without [`crate::on_connect`]): more than the kernel's socket buffers can hold,
/// so a client that got this far has been reading.
pub(crate) const GROW_AFTER: u64 = 8 * 1024 * 1024;

/// Loopback without [`crate::on_connect`] (see [`StreamLimits::lead`]): a body's chunks are
/// [`CHUNK_MIN`] until it has handed this much to actix (actix's first write: its 32 KiB
/// buffer), then [`LEAD_CHUNK`] up to [`LEAD_UNTIL`].
pub(crate) const LEAD_FROM: u64 = 2 * CHUNK_MIN as u64;

/// Loopback without [`crate::on_connect`]: the chunk of a body's lead. Larger than a loopback
/// segment (64 KiB), and than actix's 128 KiB retention limit, so that actix frees its write
/// buffer after each write instead of keeping it for the rest of the connection.
pub(crate) const LEAD_CHUNK: usize = 192 * 1024;

/// Loopback without [`crate::on_connect`]: the end of a body's lead. Well under what the
/// kernel's send buffer of a new loopback connection holds (about 2.6 MB: 20 segments of
/// 64 KiB, each counted at 128 KiB), so that a client that reads nothing is refused by the
/// kernel, and leaves its last chunk in actix's write buffer, only after the lead, when the
/// chunks are small again.
pub(crate) const LEAD_UNTIL: u64 = 1024 * 1024;

/// Without `RWF_NOWAIT`: a file segment (what is left of it) of at most this many bytes is read
/// on the worker thread, without the blocking pool.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) const INLINE_READ_MAX: u64 = 64 * 1024;

/// Buffers kept per thread for reuse.
const POOL_MAX: usize = 16;

/// Limits for one stream.
pub(crate) struct StreamLimits {
    pub(crate) send_timeout: Duration,
    /// Who asked for what, for the log.
    pub(crate) request: Option<String>,
    /// The bytes carried by the connection so far, when the server counts them.
    pub(crate) conn: Option<Rc<Cell<u64>>>,
    pub(crate) permit: Option<StreamPermit>,
    /// The client is on loopback and the server does not count per connection (no
    /// [`crate::on_connect`], so Nagle's algorithm is on as well): the body's first MiB goes
    /// in chunks of [`LEAD_CHUNK`] after the first write.
    ///
    /// A loopback segment holds 64 KiB, so the usual writes of 32 KiB (actix's write buffer
    /// filled with [`CHUNK_MIN`] chunks) are all smaller than a segment, and each download
    /// would start that way: a 1 MiB download measured 0.57 of `NamedFile`'s throughput at
    /// 16 connections (BENCHMARKS.md). A client that reads nothing cannot pin a lead chunk:
    /// the kernel's buffers of a loopback connection take more than the whole lead.
    pub(crate) lead: bool,
}

/// What the stream and its watchdog share (both run on the same worker thread).
struct Shared {
    /// The file; taken out when the stream has read its last byte, or timed out.
    file: RefCell<Option<Arc<File>>>,
    permit: RefCell<Option<StreamPermit>>,
    /// When the client last took a chunk.
    progress: Cell<Instant>,
    timed_out: Cell<bool>,
    /// A read on the blocking pool is in progress: waiting for the disk is not the client's
    /// fault.
    reading: Cell<bool>,
    /// Body bytes handed to actix so far.
    sent: Cell<u64>,
    waker: RefCell<Option<Waker>>,
}

impl Shared {
    fn release(&self) {
        self.file.borrow_mut().take();
        self.permit.borrow_mut().take();
    }
}

/// A stream over the planned segments of an open file.
pub(crate) struct FileStream {
    shared: Rc<Shared>,
    send_timeout: Duration,
    request: Option<Rc<str>>,
    segments: VecDeque<Segment>,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
    watchdog: Option<JoinHandle<()>>,
    /// The size of the next read.
    chunk: usize,
    /// Bytes read so far by this stream.
    delivered: u64,
    /// Bytes sent on the connection so far, when known (see `ConnProgress`).
    conn: Option<Rc<Cell<u64>>>,
    /// See [`StreamLimits::lead`].
    lead: bool,
    #[cfg(target_os = "linux")]
    nowait: bool,
}

impl FileStream {
    pub(crate) fn new(file: File, segments: Vec<Segment>, limits: StreamLimits) -> Self {
        FileStream {
            shared: Rc::new(Shared {
                file: RefCell::new(Some(Arc::new(file))),
                permit: RefCell::new(limits.permit),
                progress: Cell::new(Instant::now()),
                timed_out: Cell::new(false),
                reading: Cell::new(false),
                sent: Cell::new(0),
                waker: RefCell::new(None),
            }),
            send_timeout: limits.send_timeout,
            request: limits.request.map(Rc::from),
            segments: segments.into(),
            pending: None,
            watchdog: None,
            chunk: CHUNK_MIN,
            delivered: 0,
            conn: limits.conn,
            lead: limits.lead,
            #[cfg(target_os = "linux")]
            nowait: true,
        }
    }

    /// Starts the watchdog, once the body is known to need more than the first poll.
    fn watch(&mut self) {
        if self.watchdog.is_some() {
            return;
        }
        let shared = Rc::clone(&self.shared);
        let timeout = self.send_timeout;
        let request = self.request.clone();
        self.watchdog = Some(actix_web::rt::spawn(async move {
            loop {
                if shared.reading.get() {
                    shared.progress.set(Instant::now());
                }
                let deadline = shared.progress.get() + timeout;
                if Instant::now() >= deadline {
                    break;
                }
                actix_web::rt::time::sleep_until(deadline.into()).await;
            }
            if shared.file.borrow().is_none() && shared.permit.borrow().is_none() {
                return;
            }
            shared.timed_out.set(true);
            shared.release();
            log::info!(
                "sendfile: send timeout: the client took nothing for {timeout:?} (SENDFILE_SEND_TIMEOUT) after {} bytes; file closed, connection closed; {}",
                shared.sent.get(),
                request.as_deref().unwrap_or("request unknown")
            );
            if let Some(waker) = shared.waker.borrow_mut().take() {
                waker.wake();
            }
        }));
    }

    fn file(&self) -> io::Result<Arc<File>> {
        self.shared
            .file
            .borrow()
            .clone()
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "send timeout"))
    }

    /// The next chunk's size, and the chunk after it grown.
    fn take_chunk(&mut self, remaining: u64) -> usize {
        let size = if self.lead && (LEAD_FROM..LEAD_UNTIL).contains(&self.delivered) {
            LEAD_CHUNK
        } else {
            self.chunk
        };
        let n = usize::try_from(remaining).map_or(size, |r| r.min(size));
        self.delivered += n as u64;
        let carried = match &self.conn {
            Some(conn) => {
                conn.set(conn.get() + n as u64);
                conn.get()
            }
            None => self.delivered,
        };
        if carried >= GROW_AFTER {
            self.chunk = (self.chunk * 2).min(CHUNK_MAX);
        }
        n
    }
}

impl Drop for FileStream {
    fn drop(&mut self) {
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.abort();
        }
    }
}

impl Stream for FileStream {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.shared.timed_out.get() {
            this.pending = None;
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "send timeout",
            )
            .into())));
        }
        // Being polled again means actix took the last chunk: the client is moving.
        this.shared.progress.set(Instant::now());
        let item = loop {
            if let Some(handle) = this.pending.as_mut() {
                let result = match Pin::new(handle).poll(cx) {
                    Poll::Pending => {
                        this.watch();
                        *this.shared.waker.borrow_mut() = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    Poll::Ready(result) => result,
                };
                this.pending = None;
                this.shared.reading.set(false);
                break match result {
                    Ok(Ok(bytes)) => Ok(bytes),
                    Ok(Err(e)) => Err(e),
                    Err(e) => Err(io::Error::other(e.to_string())),
                };
            }
            match this.segments.front_mut() {
                None => {
                    this.shared.release();
                    return Poll::Ready(None);
                }
                Some(Segment::Bytes(bytes)) => {
                    let bytes = std::mem::take(bytes);
                    this.segments.pop_front();
                    break Ok(Bytes::from(bytes));
                }
                Some(Segment::File { len: 0, .. }) => {
                    this.segments.pop_front();
                }
                Some(&mut Segment::File { offset, len }) => {
                    let file = match this.file() {
                        Ok(file) => file,
                        Err(e) => break Err(e),
                    };
                    #[cfg(target_os = "linux")]
                    if this.nowait {
                        let n = this.take_chunk(len);
                        match read_cached(&file, offset, n) {
                            Ok(bytes) => {
                                advance(&mut this.segments, bytes.len() as u64);
                                break Ok(bytes);
                            }
                            Err(Cached::No) => {}
                            Err(Cached::Unsupported) => this.nowait = false,
                            Err(Cached::Failed(e)) => break Err(e),
                        }
                        advance(&mut this.segments, n as u64);
                        this.shared.reading.set(true);
                        this.pending = Some(spawn_blocking(move || read_at(&file, offset, n)));
                        continue;
                    }
                    let inline = len <= INLINE_READ_MAX;
                    let n = this.take_chunk(len);
                    advance(&mut this.segments, n as u64);
                    if inline && n as u64 == len {
                        // The whole rest of the segment, and small: read it now.
                        break read_at(&file, offset, n);
                    }
                    this.shared.reading.set(true);
                    this.pending = Some(spawn_blocking(move || read_at(&file, offset, n)));
                }
            }
        };
        Poll::Ready(Some(match item {
            Ok(bytes) => {
                this.shared
                    .sent
                    .set(this.shared.sent.get() + bytes.len() as u64);
                if this.segments.iter().all(is_done) && this.pending.is_none() {
                    // Nothing more to read: the file is not needed while the rest is written.
                    this.shared.file.borrow_mut().take();
                } else {
                    this.watch();
                }
                Ok(bytes)
            }
            Err(e) => {
                this.shared.release();
                log::warn!("sendfile: streaming stopped: {e}");
                Err(e.into())
            }
        }))
    }
}

fn is_done(segment: &Segment) -> bool {
    matches!(segment, Segment::File { len: 0, .. })
}

/// Moves the front file segment `n` bytes on.
fn advance(segments: &mut VecDeque<Segment>, n: u64) {
    if let Some(Segment::File { offset, len }) = segments.front_mut() {
        let n = n.min(*len);
        *offset += n;
        *len -= n;
    }
}

/// A buffer from the per-thread pool; it goes back to the pool of the thread that drops it.
struct PooledBuf {
    buf: Vec<u8>,
    len: usize,
}

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

impl PooledBuf {
    /// A buffer of at least `len` initialised bytes: reused when the pool has one, zero-filled
    /// only when new.
    fn take(len: usize) -> PooledBuf {
        let reused = POOL
            .try_with(|p| p.borrow_mut().pop())
            .ok()
            .flatten()
            .filter(|b| b.len() >= len);
        let buf = reused.unwrap_or_else(|| vec![0u8; len.max(LEAD_CHUNK)]);
        PooledBuf { buf, len }
    }

    fn into_bytes(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

impl AsRef<[u8]> for PooledBuf {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        if buf.len() >= LEAD_CHUNK {
            let _ = POOL.try_with(|p| {
                let mut p = p.borrow_mut();
                if p.len() < POOL_MAX {
                    p.push(buf);
                }
            });
        }
    }
}

#[cfg(target_os = "linux")]
enum Cached {
    /// Not in the page cache: read it on the blocking pool.
    No,
    /// `RWF_NOWAIT` is not supported here.
    Unsupported,
    Failed(io::Error),
}

/// Reads up to `len` bytes at `offset` if they are in the page cache, without blocking: what
/// is cached of the range, or [`Cached::No`].
#[cfg(target_os = "linux")]
fn read_cached(file: &File, offset: u64, len: usize) -> Result<Bytes, Cached> {
    use rustix::io::{Errno, ReadWriteFlags, preadv2};
    let mut buf = PooledBuf::take(len);
    let slice = &mut buf.buf[..len];
    match preadv2(
        file,
        &mut [io::IoSliceMut::new(slice)],
        offset,
        ReadWriteFlags::NOWAIT,
    ) {
        Ok(0) => Err(Cached::Failed(shrunk())),
        Ok(n) => {
            buf.len = n;
            Ok(buf.into_bytes())
        }
        Err(Errno::AGAIN) => Err(Cached::No),
        Err(Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => Err(Cached::Unsupported),
        Err(Errno::INTR) => Err(Cached::No),
        Err(e) => Err(Cached::Failed(e.into())),
    }
}

fn shrunk() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the file is shorter than when the response started (truncated or replaced); closing the connection",
    )
}

/// Reads exactly `len` bytes at `offset`; a file that shrank is an error (the Content-Length
/// already sent cannot be honoured, so the connection must be cut rather than padded).
fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = PooledBuf::take(len);
    read_exact_at(file, &mut buf.buf[..len], offset).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            shrunk()
        } else {
            e
        }
    })?;
    Ok(buf.into_bytes())
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunks a body of `len` bytes is read in.
    fn schedule(len: u64, lead: bool) -> Vec<usize> {
        let limits = StreamLimits {
            send_timeout: Duration::from_secs(60),
            request: None,
            conn: None,
            permit: None,
            lead,
        };
        let segments = vec![Segment::File { offset: 0, len }];
        let mut stream = FileStream::new(tempfile::tempfile().unwrap(), segments, limits);
        let mut left = len;
        let mut chunks = Vec::new();
        while left > 0 {
            let n = stream.take_chunk(left);
            assert!(n > 0 && n <= LEAD_CHUNK, "chunk of {n} bytes");
            chunks.push(n);
            left -= n as u64;
        }
        chunks
    }

    const KIB: usize = 1024;
    const MIB: u64 = 1024 * 1024;

    #[test]
    fn on_loopback_the_first_mib_after_the_first_write_goes_in_lead_chunks() {
        let chunks = schedule(MIB, true);
        assert_eq!(
            chunks,
            [
                16 * KIB,
                16 * KIB,
                192 * KIB,
                192 * KIB,
                192 * KIB,
                192 * KIB,
                192 * KIB,
                32 * KIB
            ]
        );
    }

    #[test]
    fn after_the_lead_chunks_are_small_until_the_client_has_read() {
        let chunks = schedule(6 * MIB, true);
        let mut delivered = 0;
        for &n in &chunks {
            if delivered >= LEAD_UNTIL + LEAD_CHUNK as u64 {
                assert_eq!(n, CHUNK_MIN, "at {delivered}: {chunks:?}");
            }
            delivered += n as u64;
        }
    }

    #[test]
    fn elsewhere_chunks_are_small_until_the_client_has_read() {
        let chunks = schedule(MIB, false);
        assert!(chunks.iter().all(|&n| n == CHUNK_MIN), "{chunks:?}");
        let chunks = schedule(GROW_AFTER + MIB, false);
        assert_eq!(chunks[0], CHUNK_MIN);
        assert!(chunks.contains(&CHUNK_MAX), "{chunks:?}");
    }
}
