//! Launch diagnostics: what the admin console shows of each login and launch.

use super::ids::PlatformId;

/// How far an attempt got: the login initiation or the launch itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Login,
    Launch,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Login => "login",
            Stage::Launch => "launch",
        }
    }

    pub fn parse(raw: &str) -> Result<Stage, String> {
        match raw {
            "login" => Ok(Stage::Login),
            "launch" => Ok(Stage::Launch),
            other => Err(format!("'{other}' is not a launch stage")),
        }
    }
}

/// One recorded login or launch.
#[derive(Clone, Debug)]
pub struct LaunchAttempt {
    /// None when no registered platform matched the issuer (and client id).
    pub platform_id: Option<PlatformId>,
    pub issuer: String,
    pub client_id: Option<String>,
    pub deployment_id: Option<String>,
    pub stage: Stage,
    /// The refusal's code; None for a launch that got in.
    pub error_code: Option<String>,
    /// The reason in words, then a line with what to check.
    pub reason: Option<String>,
    /// The id_token's claims as indented JSON (never the token itself).
    pub claims: Option<String>,
    pub created_at: super::time::Timestamp,
}

impl LaunchAttempt {
    pub fn succeeded(&self) -> bool {
        self.error_code.is_none()
    }

    /// The reason and the advice, apart.
    pub fn reason_and_hint(&self) -> (&str, &str) {
        match self.reason.as_deref() {
            Some(reason) => reason.split_once('\n').unwrap_or((reason, "")),
            None => ("", ""),
        }
    }
}

/// Which attempts to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptScope {
    All,
    Platform(PlatformId),
    /// Attempts from issuers no platform is registered with.
    UnknownIssuers,
}
