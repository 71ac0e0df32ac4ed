//! Launch: run the LTI validation pipeline, then turn the validated launch
//! into a user, a course and a session with course rights.

use jsonwebtoken::DecodingKey;

use super::{ServiceError, ServiceResult, Tool, platforms};
use crate::crypto::{hash_secret, secret_token};
use crate::domain::ids::PlatformId;
use crate::domain::permissions::CourseRights;
use crate::domain::session::LaunchSession;
use crate::lti::Registration;
use crate::lti::launch::{self, LaunchBackend, LaunchInput, Leeway, StateRecord, ValidatedLaunch};
use crate::store::{launches, login_states};

/// A launch that passed every check, and the session it opened.
pub struct Launched {
    pub token: String,
    pub session: LaunchSession,
    pub launch: ValidatedLaunch,
}

struct Backend<'a> {
    tool: &'a Tool,
}

impl LaunchBackend for Backend<'_> {
    type Error = ServiceError;

    async fn find_state(&self, state_hash: &str) -> ServiceResult<Option<StateRecord>> {
        let hash = state_hash.to_string();
        Ok(self
            .tool
            .db
            .read(move |conn| login_states::find(conn, &hash))
            .await?)
    }

    async fn registration(&self, platform_id: i64) -> ServiceResult<Option<Registration>> {
        let platform = self
            .tool
            .db
            .read(move |conn| crate::store::platforms::find(conn, PlatformId(platform_id)))
            .await?;
        Ok(platform.as_ref().map(platforms::registration))
    }

    async fn platform_key(
        &self,
        registration: &Registration,
        kid: &str,
    ) -> ServiceResult<DecodingKey> {
        Ok(self.tool.jwks.key(&registration.jwks_url, kid).await?)
    }

    async fn consume_state(&self, state_hash: &str) -> ServiceResult<bool> {
        let hash = state_hash.to_string();
        let now = self.tool.clock.unix();
        Ok(self
            .tool
            .db
            .write(move |conn| login_states::consume(conn, &hash, now))
            .await?)
    }
}

pub async fn finish(tool: &Tool, input: LaunchInput<'_>) -> ServiceResult<Launched> {
    let leeway = Leeway {
        now: tool.clock.unix(),
        seconds: tool.settings.jwt_leeway_seconds,
    };
    let launch = launch::validate(&Backend { tool }, input, leeway).await?;
    let token = secret_token();
    open_session(tool, &launch, &token).await?;
    let session = super::sessions::find(tool, &token).await?.ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("the new session could not be read back"))
    })?;
    Ok(Launched {
        token,
        session,
        launch,
    })
}

async fn open_session(tool: &Tool, launch: &ValidatedLaunch, token: &str) -> ServiceResult<()> {
    let launcher = launch.launcher().clone();
    let rights = CourseRights::from_roles(&launcher.roles);
    let now = tool.clock.unix();
    let expires_at = now + tool.settings.session_idle_minutes * 60;
    let token_hash = hash_secret(token);
    let roles = launcher.roles.join("\n");
    tool.db
        .write(move |conn| {
            let context = launcher.context.as_ref();
            launches::record(
                conn,
                &launches::LaunchRecord {
                    platform_id: PlatformId(launcher.platform_id),
                    sub: &launcher.sub,
                    name: launcher.name.as_deref(),
                    email: launcher.email.as_deref(),
                    context_id: context.map(|c| c.id.as_str()),
                    context_label: context.and_then(|c| c.label.as_deref()),
                    context_title: context.and_then(|c| c.title.as_deref()),
                    session_token_hash: &token_hash,
                    deployment_id: &launcher.deployment_id,
                    can_manage: rights.can_manage(),
                    roles: &roles,
                    now,
                    expires_at,
                },
            )
        })
        .await?;
    Ok(())
}
