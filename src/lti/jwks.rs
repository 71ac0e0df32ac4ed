//! Platform key sets: fetched through the outbound rules (https, public
//! addresses, no redirects, at most 256 KB, a timeout), cached per JWKS URL for
//! as long as the platform's Cache-Control allows, and refetched on an unknown
//! `kid` at most once per interval, so a flood of forged kids cannot make the
//! tool hammer a platform. After a failed fetch the URL is left alone for a
//! while that doubles with each failure (stale keys keep serving meanwhile),
//! so a platform that is down costs one request per back-off, not one per
//! launch. A platform that is down gives a clear error, not a hang.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use jsonwebtoken::DecodingKey;
use serde::Deserialize;

use super::LaunchError;
use crate::clock::Clock;
use crate::domain::time::{Duration, Timestamp};
use crate::outbound::{Limits, Outbound};

const DEFAULT_MAX_AGE: Duration = Duration::minutes(5);
const LONGEST_MAX_AGE: Duration = Duration::days(1);
/// The wait after a first failed fetch; it doubles with each failure.
const FIRST_BACKOFF: Duration = Duration::seconds(5);
const LONGEST_BACKOFF: Duration = Duration::minutes(5);

pub struct JwksCache {
    outbound: Arc<Outbound>,
    limits: Limits,
    /// The least time between refetches for an unknown kid.
    min_refetch: Duration,
    clock: Clock,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

#[derive(Default)]
struct Entry {
    state: RwLock<Cached>,
    /// One fetch per URL at a time; others wait and reuse its result.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default, Clone)]
struct Cached {
    keys: HashMap<String, DecodingKey>,
    fresh_until: Option<Timestamp>,
    last_attempt: Option<Timestamp>,
    fetches: u64,
    /// Failed fetches in a row, and when the next may be tried.
    failures: u32,
    retry_at: Option<Timestamp>,
    /// Why the last fetch failed, for diagnostics (never shown to users).
    last_error: Option<String>,
}

impl Cached {
    /// The key for `kid`, or why there is none.
    fn key(&self, kid: &str) -> Result<DecodingKey, LaunchError> {
        match (self.keys.get(kid), &self.last_error) {
            (Some(key), _) => Ok(key.clone()),
            (None, Some(why)) => Err(LaunchError::JwksUnavailable(why.clone())),
            (None, None) => Err(LaunchError::UnknownKid),
        }
    }
}

#[derive(Deserialize)]
struct RemoteJwks {
    keys: Vec<RemoteJwk>,
}

#[derive(Deserialize)]
struct RemoteJwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    key_use: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_BACKOFF * (1i32 << doublings)).min(LONGEST_BACKOFF)
}

impl JwksCache {
    pub fn new(
        outbound: Arc<Outbound>,
        timeout: Duration,
        min_refetch: Duration,
        clock: Clock,
    ) -> Self {
        JwksCache {
            outbound,
            limits: Limits::key_set(timeout.unsigned_abs()),
            min_refetch,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The platform's verification key for `kid`.
    pub async fn key(&self, jwks_url: &str, kid: &str) -> Result<DecodingKey, LaunchError> {
        let entry = self.entry(jwks_url);
        let seen = entry.state.read().unwrap().clone();
        let now = self.clock.now();
        let fresh = seen.fresh_until.is_some_and(|t| now < t);
        if let Some(key) = seen.keys.get(kid).filter(|_| fresh) {
            return Ok(key.clone());
        }
        if seen.retry_at.is_some_and(|t| now < t) {
            return seen.key(kid);
        }
        let may_refetch = !fresh
            || seen
                .last_attempt
                .is_none_or(|t| now - t >= self.min_refetch);
        if may_refetch {
            let _guard = entry.fetching.lock().await;
            // Someone else may have fetched while we waited.
            let attempted_meanwhile = entry.state.read().unwrap().fetches != seen.fetches;
            if !attempted_meanwhile {
                let result = self.fetch(jwks_url).await;
                let now = self.clock.now();
                let mut state = entry.state.write().unwrap();
                state.last_attempt = Some(now);
                state.fetches += 1;
                match result {
                    Ok((keys, max_age)) => {
                        state.keys = keys;
                        state.fresh_until = Some(now + max_age);
                        state.failures = 0;
                        state.retry_at = None;
                        state.last_error = None;
                    }
                    Err(why) => {
                        state.failures += 1;
                        let wait = backoff(state.failures);
                        state.retry_at = Some(now + wait);
                        tracing::warn!(
                            jwks_url,
                            reason = %why,
                            retry_in_seconds = wait.whole_seconds(),
                            cached_keys = state.keys.len(),
                            "a platform's key set could not be fetched"
                        );
                        state.last_error = Some(why);
                    }
                }
            }
        }
        entry.state.read().unwrap().key(kid)
    }

    /// How many fetches of this URL were attempted (for tests and diagnostics).
    pub fn fetch_count(&self, jwks_url: &str) -> u64 {
        self.entry(jwks_url).state.read().unwrap().fetches
    }

    fn entry(&self, url: &str) -> Arc<Entry> {
        self.entries
            .lock()
            .unwrap()
            .entry(url.to_string())
            .or_default()
            .clone()
    }

    /// The keys and how long they may be used, or why they could not be had.
    async fn fetch(&self, url: &str) -> Result<(HashMap<String, DecodingKey>, Duration), String> {
        let fetched = self
            .outbound
            .fetch(url, self.limits)
            .await
            .map_err(|e| format!("the key set URL: {e}"))?;
        if !fetched.is_success() {
            return Err(format!("the platform answered HTTP {}", fetched.status));
        }
        let max_age = fetched
            .headers
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(cache_lifetime)
            .unwrap_or(DEFAULT_MAX_AGE);
        let jwks: RemoteJwks = serde_json::from_slice(&fetched.body)
            .map_err(|_| "the answer is not a JSON key set".to_string())?;
        Ok((usable_keys(jwks), max_age))
    }
}

fn usable_keys(jwks: RemoteJwks) -> HashMap<String, DecodingKey> {
    jwks.keys
        .into_iter()
        .filter(|k| k.kty.as_deref() == Some("RSA"))
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == "RS256"))
        .filter(|k| k.key_use.as_deref().is_none_or(|u| u == "sig"))
        .filter_map(|k| {
            let key = DecodingKey::from_rsa_components(k.n.as_deref()?, k.e.as_deref()?).ok()?;
            Some((k.kid?, key))
        })
        .collect()
}

/// How long a key set may be used, from its Cache-Control header.
fn cache_lifetime(header: &str) -> Duration {
    let directives: Vec<String> = header
        .split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    if directives
        .iter()
        .any(|d| d == "no-store" || d == "no-cache")
    {
        return Duration::ZERO;
    }
    directives
        .iter()
        .find_map(|d| {
            d.strip_prefix("max-age=")
                .and_then(|v| v.trim_matches('"').parse::<i64>().ok())
        })
        .map(|secs| Duration::seconds(secs).clamp(Duration::ZERO, LONGEST_MAX_AGE))
        .unwrap_or(DEFAULT_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_sets_the_lifetime() {
        assert_eq!(cache_lifetime("public, max-age=864000"), LONGEST_MAX_AGE);
        assert_eq!(cache_lifetime("max-age=60"), Duration::minutes(1));
        assert_eq!(cache_lifetime("no-cache"), Duration::ZERO);
        assert_eq!(cache_lifetime("private"), DEFAULT_MAX_AGE);
    }

    #[test]
    fn the_back_off_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::seconds(5));
        assert_eq!(backoff(2), Duration::seconds(10));
        assert_eq!(backoff(4), Duration::seconds(40));
        assert_eq!(backoff(7), Duration::minutes(5));
        assert_eq!(backoff(u32::MAX), Duration::minutes(5));
    }

    fn key_set(keys: serde_json::Value) -> RemoteJwks {
        serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap()
    }

    fn rsa(kid: &str) -> serde_json::Value {
        serde_json::json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": "sXch", "e": "AQAB"})
    }

    fn kids(keys: &HashMap<String, DecodingKey>) -> Vec<&str> {
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }

    #[test]
    fn rs256_signing_keys_are_used_by_their_kid() {
        let keys = usable_keys(key_set(serde_json::json!([rsa("a"), rsa("b")])));
        assert_eq!(kids(&keys), ["a", "b"]);
    }

    #[test]
    fn keys_that_are_not_rsa_are_left_out() {
        let ec =
            serde_json::json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AQAB", "y": "AQAB"});
        let untyped = serde_json::json!({"kid": "none", "n": "sXch", "e": "AQAB"});
        let keys = usable_keys(key_set(serde_json::json!([ec, untyped, rsa("r")])));
        assert_eq!(kids(&keys), ["r"]);
    }

    #[test]
    fn keys_for_another_algorithm_or_for_encryption_are_left_out() {
        let mut rs512 = rsa("rs512");
        rs512["alg"] = "RS512".into();
        let mut enc = rsa("enc");
        enc["use"] = "enc".into();
        let keys = usable_keys(key_set(serde_json::json!([rs512, enc, rsa("ok")])));
        assert_eq!(kids(&keys), ["ok"]);
    }

    #[test]
    fn a_key_that_does_not_say_its_algorithm_or_use_is_used() {
        let mut bare = rsa("bare");
        bare.as_object_mut().unwrap().remove("alg");
        bare.as_object_mut().unwrap().remove("use");
        let keys = usable_keys(key_set(serde_json::json!([bare])));
        assert_eq!(kids(&keys), ["bare"]);
    }

    #[test]
    fn a_key_without_a_kid_or_its_components_is_left_out() {
        let mut no_kid = rsa("x");
        no_kid.as_object_mut().unwrap().remove("kid");
        let mut no_n = rsa("no-n");
        no_n.as_object_mut().unwrap().remove("n");
        let mut no_e = rsa("no-e");
        no_e.as_object_mut().unwrap().remove("e");
        let keys = usable_keys(key_set(serde_json::json!([no_kid, no_n, no_e])));
        assert!(keys.is_empty());
    }

    #[test]
    fn a_negative_or_zero_max_age_leaves_nothing_to_cache() {
        assert_eq!(cache_lifetime("max-age=0"), Duration::ZERO);
        assert_eq!(cache_lifetime("max-age=-60"), Duration::ZERO);
    }

    #[test]
    fn no_store_wins_over_a_max_age_whatever_the_case() {
        assert_eq!(cache_lifetime("Max-Age=600, NO-STORE"), Duration::ZERO);
        assert_eq!(cache_lifetime("MAX-AGE=120"), Duration::minutes(2));
    }

    #[test]
    fn a_quoted_max_age_is_read_and_an_unreadable_one_gives_the_default() {
        assert_eq!(cache_lifetime("max-age=\"90\""), Duration::seconds(90));
        assert_eq!(cache_lifetime("max-age=soon"), DEFAULT_MAX_AGE);
        assert_eq!(cache_lifetime(""), DEFAULT_MAX_AGE);
    }

    #[test]
    fn a_cached_key_is_found_by_its_kid() {
        let cached = Cached {
            keys: usable_keys(key_set(serde_json::json!([rsa("k1")]))),
            ..Cached::default()
        };
        assert!(cached.key("k1").is_ok());
        assert_eq!(cached.key("k2").err(), Some(LaunchError::UnknownKid));
    }

    #[test]
    fn a_missing_kid_after_a_failed_fetch_says_the_key_set_is_unavailable() {
        let cached = Cached {
            keys: usable_keys(key_set(serde_json::json!([rsa("k1")]))),
            last_error: Some("the platform answered HTTP 503".into()),
            ..Cached::default()
        };
        assert!(cached.key("k1").is_ok(), "stale keys keep serving");
        assert_eq!(
            cached.key("k2").err(),
            Some(LaunchError::JwksUnavailable(
                "the platform answered HTTP 503".into()
            ))
        );
    }
}
