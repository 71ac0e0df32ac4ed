//! Launch: run the LTI validation pipeline, then turn the validated launch
//! into a user, a course and a session with course rights.

use jsonwebtoken::DecodingKey;

use super::{ServiceError, ServiceResult, Tool, platforms};
use crate::crypto::{hash_secret, secret_token};
use crate::domain::ids::{CourseId, PlatformId, UserId};
use crate::domain::permissions::CourseRights;
use crate::domain::platform::Platform;
use crate::domain::session::{Course, LaunchSession};
use crate::lti::launch::{self, LaunchBackend, LaunchInput, Leeway, StateRecord, ValidatedLaunch};
use crate::lti::{LaunchError, Registration};
use crate::store::platforms::record_launched_deployment;
use crate::store::{launch_attempts, launches, login_states};

/// A launch that passed every check, and the session it opened.
pub struct Launched {
    pub token: String,
    pub session: LaunchSession,
    pub launch: ValidatedLaunch,
}

struct Backend<'a> {
    tool: &'a Tool,
    /// The platform the pipeline looked up, kept for opening the session.
    platform: std::cell::RefCell<Option<Platform>>,
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
            .registrations
            .by_id(self.tool, PlatformId(platform_id))
            .await?;
        if platform.as_ref().is_some_and(|p| p.pending) {
            return Err(LaunchError::PlatformPending.into());
        }
        let registration = platform.as_ref().map(platforms::registration);
        *self.platform.borrow_mut() = platform;
        Ok(registration)
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
    let backend = Backend {
        tool,
        platform: Default::default(),
    };
    // Only the demo LMS, on this machine, takes content back over plain http.
    let return_urls = match tool.settings.mode {
        crate::config::Mode::Demo => launch::ReturnUrls::AlsoLoopbackHttp,
        crate::config::Mode::Serve => launch::ReturnUrls::HttpsOnly,
    };
    let launch::Verified { launch, claims } =
        launch::validate(&backend, input, leeway, return_urls).await?;
    let platform = backend.platform.into_inner().ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("a validated launch without its platform"))
    })?;
    let token = secret_token();
    // For the admin console's diagnostics: what this launch carried.
    let claims = super::diagnostics::claims_text(&claims);
    let session = open_session(tool, platform, &launch, &token, claims).await?;
    Ok(Launched {
        token,
        session,
        launch,
    })
}

/// Records the user and course and opens a session; the session is built
/// from what was written rather than read back.
async fn open_session(
    tool: &Tool,
    platform: Platform,
    launch: &ValidatedLaunch,
    token: &str,
    claims: String,
) -> ServiceResult<LaunchSession> {
    let launcher = launch.launcher().clone();
    let rights = CourseRights::from_roles(&launcher.roles);
    let now = tool.clock.unix();
    let expires_at = crate::domain::session::session_expiry(
        now,
        now,
        tool.settings.session_idle_minutes * 60,
        tool.settings.session_max_hours * 3600,
    );
    let token_hash = hash_secret(token);
    let roles = launcher.roles.join("\n");
    let deep_linking = match launch {
        ValidatedLaunch::DeepLinking { settings, .. } => {
            Some(serde_json::to_string(settings).map_err(|e| ServiceError::Internal(e.into()))?)
        }
        ValidatedLaunch::ResourceLink { .. } => None,
    };
    let written = launcher.clone();
    let (issuer, client_id) = (platform.issuer.clone(), platform.client_id.clone());
    if launcher.new_deployment {
        // Logged so an administrator can see where it came from.
        tracing::info!(
            platform_id = platform.id.0,
            deployment_id = %launcher.deployment_id,
            "a new deployment launched; recorded"
        );
    }
    let recorded = tool
        .db
        .write(move |conn| {
            if written.new_deployment {
                record_launched_deployment(
                    conn,
                    PlatformId(written.platform_id),
                    &written.deployment_id,
                    now,
                )?;
            }
            let context = written.context.as_ref();
            launch_attempts::record(
                conn,
                &launch_attempts::NewAttempt {
                    platform_id: Some(PlatformId(written.platform_id)),
                    issuer: &issuer,
                    client_id: Some(&client_id),
                    deployment_id: Some(&written.deployment_id),
                    stage: crate::domain::diagnostics::Stage::Launch,
                    error_code: None,
                    reason: None,
                    claims: Some(&claims),
                    now,
                },
            )?;
            launches::record(
                conn,
                &launches::LaunchRecord {
                    platform_id: PlatformId(written.platform_id),
                    sub: &written.sub,
                    name: written.name.as_deref(),
                    email: written.email.as_deref(),
                    context_id: context.map(|c| c.id.as_str()),
                    context_label: context.and_then(|c| c.label.as_deref()),
                    context_title: context.and_then(|c| c.title.as_deref()),
                    session_token_hash: &token_hash,
                    deployment_id: &written.deployment_id,
                    can_manage: rights.can_manage(),
                    roles: &roles,
                    now,
                    expires_at,
                    deep_linking: deep_linking.as_deref(),
                },
            )
        })
        .await?;
    Ok(LaunchSession {
        platform_id: platform.id,
        platform_name: platform.name,
        lms: platform.lms,
        user_id: UserId(recorded.user_id),
        user_name: launcher.name,
        user_email: launcher.email,
        course: match (launcher.context, recorded.course_id) {
            (Some(context), Some(id)) => Some(Course {
                id: CourseId(id),
                context_id: context.id,
                label: context.label,
                title: context.title,
            }),
            _ => None,
        },
        rights,
        deployment_id: launcher.deployment_id,
        roles: launcher.roles,
        started_at: now,
        last_seen_at: now,
        expires_at,
    })
}
