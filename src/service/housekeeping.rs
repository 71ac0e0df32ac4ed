//! Forgetting what has run out, in the background: login states and
//! sessions every minute (anyone can create a login state, so they must not
//! pile up), the rest every five minutes.

use super::{Tool, guest_links, media, registration, rooms};
use crate::domain::time::Duration;
use crate::store::{
    StoreResult, admin, file_grants, launch_attempts, login_states, platforms, registration_tokens,
    sessions,
};

/// Spent registration tokens are remembered this long (so a reused link is
/// told it was used, rather than unknown).
const SPENT_TOKENS_KEPT: Duration = Duration::days(1);

/// What expires within minutes: login states, sessions and file grants.
pub async fn purge_short_lived(tool: &Tool) {
    let now = tool.clock.now();
    let result = tool
        .db
        .write(move |conn| -> StoreResult<_> {
            Ok((
                login_states::purge_expired(conn, now)?,
                sessions::purge_expired(conn, now)?,
                file_grants::purge_expired(conn, now)?,
            ))
        })
        .await;
    match result {
        Ok((0, 0, 0)) => {}
        Ok((states, sessions, grants)) => tracing::info!(
            states,
            sessions,
            grants,
            "purged expired login states, sessions and file grants"
        ),
        Err(err) => tracing::warn!(error = %err, "purge of expired records failed"),
    }
}

/// What is kept for days: guest records, diagnostics, admin sign-ins, spent
/// registration tokens, registrations nobody activated, abandoned uploads.
pub async fn purge_long_lived(tool: &Tool) {
    let now = tool.clock.now();
    match guest_links::purge(tool).await {
        Ok(0) => {}
        Ok(records) => tracing::info!(records, "purged guest records past their retention"),
        Err(err) => tracing::warn!(error = %err, "purge of guest records failed"),
    }
    match rooms::purge(tool).await {
        Ok(0) => {}
        Ok(sessions) => tracing::info!(sessions, "purged room sessions past their retention"),
        Err(err) => tracing::warn!(error = %err, "purge of room sessions failed"),
    }
    match super::invites::purge(tool).await {
        Ok(0) => {}
        Ok(invites) => tracing::info!(invites, "purged invitations past their retention"),
        Err(err) => tracing::warn!(error = %err, "purge of invitations failed"),
    }
    let kept_since = now - tool.settings.admin.diagnostics_kept;
    let pending_since = now - registration::PENDING_LIFETIME;
    let result = tool
        .db
        .write(move |conn| -> StoreResult<_> {
            Ok((
                launch_attempts::purge(conn, kept_since)?
                    + admin::purge(conn, now)?
                    + registration_tokens::purge(conn, now - SPENT_TOKENS_KEPT)?,
                platforms::purge_pending(conn, pending_since)?,
            ))
        })
        .await;
    match result {
        Ok((0, 0)) => {}
        Ok((records, pending)) => {
            if pending > 0 {
                tool.registrations.forget_all();
            }
            tracing::info!(
                records,
                pending_registrations = pending,
                "purged old launch diagnostics, admin sessions, registration tokens and registrations nobody activated"
            )
        }
        Err(err) => tracing::warn!(error = %err, "purge of admin records failed"),
    }
    let removed = media::remove_abandoned_uploads(tool).await;
    if removed > 0 {
        tracing::info!(files = removed, "removed abandoned partial uploads");
    }
}
