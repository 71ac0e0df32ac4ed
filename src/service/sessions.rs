//! Finding the launch session behind a token.

use super::Tool;
use super::failure::Fault;
use crate::crypto::hash_secret;
use crate::domain::session::{LaunchSession, session_expiry};
use crate::domain::time::{Duration, Timestamp};
use crate::store::{Conn, StoreResult, sessions};

/// Sessions are touched at most this often, so that reading pages does not
/// become a database write per request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The live session for `token`, extending its idle expiry when due.
pub async fn find(tool: &Tool, token: &str) -> Result<Option<LaunchSession>, Fault> {
    Ok(find_with(tool, token, |conn, hash, now| {
        Ok(sessions::find(conn, hash, now)?.map(|session| (session, ())))
    })
    .await?
    .map(|(session, ())| session))
}

/// The live session for `token` as `read` finds it (by the token's hash,
/// at now) with what it reads beside it in the same trip to the database (a
/// page load's reads), extending the session's idle expiry when due.
pub async fn find_with<T, F>(
    tool: &Tool,
    token: &str,
    read: F,
) -> Result<Option<(LaunchSession, T)>, Fault>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, &str, Timestamp) -> StoreResult<Option<(LaunchSession, T)>>
        + Send
        + 'static,
{
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let token_hash = hash_secret(token);
    let now = tool.clock.now();
    let hash = token_hash.clone();
    let Some((mut session, extra)) = tool.db.read(move |conn| read(conn, &hash, now)).await? else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        let expires_at = session_expiry(
            session.started_at,
            now,
            tool.settings.sessions.idle,
            tool.settings.sessions.max,
        );
        tool.db
            .write(move |conn| sessions::touch(conn, &token_hash, now, expires_at))
            .await?;
        session.last_seen_at = now;
        session.expires_at = expires_at;
    }
    Ok(Some((session, extra)))
}
