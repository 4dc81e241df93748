//! Limits on the bodies the in-process backends stream: how many at once, and how long one may
//! go without progress.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The default send timeout, nginx's `send_timeout`.
pub(crate) const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// The count of streams in progress, shared by a [`Config`](crate::Config) and its clones, with
/// an optional cap (`SENDFILE_MAX_STREAMS`).
///
/// ```
/// use sendfile_core::StreamSlots;
/// let slots = StreamSlots::new(Some(1));
/// let first = slots.try_acquire().unwrap();
/// assert!(slots.try_acquire().is_none());
/// assert_eq!(slots.in_use(), 1);
/// drop(first);
/// assert!(slots.try_acquire().is_some());
/// ```
#[derive(Debug, Default)]
pub struct StreamSlots {
    max: Option<usize>,
    in_use: AtomicUsize,
}

impl StreamSlots {
    /// A counter with at most `max` streams at once (`None`: no cap).
    pub fn new(max: Option<usize>) -> Arc<StreamSlots> {
        Arc::new(StreamSlots {
            max,
            in_use: AtomicUsize::new(0),
        })
    }

    /// The cap, if any.
    pub fn max(&self) -> Option<usize> {
        self.max
    }

    /// How many streams hold a permit now.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// A permit for one more stream, released when dropped; `None` when the cap is reached.
    pub fn try_acquire(self: &Arc<Self>) -> Option<StreamPermit> {
        let max = self.max.unwrap_or(usize::MAX);
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamPermit {
                slots: Arc::clone(self),
            })
    }
}

/// One stream's place under the cap of [`StreamSlots`]; the place is given back when this is
/// dropped (the stream ended, failed, or the client went away).
pub struct StreamPermit {
    slots: Arc<StreamSlots>,
}

impl fmt::Debug for StreamPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamPermit")
            .field("in_use", &self.slots.in_use())
            .field("max", &self.slots.max)
            .finish()
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.slots.in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Parses a duration setting: whole seconds (`60`), or a number with a unit `ms`, `s`, `m`
/// (`500ms`, `1.5s`, `2m`).
///
pub(crate) fn parse_duration(value: &str) -> Option<Duration> {
    let v = value.trim();
    let (number, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else {
        (v, 1.0)
    };
    let n: f64 = number.trim().parse().ok()?;
    Duration::try_from_secs_f64(n * scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_seconds_or_with_a_unit() {
        assert_eq!(parse_duration("60"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("soon"), None);
    }
}
