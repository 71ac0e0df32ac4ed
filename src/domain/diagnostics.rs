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

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(error_code: Option<&str>, reason: Option<&str>) -> LaunchAttempt {
        LaunchAttempt {
            platform_id: None,
            issuer: "https://lms.example.edu".into(),
            client_id: None,
            deployment_id: None,
            stage: Stage::Launch,
            error_code: error_code.map(str::to_string),
            reason: reason.map(str::to_string),
            claims: None,
            created_at: super::super::time::Timestamp::from_unix(0),
        }
    }

    #[test]
    fn each_stage_reads_back_from_its_name() {
        for stage in [Stage::Login, Stage::Launch] {
            assert_eq!(Stage::parse(stage.as_str()), Ok(stage));
        }
        assert_ne!(Stage::Login.as_str(), Stage::Launch.as_str());
    }

    #[test]
    fn an_unknown_stage_is_refused_by_name() {
        for raw in ["Login", "LAUNCH", "", "logout"] {
            let err = Stage::parse(raw).unwrap_err();
            assert!(err.contains(&format!("'{raw}'")), "{err}");
        }
    }

    #[test]
    fn an_attempt_succeeded_when_it_has_no_error_code() {
        assert!(attempt(None, None).succeeded());
        assert!(!attempt(Some("unknown_kid"), Some("why")).succeeded());
    }

    #[test]
    fn the_reason_and_the_hint_are_split_at_the_first_line_break() {
        let both = attempt(
            Some("x"),
            Some("the kid is unknown\ncheck the JWKS URL\nand more"),
        );
        assert_eq!(
            both.reason_and_hint(),
            ("the kid is unknown", "check the JWKS URL\nand more")
        );
        let reason_only = attempt(Some("x"), Some("no hint here"));
        assert_eq!(reason_only.reason_and_hint(), ("no hint here", ""));
        assert_eq!(attempt(None, None).reason_and_hint(), ("", ""));
    }
}
