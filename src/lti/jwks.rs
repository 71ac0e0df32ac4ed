//! Platform key sets: fetched with timeouts, cached per JWKS URL for as long
//! as the platform's Cache-Control allows, and refetched on an unknown `kid`
//! at most once per interval, so a flood of forged kids cannot make the tool
//! hammer a platform. A platform that is down gives a clear error, not a hang.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use serde::Deserialize;

use super::LaunchError;

const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
const LARGEST_JWKS_BYTES: usize = 512 * 1024;

pub struct JwksCache {
    client: reqwest::Client,
    min_refetch: Duration,
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
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    fetches: u64,
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

impl JwksCache {
    pub fn new(timeout: Duration, min_refetch: Duration) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .timeout(timeout)
            .user_agent(super::USER_AGENT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .expect("the HTTP client could be built");
        JwksCache {
            client,
            min_refetch,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The platform's verification key for `kid`.
    pub async fn key(&self, jwks_url: &str, kid: &str) -> Result<DecodingKey, LaunchError> {
        let entry = self.entry(jwks_url);
        let seen = entry.state.read().unwrap().clone();
        let now = Instant::now();
        let fresh = seen.fresh_until.is_some_and(|t| now < t);
        if let Some(key) = seen.keys.get(kid).filter(|_| fresh) {
            return Ok(key.clone());
        }
        let may_refetch = seen
            .last_attempt
            .is_none_or(|t| now.duration_since(t) >= self.min_refetch)
            || !fresh;
        if may_refetch {
            let _guard = entry.fetching.lock().await;
            // Someone else may have fetched while we waited.
            let attempted_meanwhile = entry.state.read().unwrap().last_attempt != seen.last_attempt;
            if !attempted_meanwhile {
                let result = self.fetch(jwks_url).await;
                let mut state = entry.state.write().unwrap();
                state.last_attempt = Some(Instant::now());
                state.fetches += 1;
                match result {
                    Ok((keys, max_age)) => {
                        state.keys = keys;
                        state.fresh_until = Some(Instant::now() + max_age);
                    }
                    // Keep serving cached keys while the platform is down.
                    Err(err) if !state.keys.contains_key(kid) => return Err(err),
                    Err(err) => {
                        tracing::warn!(jwks_url, error = %err, "platform JWKS unreachable; using cached keys")
                    }
                }
            }
        }
        let state = entry.state.read().unwrap();
        state.keys.get(kid).cloned().ok_or(LaunchError::UnknownKid)
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

    async fn fetch(
        &self,
        url: &str,
    ) -> Result<(HashMap<String, DecodingKey>, Duration), LaunchError> {
        let unavailable = |what: String| LaunchError::JwksUnavailable(what);
        let response = self.client.get(url).send().await.map_err(|e| {
            unavailable(if e.is_timeout() {
                "the request timed out".into()
            } else {
                "the platform could not be reached".into()
            })
        })?;
        if !response.status().is_success() {
            return Err(unavailable(format!(
                "the platform answered HTTP {}",
                response.status().as_u16()
            )));
        }
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(cache_lifetime)
            .unwrap_or(DEFAULT_MAX_AGE);
        if response
            .content_length()
            .is_some_and(|len| len as usize > LARGEST_JWKS_BYTES)
        {
            return Err(unavailable("the key set is too large".into()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| unavailable("the response was cut off".into()))?;
        if body.len() > LARGEST_JWKS_BYTES {
            return Err(unavailable("the key set is too large".into()));
        }
        let jwks: RemoteJwks = serde_json::from_slice(&body)
            .map_err(|_| unavailable("the response is not a JSON key set".into()))?;
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
                .and_then(|v| v.trim_matches('"').parse::<u64>().ok())
        })
        .map(|secs| Duration::from_secs(secs).min(LONGEST_MAX_AGE))
        .unwrap_or(DEFAULT_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_sets_the_lifetime() {
        assert_eq!(cache_lifetime("public, max-age=864000"), LONGEST_MAX_AGE);
        assert_eq!(cache_lifetime("max-age=60"), Duration::from_secs(60));
        assert_eq!(cache_lifetime("no-cache"), Duration::ZERO);
        assert_eq!(cache_lifetime("private"), DEFAULT_MAX_AGE);
    }
}
