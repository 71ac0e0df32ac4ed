//! A per-address limit on guest entries: at most N in each clock minute.
//!
//! Kept in memory, per instance: it exists to blunt scripted guessing and
//! flooding, and a whole class behind one NAT must still get in, so the
//! default is generous (120 a minute) and 0 turns it off.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses remembered before old minutes are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Default)]
pub struct RateLimiter {
    /// Per address: the minute counted and the entries in it.
    counts: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl RateLimiter {
    /// Counts one attempt from `addr` at `now` (Unix seconds); false when
    /// it is over `per_minute` (0: no limit).
    pub fn allow(&self, addr: IpAddr, now: i64, per_minute: u32) -> bool {
        if per_minute == 0 {
            return true;
        }
        let minute = now.div_euclid(60);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, (counted, _)| *counted == minute);
        }
        let entry = counts.entry(addr).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_allowance_per_minute() {
        let limiter = RateLimiter::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| limiter.allow(a, 600, 3)));
        assert!(!limiter.allow(a, 630, 3));
        assert!(limiter.allow(b, 630, 3));
        assert!(limiter.allow(a, 660, 3), "a new minute");
        assert!((0..1000).all(|_| limiter.allow(a, 700, 0)), "0 is no limit");
    }
}
