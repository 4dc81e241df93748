//! The sign-in throttle: failed password checks counted per account and per client address,
//! in fixed windows, in tables of bounded size.
//!
//! An account with [`Limits::per_account`] failures in a window, or an address with
//! [`Limits::per_address`], is refused (429, `Retry-After`) until the window ends, before any
//! password is checked, so a guesser costs neither an Argon2 hash nor a database read. A
//! success clears the account's count. Each table holds at most [`Limits::entries`] keys:
//! when it is full, ended windows are dropped first, then the oldest.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use protected_downloads::throttle::{Limits, Throttle};
//!
//! let throttle = Throttle::new(Limits { per_account: 2, ..Limits::default() });
//! let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
//! assert!(throttle.check("alice", ip).is_ok());
//! throttle.failed("alice", ip);
//! throttle.failed("alice", ip);
//! assert!(throttle.check("alice", ip).is_err());
//! assert!(throttle.check("bob", ip).is_ok());
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much the throttle allows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures per account and window (default 5).
    pub per_account: u32,
    /// Failures per client address (an IPv6 /64) and window (default 20).
    pub per_address: u32,
    /// The window (default 15 minutes).
    pub window: Duration,
    /// Keys per table (default 10,000: about 1 MB each at most).
    pub entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
            entries: 10_000,
        }
    }
}

/// Failures of one key in the current window.
#[derive(Debug, Clone, Copy)]
struct Count {
    since: Instant,
    failures: u32,
}

/// A table of counts with at most `entries` keys.
#[derive(Debug)]
struct Table<K> {
    counts: HashMap<K, Count>,
}

impl<K: std::hash::Hash + Eq + Clone> Table<K> {
    /// The failures of `key` in its current window, and when that window ends.
    fn failures(&self, key: &K, window: Duration, now: Instant) -> (u32, Instant) {
        match self.counts.get(key) {
            Some(c) if now < c.since + window => (c.failures, c.since + window),
            _ => (0, now),
        }
    }

    fn add(&mut self, key: &K, limits: &Limits, now: Instant) {
        if !self.counts.contains_key(key) && self.counts.len() >= limits.entries {
            self.counts.retain(|_, c| now < c.since + limits.window);
            if self.counts.len() >= limits.entries
                && let Some(oldest) = self
                    .counts
                    .iter()
                    .min_by_key(|(_, c)| c.since)
                    .map(|(k, _)| k.clone())
            {
                self.counts.remove(&oldest);
            }
        }
        let count = self.counts.entry(key.clone()).or_insert(Count {
            since: now,
            failures: 0,
        });
        if now >= count.since + limits.window {
            *count = Count {
                since: now,
                failures: 0,
            };
        }
        count.failures = count.failures.saturating_add(1);
    }
}

/// The throttle (app data, shared by all workers).
#[derive(Debug)]
pub struct Throttle {
    limits: Limits,
    tables: Mutex<(Table<String>, Table<IpAddr>)>,
}

/// The client must wait this long before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

/// The key of an address: IPv4 as is, IPv6 by its /64 (one host usually has a whole /64).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::from(octets)
            }
        },
        v4 => v4,
    }
}

impl Throttle {
    /// A throttle with `limits`.
    pub fn new(limits: Limits) -> Throttle {
        Throttle {
            limits,
            tables: Mutex::new((
                Table {
                    counts: HashMap::new(),
                },
                Table {
                    counts: HashMap::new(),
                },
            )),
        }
    }

    /// Whether `account` may be tried from `ip` now.
    pub fn check(&self, account: &str, ip: IpAddr) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let (by_account, until_account) =
            tables
                .0
                .failures(&account.to_owned(), self.limits.window, now);
        let (by_address, until_address) =
            tables.1.failures(&address_key(ip), self.limits.window, now);
        let mut until = None;
        if by_account >= self.limits.per_account {
            until = Some(until_account);
        }
        if by_address >= self.limits.per_address {
            until = until.max(Some(until_address));
        }
        match until {
            Some(t) => Err(RetryAfter(t.saturating_duration_since(now))),
            None => Ok(()),
        }
    }

    /// Counts a failed password check of `account` from `ip`.
    pub fn failed(&self, account: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.0.add(&account.to_owned(), &self.limits, now);
        tables.1.add(&address_key(ip), &self.limits, now);
    }

    /// Clears the count of `account` after a successful sign-in.
    pub fn succeeded(&self, account: &str) {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.0.counts.remove(account);
    }

    /// How many keys the two tables hold.
    pub fn len(&self) -> usize {
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.0.counts.len() + tables.1.counts.len()
    }

    /// Whether both tables are empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn per_account_and_per_address() {
        let t = Throttle::new(Limits {
            per_account: 3,
            per_address: 5,
            ..Limits::default()
        });
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        for _ in 0..3 {
            assert!(t.check("alice", a).is_ok());
            t.failed("alice", a);
        }
        // The account is locked from every address.
        let wait = t.check("alice", b).unwrap_err();
        assert!(wait.0 > Duration::from_secs(14 * 60), "{wait:?}");
        // One address trying many accounts is stopped too.
        t.failed("bob", a);
        t.failed("carol", a);
        assert!(t.check("dave", a).is_err());
        assert!(t.check("dave", b).is_ok());
        // A success clears the account, not the address.
        t.succeeded("alice");
        assert!(t.check("alice", b).is_ok());
        assert!(t.check("alice", a).is_err());
    }

    #[test]
    fn ipv6_counts_by_prefix() {
        let t = Throttle::new(Limits {
            per_address: 2,
            ..Limits::default()
        });
        let one = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1));
        let two = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0xffff, 0, 0, 2));
        let other = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
        t.failed("x", one);
        t.failed("y", two);
        assert!(t.check("z", one).is_err());
        assert!(t.check("z", other).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let t = Throttle::new(Limits {
            entries: 100,
            ..Limits::default()
        });
        for i in 0..10_000u32 {
            t.failed(&format!("user{i}"), IpAddr::V4(Ipv4Addr::from(i)));
        }
        assert_eq!(t.len(), 200);
        // The newest keys are kept.
        t.failed("user9999", IpAddr::V4(Ipv4Addr::from(9999)));
        assert!(t.len() <= 200);
    }
}
