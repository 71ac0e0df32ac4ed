//! What a successful launch writes, in one transaction: its login state
//! used, a deployment it brought, its diagnostics record, the user, the
//! course, and a session.
//!
//! On PostgreSQL that is one prepared statement (one round trip, planned
//! once per connection): the launch's throughput is what the database can
//! commit. SQLite runs the same steps as statements of one transaction on
//! its single writer, where a statement costs no round trip.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::upsert::excluded;

use super::launch_attempts::{self, NewAttempt};
use super::schema::{courses, sessions, users};
use super::{Conn, StoreError, StoreResult, login_states, platforms};
use crate::domain::ids::PlatformId;
use crate::domain::time::Timestamp;
use crate::{prepared, with_conn, write_tx};

/// Everything a valid launch writes.
pub struct LaunchCommit<'a> {
    /// The login state the launch used: it is used only once.
    pub state_hash: &'a str,
    /// A deployment id the platform had not listed, to record.
    pub new_deployment: Option<&'a str>,
    pub attempt: NewAttempt<'a>,
    pub record: LaunchRecord<'a>,
}

/// Commits a launch: None, with nothing written, when its login state was
/// used already (a replay, or a second post of the same form).
pub fn commit(conn: &mut Conn, launch: &LaunchCommit<'_>) -> StoreResult<Option<Recorded>> {
    match (&mut *conn, launch.new_deployment) {
        // A deployment the platform had not listed is rare: its launch takes
        // the transaction below.
        (Conn::Pg(pooled), None) => commit_in_one_statement(&mut pooled.conn, launch),
        _ => super::write_transaction(conn, |conn| {
            let now = launch.record.now;
            if !login_states::consume(conn, launch.state_hash, now)? {
                return Ok(None);
            }
            if let Some(deployment_id) = launch.new_deployment {
                platforms::record_launched_deployment(
                    conn,
                    launch.record.platform_id,
                    deployment_id,
                    now,
                )?;
            }
            launch_attempts::record(conn, &launch.attempt)?;
            record(conn, &launch.record).map(Some)
        }),
    }
}

/// The launch as one statement; each step reads the login state's update,
/// so a used state writes nothing. A user or course whose details did not
/// change is only read (see [`record`]); one that is new or changed is
/// upserted, which also settles two first launches racing.
const LAUNCH_SQL: &str = "\
WITH st AS (
  UPDATE login_states SET used_at = $1 WHERE state_hash = $2 AND used_at IS NULL RETURNING 1
), attempt AS (
  INSERT INTO launch_attempts (platform_id, issuer, client_id, deployment_id, stage, error_code, reason, claims, created_at)
  SELECT $3, $4, $5, $6, $7, NULL, NULL, $8, $1 FROM st
), known_user AS (
  SELECT id FROM users WHERE platform_id = $3 AND sub = $9
    AND name IS NOT DISTINCT FROM $10 AND email IS NOT DISTINCT FROM $11
), new_user AS (
  INSERT INTO users (platform_id, sub, name, email, updated_at)
  SELECT $3, $9, $10, $11, $1 FROM st WHERE $9 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM known_user)
  ON CONFLICT (platform_id, sub) DO UPDATE
    SET name = EXCLUDED.name, email = EXCLUDED.email, updated_at = EXCLUDED.updated_at
  RETURNING id
), known_course AS (
  SELECT id FROM courses WHERE platform_id = $3 AND context_id = $12
    AND label IS NOT DISTINCT FROM $13 AND title IS NOT DISTINCT FROM $14
), new_course AS (
  INSERT INTO courses (platform_id, context_id, label, title, updated_at)
  SELECT $3, $12, $13, $14, $1 FROM st WHERE $12 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM known_course)
  ON CONFLICT (platform_id, context_id) DO UPDATE
    SET label = EXCLUDED.label, title = EXCLUDED.title, updated_at = EXCLUDED.updated_at
  RETURNING id
)
INSERT INTO sessions (token_hash, platform_id, user_id, course_id, deployment_id, can_manage, roles,
                      created_at, last_seen_at, expires_at, deep_linking)
SELECT $15, $3,
       (SELECT id FROM known_user UNION ALL SELECT id FROM new_user LIMIT 1),
       (SELECT id FROM known_course UNION ALL SELECT id FROM new_course LIMIT 1),
       $6, $16, $17, $1, $1, $18, $19
FROM st
RETURNING user_id, course_id";

#[derive(QueryableByName)]
struct RecordedRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    user_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    course_id: Option<i64>,
}

fn commit_in_one_statement(
    c: &mut diesel::PgConnection,
    launch: &LaunchCommit<'_>,
) -> StoreResult<Option<Recorded>> {
    let (record, attempt) = (&launch.record, &launch.attempt);
    let row: Option<RecordedRow> = prepared!(
        diesel::sql_query(LAUNCH_SQL)
            .bind::<BigInt, _>(record.now)
            .bind::<Text, _>(launch.state_hash)
            .bind::<BigInt, _>(record.platform_id.0)
            .bind::<Text, _>(attempt.issuer)
            .bind::<Nullable<Text>, _>(attempt.client_id)
            .bind::<Text, _>(record.deployment_id)
            .bind::<Text, _>(attempt.stage.as_str())
            .bind::<Nullable<Text>, _>(attempt.claims)
            .bind::<Nullable<Text>, _>(record.sub)
            .bind::<Nullable<Text>, _>(record.name)
            .bind::<Nullable<Text>, _>(record.email)
            .bind::<Nullable<Text>, _>(record.context_id)
            .bind::<Nullable<Text>, _>(record.context_label)
            .bind::<Nullable<Text>, _>(record.context_title)
            .bind::<Text, _>(record.session_token_hash)
            .bind::<Bool, _>(record.can_manage)
            .bind::<Text, _>(record.roles)
            .bind::<BigInt, _>(record.expires_at)
            .bind::<Nullable<Text>, _>(record.deep_linking)
    )
    .get_result(c)
    .optional()?;
    Ok(row.map(|r| Recorded {
        user_id: r.user_id,
        course_id: r.course_id,
    }))
}

pub struct LaunchRecord<'a> {
    pub platform_id: PlatformId,
    /// None for an anonymous launch: no user is recorded.
    pub sub: Option<&'a str>,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub context_id: Option<&'a str>,
    pub context_label: Option<&'a str>,
    pub context_title: Option<&'a str>,
    pub session_token_hash: &'a str,
    pub deployment_id: &'a str,
    pub can_manage: bool,
    pub roles: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    /// A deep-linking request's settings (JSON), kept until the picker answers.
    pub deep_linking: Option<&'a str>,
}

/// The ids a launch wrote or found.
pub struct Recorded {
    pub user_id: Option<i64>,
    pub course_id: Option<i64>,
}

/// Upserts the user and course (keyed by platform + sub, platform + context
/// id) and opens a session for them. A user or course whose details did not
/// change is only read: rewriting the same rows on every launch made every
/// launch of a course queue on that course's row lock. Runs inside
/// [`commit`]'s transaction.
fn record(conn: &mut Conn, launch: &LaunchRecord<'_>) -> StoreResult<Recorded> {
    with_conn!(conn, c => {
        let user_id: Option<i64> = match launch.sub {
            None => None,
            Some(sub) => {
        let known_user: Option<(i64, Option<String>, Option<String>)> = users::table
            .filter(users::platform_id.eq(launch.platform_id.0))
            .filter(users::sub.eq(sub))
            .select((users::id, users::name, users::email))
            .first(c)
            .optional()?;
        Some(match known_user {
            Some((id, name, email)) if name.as_deref() == launch.name && email.as_deref() == launch.email => id,
            _ => prepared!(diesel::insert_into(users::table)
            .values((
                users::platform_id.eq(launch.platform_id.0),
                users::sub.eq(sub),
                users::name.eq(launch.name),
                users::email.eq(launch.email),
                users::updated_at.eq(launch.now),
            ))
            .on_conflict((users::platform_id, users::sub))
            .do_update()
            .set((
                users::name.eq(excluded(users::name)),
                users::email.eq(excluded(users::email)),
                users::updated_at.eq(excluded(users::updated_at)),
            ))
            .returning(users::id))
            .get_result(c)?,
        })
            }
        };
        let course_id: Option<i64> = match launch.context_id {
            None => None,
            Some(context_id) => {
                let known: Option<(i64, Option<String>, Option<String>)> = courses::table
                    .filter(courses::platform_id.eq(launch.platform_id.0))
                    .filter(courses::context_id.eq(context_id))
                    .select((courses::id, courses::label, courses::title))
                    .first(c)
                    .optional()?;
                match known {
                    Some((id, label, title))
                        if label.as_deref() == launch.context_label && title.as_deref() == launch.context_title =>
                    {
                        Some(id)
                    }
                    _ => Some(
                prepared!(diesel::insert_into(courses::table)
                    .values((
                        courses::platform_id.eq(launch.platform_id.0),
                        courses::context_id.eq(context_id),
                        courses::label.eq(launch.context_label),
                        courses::title.eq(launch.context_title),
                        courses::updated_at.eq(launch.now),
                    ))
                    .on_conflict((courses::platform_id, courses::context_id))
                    .do_update()
                    .set((
                        courses::label.eq(excluded(courses::label)),
                        courses::title.eq(excluded(courses::title)),
                        courses::updated_at.eq(excluded(courses::updated_at)),
                    ))
                    .returning(courses::id))
                    .get_result(c)?,
                    ),
                }
            }
        };
        prepared!(diesel::insert_into(sessions::table)
            .values((
                sessions::token_hash.eq(launch.session_token_hash),
                sessions::platform_id.eq(launch.platform_id.0),
                sessions::user_id.eq(user_id),
                sessions::course_id.eq(course_id),
                sessions::deployment_id.eq(launch.deployment_id),
                sessions::can_manage.eq(launch.can_manage),
                sessions::roles.eq(launch.roles),
                sessions::created_at.eq(launch.now),
                sessions::last_seen_at.eq(launch.now),
                sessions::expires_at.eq(launch.expires_at),
                sessions::deep_linking.eq(launch.deep_linking),
            )))
            .execute(c)?;
        Ok::<_, StoreError>(Recorded { user_id, course_id })
    })
}

/// The id of a course, created with these details if it is new (the demo
/// prepares its courses before anyone launches into them).
pub fn ensure_course(
    conn: &mut Conn,
    platform_id: PlatformId,
    context_id: &str,
    label: Option<&str>,
    title: Option<&str>,
    now: Timestamp,
) -> StoreResult<i64> {
    write_tx!(conn, c => {
        diesel::insert_into(courses::table)
            .values((
                courses::platform_id.eq(platform_id.0),
                courses::context_id.eq(context_id),
                courses::label.eq(label),
                courses::title.eq(title),
                courses::updated_at.eq(now),
            ))
            .on_conflict((courses::platform_id, courses::context_id))
            .do_nothing()
            .execute(c)?;
        courses::table
            .filter(courses::platform_id.eq(platform_id.0))
            .filter(courses::context_id.eq(context_id))
            .select(courses::id)
            .first(c)
            .map_err(StoreError::from)
    })
}
