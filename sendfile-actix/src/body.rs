//! The streamed body of the in-process backends: segments of an open file, read in chunks, so
//! memory stays constant whatever the file size.
//!
//! Strategy, chosen by measurement (`scripts/bench-streaming`, results in `BENCHMARKS.md`):
//! chunks of [`CHUNK_SIZE`] read with positioned reads on actix's blocking thread pool, except
//! that a segment of at most [`INLINE_READ_MAX`] bytes is read at once on the worker. Small
//! reads from the page cache cost less than the hand-off to the pool, and a body that is ready
//! in the same poll as the headers goes out in the same write: with the default socket options
//! (Nagle's algorithm on) a body that follows the headers a moment later waits for the client's
//! delayed ACK, which caps a keep-alive connection at a few dozen small responses a second.

use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_web::rt::task::{JoinHandle, spawn_blocking};
use bytes::Bytes;
use futures_core::Stream;
use sendfile_core::engine::Segment;

/// Bytes read per blocking call. 64 KiB (actix-files' size) spends more time in hand-offs to
/// the pool; 1 MiB was a little faster on a 100 MiB file but doubled the peak memory under two
/// concurrent downloads.
pub(crate) const CHUNK_SIZE: u64 = 256 * 1024;

/// A file segment (what is left of it) of at most this many bytes is read on the worker
/// thread, without the blocking pool.
pub(crate) const INLINE_READ_MAX: u64 = 64 * 1024;

/// A stream over the planned segments of an open file.
pub(crate) struct FileStream {
    file: Arc<File>,
    segments: VecDeque<Segment>,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
}

impl FileStream {
    pub(crate) fn new(file: File, segments: Vec<Segment>) -> Self {
        FileStream {
            file: Arc::new(file),
            segments: segments.into(),
            pending: None,
        }
    }
}

impl Stream for FileStream {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(handle) = this.pending.as_mut() {
                let result = ready!(Pin::new(handle).poll(cx));
                this.pending = None;
                return Poll::Ready(Some(match result {
                    Ok(Ok(bytes)) => Ok(bytes),
                    Ok(Err(e)) => Err(e.into()),
                    Err(e) => Err(io::Error::other(e.to_string()).into()),
                }));
            }
            match this.segments.front_mut() {
                None => return Poll::Ready(None),
                Some(Segment::Bytes(bytes)) => {
                    let bytes = std::mem::take(bytes);
                    this.segments.pop_front();
                    return Poll::Ready(Some(Ok(Bytes::from(bytes))));
                }
                Some(Segment::File { len: 0, .. }) => {
                    this.segments.pop_front();
                }
                Some(Segment::File { offset, len }) => {
                    let inline = *len <= INLINE_READ_MAX;
                    let n = (*len).min(CHUNK_SIZE);
                    let at = *offset;
                    *offset += n;
                    *len -= n;
                    if inline {
                        // The whole rest of the segment, and small: read it now.
                        return Poll::Ready(Some(read_at(&this.file, at, n).map_err(Into::into)));
                    }
                    let file = Arc::clone(&this.file);
                    this.pending = Some(spawn_blocking(move || read_at(&file, at, n)));
                }
            }
        }
    }
}

/// Reads exactly `len` bytes at `offset`; a file that shrank is an error (the Content-Length
/// already sent cannot be honoured, so the connection must be cut rather than padded).
fn read_at(file: &File, offset: u64, len: u64) -> io::Result<Bytes> {
    let len = usize::try_from(len).map_err(io::Error::other)?;
    let mut buf = vec![0u8; len];
    read_exact_at(file, &mut buf, offset)?;
    Ok(Bytes::from(buf))
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
