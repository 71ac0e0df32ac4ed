//! Registered platforms, cached for a few seconds. Every login and launch
//! needs its platform; reading it from the database each time cost a
//! measurable share of both. A change made with `guestlink platform ...`
//! (another process) is seen within `TTL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Tool;
use super::failure::Fault;
use crate::domain::ids::PlatformId;
use crate::domain::platform::Platform;
use crate::store::platforms;

const TTL: Duration = Duration::from_secs(10);

/// When an issuer's platforms were read, and what they were.
type Cached = (Instant, Arc<Vec<Platform>>);

#[derive(Default)]
pub struct RegistrationCache {
    by_issuer: Mutex<HashMap<String, Cached>>,
}

impl RegistrationCache {
    /// Drops every cached platform, after a change made in this process (a
    /// registration, the admin console), so it counts from the next request.
    pub fn forget_all(&self) {
        self.by_issuer.lock().unwrap().clear();
    }

    /// The platforms registered with `issuer` (one per client id). An empty
    /// answer is not cached, so a platform registered a moment ago works at once.
    pub async fn by_issuer(&self, tool: &Tool, issuer: &str) -> Result<Arc<Vec<Platform>>, Fault> {
        if let Some((at, found)) = self.by_issuer.lock().unwrap().get(issuer)
            && at.elapsed() < TTL
        {
            return Ok(found.clone());
        }
        let wanted = issuer.to_string();
        let found = Arc::new(
            tool.db
                .read(move |conn| platforms::find_by_issuer(conn, &wanted))
                .await?,
        );
        if !found.is_empty() {
            self.by_issuer
                .lock()
                .unwrap()
                .insert(issuer.to_string(), (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    /// The platform with this id, read through the issuer cache.
    pub async fn by_id(&self, tool: &Tool, id: PlatformId) -> Result<Option<Platform>, Fault> {
        let cached = self
            .by_issuer
            .lock()
            .unwrap()
            .values()
            .filter(|(at, _)| at.elapsed() < TTL)
            .find_map(|(_, list)| list.iter().find(|p| p.id == id).cloned());
        if let Some(platform) = cached {
            return Ok(Some(platform));
        }
        let Some(platform) = tool.db.read(move |conn| platforms::find(conn, id)).await? else {
            return Ok(None);
        };
        self.by_issuer(tool, &platform.issuer).await?;
        Ok(Some(platform))
    }
}
