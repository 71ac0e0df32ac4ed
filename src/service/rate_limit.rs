//! Per-address limits (guest entries, LTI logins, sign-ins...): at most N
//! attempts in each clock minute.
//!
//! Kept in memory, per instance: they exist to blunt scripted guessing and
//! flooding, and a whole class behind one NAT must still get in, so the
//! defaults are generous and 0 turns a limit off.
//!
//! An IPv6 client usually holds a whole /64, so IPv6 addresses are counted
//! per /64 (IPv4-mapped ones as IPv4). Counts are only kept for the current
//! minute: a shard forgets them when its minute turns, once, instead of
//! sweeping on every call. Memory is bounded: past a number of addresses per
//! shard, further new ones in that minute are counted by their network (an
//! IPv4 /24, an IPv6 /48), and past as many networks they are let through:
//! whoever controls that many networks is not held back by a per-address
//! limit anyway, and no flood can lock everyone else out.

use crate::domain::time::Timestamp;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;

const SHARDS: usize = 16;
/// Addresses counted apart per shard and minute (about 130,000 in all).
const MOST_PER_SHARD: usize = 8 * 1024;

#[derive(Default)]
struct Shard {
    minute: i64,
    counts: HashMap<IpAddr, u32>,
    /// Addresses beyond the bound, counted by their network.
    networks: HashMap<IpAddr, u32>,
}

pub struct RateLimiter {
    hasher: RandomState,
    shards: [Mutex<Shard>; SHARDS],
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            hasher: RandomState::new(),
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
        }
    }
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimiter(..)")
    }
}

/// What one client is counted as: an IPv4 address, or an IPv6 /64.
pub fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// The network a client key belongs to: its IPv4 /24 or IPv6 /48.
fn network_key(key: IpAddr) -> IpAddr {
    match key {
        IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & 0xffff_ff00).into()),
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 80) - 1)).into()),
    }
}

impl RateLimiter {
    /// Counts one attempt from `addr` at `now`; false when
    /// it is over `per_minute` (0: no limit).
    pub fn allow(&self, addr: IpAddr, now: Timestamp, per_minute: u32) -> bool {
        if per_minute == 0 {
            return true;
        }
        let key = client_key(addr);
        let minute = now.unix().div_euclid(60);
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        let mut shard = self.shards[index].lock().unwrap_or_else(|e| e.into_inner());
        // Only a later minute starts afresh: a request that read the clock
        // just before another may still arrive after it.
        if minute > shard.minute {
            shard.minute = minute;
            shard.counts.clear();
            shard.networks.clear();
        }
        let Shard {
            counts, networks, ..
        } = &mut *shard;
        let count = if counts.len() < MOST_PER_SHARD || counts.contains_key(&key) {
            counts.entry(key).or_insert(0)
        } else {
            let network = network_key(key);
            if networks.len() >= MOST_PER_SHARD && !networks.contains_key(&network) {
                return true;
            }
            networks.entry(network).or_insert(0)
        };
        *count = count.saturating_add(1);
        *count <= per_minute
    }

    /// Addresses counted apart right now (for tests).
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).counts.len())
            .sum()
    }

    /// Counts one attempt from the client, if its address is known.
    pub fn allow_client(&self, client: Option<IpAddr>, now: Timestamp, per_minute: u32) -> bool {
        client.is_none_or(|addr| self.allow(addr, now, per_minute))
    }
}

/// Attempts per minute by a person (a key such as a user or guest session),
/// not by address: the chat's limit. Cleared when the minute turns; bounded,
/// since keys come from sessions the tool made.
#[derive(Default)]
pub struct KeyedLimiter {
    current: Mutex<(i64, HashMap<String, u32>)>,
}

impl KeyedLimiter {
    /// Counts one attempt by `key` at `now`; false when over `per_minute`
    /// (0: no limit).
    pub fn allow(&self, key: &str, now: Timestamp, per_minute: u32) -> bool {
        if per_minute == 0 {
            return true;
        }
        let minute = now.unix().div_euclid(60);
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if minute > current.0 {
            *current = (minute, HashMap::new());
        }
        let count = current.1.entry(key.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        *count <= per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix(seconds)
    }

    #[test]
    fn each_address_gets_its_allowance_per_minute() {
        let limiter = RateLimiter::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| limiter.allow(a, at(600), 3)));
        assert!(!limiter.allow(a, at(630), 3));
        assert!(limiter.allow(b, at(630), 3));
        assert!(limiter.allow(a, at(660), 3), "a new minute");
        assert!(
            (0..1000).all(|_| limiter.allow(a, at(700), 0)),
            "0 is no limit"
        );
    }

    #[test]
    fn an_ipv6_client_is_counted_per_64() {
        let limiter = RateLimiter::default();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.allow(a, at(0), 2));
        assert!(limiter.allow(b, at(0), 2));
        assert!(!limiter.allow(a, at(0), 2), "the same /64");
        assert!(limiter.allow(other, at(0), 2), "another /64");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn memory_stays_bounded_and_limits_hold_under_a_flood_of_addresses() {
        let limiter = RateLimiter::default();
        let victim: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(limiter.allow(victim, at(0), 1));
        for i in 0..300_000u32 {
            limiter.allow(IpAddr::V4(i.into()), at(1), 5);
        }
        assert!(limiter.tracked() <= SHARDS * MOST_PER_SHARD);
        assert!(
            !limiter.allow(victim, at(2), 1),
            "the flood did not reset its count"
        );
        assert!(
            limiter.allow(victim, at(60), 1),
            "a new minute starts afresh"
        );
    }

    #[test]
    fn a_client_without_a_known_address_is_never_limited() {
        let limiter = RateLimiter::default();
        assert!((0..10).all(|_| limiter.allow_client(None, at(0), 1)));
        assert_eq!(limiter.tracked(), 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.allow_client(Some(a), at(0), 1));
        assert!(!limiter.allow_client(Some(a), at(0), 1));
    }

    #[test]
    fn a_request_stamped_in_an_earlier_minute_does_not_reset_the_count() {
        let limiter = RateLimiter::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.allow(a, at(120), 1));
        assert!(
            !limiter.allow(a, at(119), 1),
            "a late request from minute 1"
        );
        assert!(!limiter.allow(a, at(179), 1));
    }

    #[test]
    fn an_ipv4_client_is_counted_by_its_own_address() {
        let a: IpAddr = "198.51.100.77".parse().unwrap();
        assert_eq!(client_key(a), a);
    }

    #[test]
    fn an_ipv6_client_key_keeps_the_64_bit_prefix_only() {
        let a: IpAddr = "2001:db8:aa:bb:1:2:3:4".parse().unwrap();
        assert_eq!(client_key(a), "2001:db8:aa:bb::".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn past_the_bound_clients_are_counted_by_their_24_or_48() {
        assert_eq!(
            network_key("198.51.100.77".parse().unwrap()),
            "198.51.100.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            network_key("2001:db8:aa:bb::".parse().unwrap()),
            "2001:db8:aa::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_persons_attempts_are_counted_apart_from_others_and_per_minute() {
        let limiter = KeyedLimiter::default();
        let t = Timestamp::from_unix(600);
        assert!(limiter.allow("ann", t, 2));
        assert!(limiter.allow("ann", t, 2));
        assert!(!limiter.allow("ann", t, 2));
        assert!(limiter.allow("bob", t, 2));
        assert!(limiter.allow("ann", Timestamp::from_unix(660), 2));
        assert!(limiter.allow("ann", t, 0));
    }
}
