//! Launch: run the LTI validation pipeline, then turn the validated launch
//! into a user, a course and a session with course rights.

use jsonwebtoken::DecodingKey;

use super::failure::{Failure, Fault, Kind};
use super::{Tool, platforms};
use crate::crypto::{hash_secret, secret_token};
use crate::domain::ids::{CourseId, PlatformId, UserId};
use crate::domain::permissions::CourseRights;
use crate::domain::platform::Platform;
use crate::domain::session::{Course, LaunchSession};
use crate::lti::LaunchError;
use crate::lti::launch::{
    self, LaunchInput, LaunchRead, Leeway, PlatformKeys, PlatformRead, ValidatedLaunch,
};
use crate::store::launches::{self, LaunchCommit};
use crate::store::{launch_attempts, login_states};

/// Why a launch did not open a session: the platform's token or form was
/// refused (with its LTI error code), or the tool could not do its part.
#[derive(Debug, thiserror::Error)]
pub enum LaunchFailure {
    #[error(transparent)]
    Refused(#[from] LaunchError),
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(LaunchFailure);

impl Failure for LaunchFailure {
    fn code(&self) -> &'static str {
        match self {
            LaunchFailure::Refused(e) => Failure::code(e),
            LaunchFailure::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            LaunchFailure::Refused(e) => e.kind(),
            LaunchFailure::Fault(f) => f.kind(),
        }
    }

    fn message(&self) -> String {
        match self {
            LaunchFailure::Refused(e) => e.message(),
            LaunchFailure::Fault(f) => f.message(),
        }
    }

    fn title(&self) -> Option<&'static str> {
        match self {
            LaunchFailure::Refused(e) => e.title(),
            LaunchFailure::Fault(_) => None,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            LaunchFailure::Refused(e) => e.hint(),
            LaunchFailure::Fault(_) => None,
        }
    }
}

/// A launch that passed every check, and the session it opened.
pub struct Launched {
    pub token: String,
    pub session: LaunchSession,
    pub launch: ValidatedLaunch,
}

/// The platforms' keys, from the JWKS cache.
struct CachedKeys<'a>(&'a Tool);

impl PlatformKeys for CachedKeys<'_> {
    async fn key(&self, jwks_url: &str, kid: &str) -> Result<DecodingKey, LaunchError> {
        self.0.jwks.key(jwks_url, kid).await
    }
}

/// The login state the form names, and its platform: all the checks read.
async fn read(tool: &Tool, state: &str) -> Result<(LaunchRead, Option<Platform>), Fault> {
    if state.is_empty() {
        return Ok((LaunchRead::default(), None));
    }
    let state_hash = hash_secret(state);
    let record = tool
        .db
        .read(move |conn| login_states::find(conn, &state_hash))
        .await?;
    let platform = match &record {
        Some(record) => {
            tool.registrations
                .by_id(tool, PlatformId(record.platform_id))
                .await?
        }
        None => None,
    };
    let read = LaunchRead {
        state: record,
        platform: platform.as_ref().map(|p| PlatformRead {
            registration: platforms::registration(p),
            pending: p.pending,
        }),
    };
    Ok((read, platform))
}

pub async fn finish(tool: &Tool, input: LaunchInput<'_>) -> Result<Launched, LaunchFailure> {
    let (read, platform) = read(tool, input.state).await?;
    let leeway = Leeway {
        now: tool.clock.now(),
        skew: tool.settings.lti.jwt_leeway,
    };
    // Only the demo LMS, on this machine, takes content back over plain http.
    let return_urls = match tool.settings.mode {
        crate::config::Mode::Demo => launch::ReturnUrls::AlsoLoopbackHttp,
        crate::config::Mode::Serve => launch::ReturnUrls::HttpsOnly,
    };
    let launch::Verified { launch, claims } =
        launch::validate(input, &read, &CachedKeys(tool), leeway, return_urls).await?;
    let platform = platform.ok_or_else(|| {
        Fault::Internal(anyhow::anyhow!("a validated launch without its platform"))
    })?;
    let token = secret_token();
    // For the admin console's diagnostics: what this launch carried.
    let claims = super::diagnostics::claims_text(&claims);
    let session = open_session(tool, platform, &launch, input.state, &token, claims).await?;
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
    state: &str,
    token: &str,
    claims: String,
) -> Result<LaunchSession, LaunchFailure> {
    let launcher = launch.launcher().clone();
    let rights = CourseRights::from_roles(&launcher.roles);
    let now = tool.clock.now();
    let expires_at = crate::domain::session::session_expiry(
        now,
        now,
        tool.settings.sessions.idle,
        tool.settings.sessions.max,
    );
    let token_hash = hash_secret(token);
    let roles = launcher.roles.join("\n");
    // The rights the roles give are kept as they are; an anonymous launch
    // still changes nothing, as `LaunchSession::can_manage` needs a user.
    let can_manage = rights.can_manage();
    let deep_linking = match launch {
        ValidatedLaunch::DeepLinking { settings, .. } => {
            Some(serde_json::to_string(settings).map_err(|e| Fault::Internal(e.into()))?)
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
    let state_hash = hash_secret(state);
    let recorded = tool
        .db
        .write(move |conn| {
            let context = written.context.as_ref();
            let platform_id = PlatformId(written.platform_id);
            launches::commit(
                conn,
                &LaunchCommit {
                    state_hash: &state_hash,
                    new_deployment: written
                        .new_deployment
                        .then_some(written.deployment_id.as_str()),
                    attempt: launch_attempts::NewAttempt {
                        platform_id: Some(platform_id),
                        issuer: &issuer,
                        client_id: Some(&client_id),
                        deployment_id: Some(&written.deployment_id),
                        stage: crate::domain::diagnostics::Stage::Launch,
                        error_code: None,
                        reason: None,
                        claims: Some(&claims),
                        now,
                    },
                    record: launches::LaunchRecord {
                        platform_id,
                        sub: written.sub.as_deref(),
                        name: written.name.as_deref(),
                        email: written.email.as_deref(),
                        context_id: context.map(|c| c.id.as_str()),
                        context_label: context.and_then(|c| c.label.as_deref()),
                        context_title: context.and_then(|c| c.title.as_deref()),
                        session_token_hash: &token_hash,
                        deployment_id: &written.deployment_id,
                        can_manage,
                        roles: &roles,
                        now,
                        expires_at,
                        deep_linking: deep_linking.as_deref(),
                    },
                },
            )
        })
        .await?
        // Another post of this launch used its state first.
        .ok_or(LaunchError::NonceReused)?;
    Ok(LaunchSession {
        platform_id: platform.id,
        platform_name: platform.name,
        lms: platform.lms,
        user_id: recorded.user_id.map(UserId),
        // An anonymous launch records no one: its pages name no one either,
        // now or after a reload.
        user_name: launcher.sub.as_ref().and(launcher.name),
        user_email: launcher.sub.as_ref().and(launcher.email),
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
        invitee: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_launch_keeps_the_lti_code_kind_title_and_hint() {
        let refused = LaunchFailure::from(LaunchError::NonceReused);
        assert_eq!(refused.code(), "nonce_reused");
        assert_eq!(refused.kind(), Kind::Unauthenticated);
        assert_eq!(refused.title(), Some("This launch could not be completed"));
        assert_eq!(
            refused.hint().as_deref(),
            Some(LaunchError::NonceReused.admin_hint())
        );
        assert!(
            refused
                .message()
                .starts_with("guestlink refused the launch:")
        );
    }

    #[test]
    fn a_launch_the_tool_failed_has_the_faults_code_and_no_title_or_hint() {
        let failed = LaunchFailure::from(crate::store::StoreError::Unavailable("x".into()));
        assert_eq!(
            (failed.code(), failed.kind()),
            ("database_unavailable", Kind::Unavailable)
        );
        assert_eq!((failed.title(), failed.hint()), (None, None));
    }
}
