//! A logger for tests that keeps every record, with its thread, level and target, for the test
//! to read back. Installed once per test binary (the `log` crate takes one logger per process).
//! Each test binary that includes it uses a part.
#![allow(dead_code)]

use std::sync::{Mutex, Once};
use std::thread::ThreadId;

/// One record as written.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) thread: ThreadId,
    pub(crate) level: log::Level,
    pub(crate) target: String,
    pub(crate) text: String,
}

static LINES: Mutex<Vec<Line>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LINES.lock().unwrap().push(Line {
            thread: std::thread::current().id(),
            level: record.level(),
            target: record.target().to_owned(),
            text: record.args().to_string(),
        });
    }
    fn flush(&self) {}
}

/// Installs the capturing logger at `level`, once per process (later calls change nothing).
pub(crate) fn install(level: log::LevelFilter) {
    static CAPTURE: Capture = Capture;
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&CAPTURE).unwrap();
        log::set_max_level(level);
    });
}

/// Every record written since the last call, by any thread and target.
pub(crate) fn take_all() -> Vec<Line> {
    std::mem::take(&mut *LINES.lock().unwrap())
}

/// The records of `sendfile*` targets written by this thread since the last call, as
/// (level, text): each test serves on its own thread, so it reads only its own records.
pub(crate) fn take_mine() -> Vec<(log::Level, String)> {
    let me = std::thread::current().id();
    let mut lines = LINES.lock().unwrap();
    let (mine, others): (Vec<Line>, Vec<Line>) = std::mem::take(&mut *lines)
        .into_iter()
        .partition(|line| line.thread == me);
    *lines = others;
    mine.into_iter()
        .filter(|line| line.target.starts_with("sendfile"))
        .map(|line| (line.level, line.text))
        .collect()
}
