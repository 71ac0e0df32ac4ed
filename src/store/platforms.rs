//! Registered platforms and their deployments.

use diesel::prelude::*;

use super::schema::{deployments, platforms};
use super::{Conn, StoreError, StoreResult};
use crate::domain::ids::PlatformId;
use crate::domain::platform::{Deployment, DeploymentPolicy, Modules, NewPlatform, Platform};
use crate::domain::time::Timestamp;
use crate::{with_conn, write_tx};

/// The deployment ids of one platform, oldest first (a macro because the
/// query is compiled once per backend inside `with_conn!`).
macro_rules! deployment_ids_of {
    ($c:expr, $platform:expr) => {
        deployments::table
            .filter(deployments::platform_id.eq($platform))
            .select(deployments::deployment_id)
            .order((deployments::created_at, deployments::deployment_id))
            .load::<String>($c)
    };
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = platforms)]
struct PlatformRow {
    id: i64,
    name: String,
    lms: String,
    issuer: String,
    client_id: String,
    auth_url: String,
    jwks_url: String,
    token_url: Option<String>,
    created_at: Timestamp,
    invite_to_media: bool,
    media_page: bool,
    deployment_policy: String,
    pending: bool,
}

impl PlatformRow {
    fn into_platform(self, deployment_ids: Vec<String>) -> StoreResult<Platform> {
        Ok(Platform {
            id: PlatformId(self.id),
            name: self.name,
            lms: self
                .lms
                .parse()
                .map_err(|e: crate::domain::field::FieldError| {
                    StoreError::Other(anyhow::anyhow!(e))
                })?,
            issuer: self.issuer,
            client_id: self.client_id,
            auth_url: self.auth_url,
            jwks_url: self.jwks_url,
            token_url: self.token_url,
            deployment_ids,
            created_at: self.created_at,
            modules: Modules {
                invite_to_media: self.invite_to_media,
                media_page: self.media_page,
            },
            deployment_policy: DeploymentPolicy::parse(&self.deployment_policy)
                .map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?,
            pending: self.pending,
        })
    }
}

/// Registers a platform with its deployments; `Conflict` if the (issuer,
/// client id) pair is registered already.
pub fn insert(conn: &mut Conn, new: &NewPlatform, now: Timestamp) -> StoreResult<PlatformId> {
    insert_within(conn, new, now, None)?
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("an insert without caps was refused")))
}

/// How many registrations may wait for activation: in all, and from one host.
#[derive(Clone, Copy, Debug)]
pub struct PendingCaps {
    pub total: i64,
    pub per_host: i64,
}

/// The lock pending registrations take turns on (see [`super::TakeTurns`]).
const PENDING_LOCK: i64 = 727_275;

/// Adds a platform; with `caps`, a pending one only while the registrations
/// waiting stay within them (None when they would not). The count and the
/// insert are one transaction that takes turns, so racing registrations
/// cannot all squeeze under the caps.
pub fn insert_within(
    conn: &mut Conn,
    new: &NewPlatform,
    now: Timestamp,
    caps: Option<PendingCaps>,
) -> StoreResult<Option<PlatformId>> {
    write_tx!(conn, c => {
        if let Some(caps) = caps.filter(|_| new.pending) {
            super::TakeTurns::take_turns(c, PENDING_LOCK)?;
            let waiting: i64 = platforms::table
                .filter(platforms::pending.eq(true))
                .count()
                .get_result(c)?;
            let from_host: i64 = platforms::table
                .filter(platforms::pending.eq(true))
                .filter(platforms::registration_host.eq(&new.registration_host))
                .count()
                .get_result(c)?;
            if waiting >= caps.total || from_host >= caps.per_host {
                return Ok(None);
            }
        }
        let id: i64 = diesel::insert_into(platforms::table)
            .values((
                platforms::name.eq(&new.name),
                platforms::lms.eq(new.lms.as_str()),
                platforms::issuer.eq(&new.issuer),
                platforms::client_id.eq(&new.client_id),
                platforms::auth_url.eq(&new.auth_url),
                platforms::jwks_url.eq(&new.jwks_url),
                platforms::token_url.eq(&new.token_url),
                platforms::created_at.eq(now),
                platforms::deployment_policy.eq(new.deployment_policy.as_str()),
                platforms::pending.eq(new.pending),
                platforms::registration_host.eq(&new.registration_host),
            ))
            .returning(platforms::id)
            .get_result(c)?;
        for deployment in &new.deployment_ids {
            diesel::insert_into(deployments::table)
                .values((
                    deployments::platform_id.eq(id),
                    deployments::deployment_id.eq(deployment),
                    deployments::created_at.eq(now),
                ))
                .execute(c)?;
        }
        Ok::<_, StoreError>(Some(PlatformId(id)))
    })
}

pub fn list(conn: &mut Conn) -> StoreResult<Vec<Platform>> {
    let (rows, deps) = with_conn!(conn, c => {
        let rows: Vec<PlatformRow> = platforms::table.select(PlatformRow::as_select()).order(platforms::id).load(c)?;
        let deps: Vec<(i64, String)> = deployments::table
            .select((deployments::platform_id, deployments::deployment_id))
            .order((deployments::platform_id, deployments::created_at, deployments::deployment_id))
            .load(c)?;
        (rows, deps)
    });
    rows.into_iter()
        .map(|row| {
            let mine = deps
                .iter()
                .filter(|(p, _)| *p == row.id)
                .map(|(_, d)| d.clone())
                .collect();
            row.into_platform(mine)
        })
        .collect()
}

pub fn find(conn: &mut Conn, id: PlatformId) -> StoreResult<Option<Platform>> {
    let found = with_conn!(conn, c => {
        let row: Option<PlatformRow> =
            platforms::table.find(id.0).select(PlatformRow::as_select()).first(c).optional()?;
        match row {
            None => None,
            Some(row) => Some((row, deployment_ids_of!(c, id.0)?)),
        }
    });
    found.map(|(row, deps)| row.into_platform(deps)).transpose()
}

pub fn find_by_issuer(conn: &mut Conn, issuer: &str) -> StoreResult<Vec<Platform>> {
    let rows = with_conn!(conn, c => {
        let rows: Vec<PlatformRow> = platforms::table
            .filter(platforms::issuer.eq(issuer))
            .select(PlatformRow::as_select())
            .load(c)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let deps = deployment_ids_of!(c, row.id)?;
            out.push((row, deps));
        }
        out
    });
    rows.into_iter()
        .map(|(row, deps)| row.into_platform(deps))
        .collect()
}

/// Adds deployment ids to a registered platform; ids it has already are
/// left alone. Returns how many were new; `NotFound` for an unknown platform.
pub fn add_deployments(
    conn: &mut Conn,
    id: PlatformId,
    deployment_ids: &[String],
    now: Timestamp,
) -> StoreResult<usize> {
    write_tx!(conn, c => {
        let exists: i64 = platforms::table.filter(platforms::id.eq(id.0)).count().get_result(c)?;
        if exists == 0 {
            return Err(StoreError::NotFound);
        }
        let mut added = 0;
        for deployment in deployment_ids {
            added += diesel::insert_into(deployments::table)
                .values((
                    deployments::platform_id.eq(id.0),
                    deployments::deployment_id.eq(deployment),
                    deployments::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
        }
        Ok::<_, StoreError>(added)
    })
}

/// Removes a platform and everything that belongs to it; false if unknown.
pub fn remove(conn: &mut Conn, id: PlatformId) -> StoreResult<bool> {
    let deleted = write_tx!(conn, c => {
        Ok::<_, StoreError>(diesel::delete(platforms::table.find(id.0)).execute(c)?)
    })?;
    Ok(deleted > 0)
}

/// Stores a platform's module switches; false if the platform is unknown.
pub fn set_modules(conn: &mut Conn, id: PlatformId, modules: Modules) -> StoreResult<bool> {
    let updated = write_tx!(conn, c => {
        Ok::<_, StoreError>(diesel::update(platforms::table.find(id.0))
            .set((
                platforms::invite_to_media.eq(modules.invite_to_media),
                platforms::media_page.eq(modules.media_page),
            ))
            .execute(c)?)
    })?;
    Ok(updated > 0)
}

pub fn set_deployment_policy(
    conn: &mut Conn,
    id: PlatformId,
    policy: DeploymentPolicy,
) -> StoreResult<bool> {
    let updated = write_tx!(conn, c => {
        Ok::<_, StoreError>(diesel::update(platforms::table.find(id.0))
            .set(platforms::deployment_policy.eq(policy.as_str()))
            .execute(c)?)
    })?;
    Ok(updated > 0)
}

/// Records a deployment id a platform's first launch from it brought;
/// nothing happens if it is known already.
pub fn record_launched_deployment(
    conn: &mut Conn,
    id: PlatformId,
    deployment_id: &str,
    now: Timestamp,
) -> StoreResult<()> {
    with_conn!(conn, c => diesel::insert_into(deployments::table)
        .values((
            deployments::platform_id.eq(id.0),
            deployments::deployment_id.eq(deployment_id),
            deployments::created_at.eq(now),
            deployments::added_by.eq("launch"),
        ))
        .on_conflict_do_nothing()
        .execute(c)?);
    Ok(())
}

/// Lets a pending platform launch; false if the platform is unknown.
pub fn activate(conn: &mut Conn, id: PlatformId) -> StoreResult<bool> {
    let updated = write_tx!(conn, c => {
        Ok::<_, StoreError>(diesel::update(platforms::table.find(id.0))
            .set(platforms::pending.eq(false))
            .execute(c)?)
    })?;
    Ok(updated > 0)
}

/// What an administrator may change of a registration without registering
/// it again (the issuer and client id are its identity).
pub struct Details<'a> {
    pub name: &'a str,
    pub auth_url: &'a str,
    pub jwks_url: &'a str,
    pub token_url: Option<&'a str>,
}

pub fn update_details(conn: &mut Conn, id: PlatformId, details: &Details<'_>) -> StoreResult<bool> {
    let updated = write_tx!(conn, c => {
        Ok::<_, StoreError>(diesel::update(platforms::table.find(id.0))
            .set((
                platforms::name.eq(details.name),
                platforms::auth_url.eq(details.auth_url),
                platforms::jwks_url.eq(details.jwks_url),
                platforms::token_url.eq(details.token_url),
            ))
            .execute(c)?)
    })?;
    Ok(updated > 0)
}

/// A platform's deployments with when and how each arrived, oldest first.
pub fn deployments_of(conn: &mut Conn, id: PlatformId) -> StoreResult<Vec<Deployment>> {
    let rows: Vec<(String, Timestamp, String)> = with_conn!(conn, c => deployments::table
        .filter(deployments::platform_id.eq(id.0))
        .select((deployments::deployment_id, deployments::created_at, deployments::added_by))
        .order((deployments::created_at, deployments::deployment_id))
        .load(c)?);
    Ok(rows
        .into_iter()
        .map(|(id, created_at, added_by)| Deployment {
            id,
            created_at,
            added_by_launch: added_by == "launch",
        })
        .collect())
}

/// How many platforms wait for activation.
pub fn count_pending(conn: &mut Conn) -> StoreResult<i64> {
    Ok(with_conn!(conn, c => platforms::table
        .filter(platforms::pending.eq(true))
        .count()
        .get_result(c)?))
}

/// Registrations waiting for activation that came from `host`.
pub fn count_pending_from(conn: &mut Conn, host: &str) -> StoreResult<i64> {
    Ok(with_conn!(conn, c => platforms::table
        .filter(platforms::pending.eq(true))
        .filter(platforms::registration_host.eq(host))
        .count()
        .get_result(c)?))
}

/// Removes registrations that waited for activation since before `cutoff`
/// (nothing can have launched from them).
pub fn purge_pending(conn: &mut Conn, cutoff: Timestamp) -> StoreResult<usize> {
    Ok(with_conn!(conn, c => diesel::delete(
        platforms::table
            .filter(platforms::pending.eq(true))
            .filter(platforms::created_at.lt(cutoff)),
    )
    .execute(c)?))
}
