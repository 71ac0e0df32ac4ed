//! Launch diagnostics: the last launches and failed launches per platform.
//! They hold personal data (names, emails in the claims), so `purge` keeps
//! only the newest `KEEP_PER_PLATFORM` of each platform and nothing older
//! than the configured days.

use diesel::prelude::*;

use super::schema::launch_attempts as attempts;
use super::{Conn, StoreResult};
use crate::domain::diagnostics::{AttemptScope, LaunchAttempt, Stage};
use crate::domain::ids::PlatformId;
use crate::domain::time::Timestamp;
use crate::with_conn;

pub const KEEP_PER_PLATFORM: i64 = 500;

pub struct NewAttempt<'a> {
    /// None when no platform is registered with the issuer (and client id).
    pub platform_id: Option<PlatformId>,
    pub issuer: &'a str,
    pub client_id: Option<&'a str>,
    pub deployment_id: Option<&'a str>,
    pub stage: Stage,
    /// None for a launch that succeeded.
    pub error_code: Option<&'a str>,
    pub reason: Option<&'a str>,
    /// The id_token's claims as JSON, without the signature.
    pub claims: Option<&'a str>,
    pub now: Timestamp,
}

pub fn record(conn: &mut Conn, attempt: &NewAttempt<'_>) -> StoreResult<()> {
    with_conn!(conn, c => crate::prepared!(diesel::insert_into(attempts::table)
        .values((
            attempts::platform_id.eq(attempt.platform_id.map(|p| p.0)),
            attempts::issuer.eq(attempt.issuer),
            attempts::client_id.eq(attempt.client_id),
            attempts::deployment_id.eq(attempt.deployment_id),
            attempts::stage.eq(attempt.stage.as_str()),
            attempts::error_code.eq(attempt.error_code),
            attempts::reason.eq(attempt.reason),
            attempts::claims.eq(attempt.claims),
            attempts::created_at.eq(attempt.now),
        )))
        .execute(c)?);
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = attempts)]
struct AttemptRow {
    platform_id: Option<i64>,
    issuer: String,
    client_id: Option<String>,
    deployment_id: Option<String>,
    stage: String,
    error_code: Option<String>,
    reason: Option<String>,
    claims: Option<String>,
    created_at: Timestamp,
}

impl AttemptRow {
    fn into_attempt(self) -> StoreResult<LaunchAttempt> {
        Ok(LaunchAttempt {
            platform_id: self.platform_id.map(PlatformId),
            issuer: self.issuer,
            client_id: self.client_id,
            deployment_id: self.deployment_id,
            stage: Stage::parse(&self.stage)
                .map_err(|e| super::StoreError::Other(anyhow::anyhow!(e)))?,
            error_code: self.error_code,
            reason: self.reason,
            claims: self.claims,
            created_at: self.created_at,
        })
    }
}

/// The newest attempts first, at most `limit`.
pub fn recent(conn: &mut Conn, scope: AttemptScope, limit: i64) -> StoreResult<Vec<LaunchAttempt>> {
    let rows: Vec<AttemptRow> = with_conn!(conn, c => {
        let query = attempts::table
            .select(AttemptRow::as_select())
            .order(attempts::id.desc())
            .limit(limit)
            .into_boxed();
        let query = match scope {
            AttemptScope::All => query,
            AttemptScope::Platform(id) => query.filter(attempts::platform_id.eq(id.0)),
            AttemptScope::UnknownIssuers => query.filter(attempts::platform_id.is_null()),
        };
        query.load(c)?
    });
    rows.into_iter().map(AttemptRow::into_attempt).collect()
}

/// Removes attempts older than `before`, then all but the newest
/// `KEEP_PER_PLATFORM` of each platform (and of the unknown issuers).
pub fn purge(conn: &mut Conn, before: Timestamp) -> StoreResult<usize> {
    Ok(with_conn!(conn, c => {
        let mut removed =
            diesel::delete(attempts::table.filter(attempts::created_at.lt(before))).execute(c)?;
        let platforms: Vec<Option<i64>> = attempts::table
            .select(attempts::platform_id)
            .distinct()
            .load(c)?;
        for platform in platforms {
            let cutoff: Option<i64> = match platform {
                Some(p) => attempts::table
                    .filter(attempts::platform_id.eq(p))
                    .select(attempts::id)
                    .order(attempts::id.desc())
                    .offset(KEEP_PER_PLATFORM)
                    .first(c)
                    .optional()?,
                None => attempts::table
                    .filter(attempts::platform_id.is_null())
                    .select(attempts::id)
                    .order(attempts::id.desc())
                    .offset(KEEP_PER_PLATFORM)
                    .first(c)
                    .optional()?,
            };
            if let Some(cutoff) = cutoff {
                removed += match platform {
                    Some(p) => diesel::delete(
                        attempts::table
                            .filter(attempts::platform_id.eq(p))
                            .filter(attempts::id.le(cutoff)),
                    )
                    .execute(c)?,
                    None => diesel::delete(
                        attempts::table
                            .filter(attempts::platform_id.is_null())
                            .filter(attempts::id.le(cutoff)),
                    )
                    .execute(c)?,
                };
            }
        }
        removed
    }))
}
