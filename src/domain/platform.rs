//! LTI platforms as guestlink registers them: which LMS, the (issuer,
//! client id) pair, endpoints, deployments, and the switches an
//! administrator sets.

use std::fmt;
use std::str::FromStr;

use super::field::{Field, FieldError};

/// The LMS a platform is, which decides a few protocol details and the help
/// shown to its administrators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lms {
    Moodle,
    Canvas,
    Sakai,
    Brightspace,
    Generic,
}

impl Lms {
    pub const ALL: [Lms; 5] = [
        Lms::Moodle,
        Lms::Canvas,
        Lms::Sakai,
        Lms::Brightspace,
        Lms::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Lms::Moodle => "moodle",
            Lms::Canvas => "canvas",
            Lms::Sakai => "sakai",
            Lms::Brightspace => "brightspace",
            Lms::Generic => "generic",
        }
    }

    /// The LMS an OpenID configuration's `product_family_code` names.
    pub fn from_product_family(code: Option<&str>) -> Lms {
        match code.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
            Some("moodle") => Lms::Moodle,
            Some("canvas") => Lms::Canvas,
            // Sakai's configuration says "sakailms.org", its launches "sakai".
            Some("sakai" | "sakailms.org") => Lms::Sakai,
            Some("desire2learn" | "d2l" | "brightspace") => Lms::Brightspace,
            _ => Lms::Generic,
        }
    }

    /// Whether this LMS always sends a registration token with dynamic
    /// registration (Brightspace hides it in the configuration URL instead).
    pub fn sends_registration_token(self) -> bool {
        matches!(self, Lms::Moodle | Lms::Canvas | Lms::Sakai)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Lms::Moodle => "Moodle",
            Lms::Canvas => "Canvas",
            Lms::Sakai => "Sakai",
            Lms::Brightspace => "Brightspace",
            Lms::Generic => "LTI platform",
        }
    }
}

impl fmt::Display for Lms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lms {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lms::ALL
            .into_iter()
            .find(|lms| lms.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                FieldError::new(
                    Field::Lms,
                    format!(
                        "unknown LMS '{s}' (expected moodle, canvas, sakai, brightspace or generic)"
                    ),
                )
            })
    }
}

/// One registered LTI platform: an (issuer, client id) pair, where its
/// endpoints are, and the deployments that may launch through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub id: super::ids::PlatformId,
    pub name: String,
    pub lms: Lms,
    pub issuer: String,
    pub client_id: String,
    pub auth_url: String,
    pub jwks_url: String,
    pub token_url: Option<String>,
    pub deployment_ids: Vec<String>,
    pub created_at: super::time::Timestamp,
    pub modules: Modules,
    pub deployment_policy: DeploymentPolicy,
    /// Registered dynamically from a host the tool does not list: it cannot
    /// launch until a tool administrator activates it.
    pub pending: bool,
}

/// What a launch from a deployment id the platform has not listed does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeploymentPolicy {
    /// Refused (`unknown_deployment`): only listed ids may launch. The
    /// default for platforms added by hand.
    #[default]
    Strict,
    /// Accepted when everything else holds, and the id is recorded: Canvas
    /// and Brightspace create deployments after the registration.
    RegisterOnFirstLaunch,
}

impl DeploymentPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentPolicy::Strict => "strict",
            DeploymentPolicy::RegisterOnFirstLaunch => "register_on_first_launch",
        }
    }

    pub fn parse(raw: &str) -> Result<DeploymentPolicy, FieldError> {
        match raw.trim() {
            "strict" => Ok(DeploymentPolicy::Strict),
            "register_on_first_launch" => Ok(DeploymentPolicy::RegisterOnFirstLaunch),
            other => Err(FieldError::new(
                Field::DeploymentPolicy,
                format!("'{other}' must be strict or register_on_first_launch"),
            )),
        }
    }
}

/// The platform's two switches that guest access depends on: the
/// invite-to-media module and the theming module's media page feature. Both are on unless an administrator turns one off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modules {
    pub invite_to_media: bool,
    pub media_page: bool,
}

impl Default for Modules {
    fn default() -> Self {
        Modules {
            invite_to_media: true,
            media_page: true,
        }
    }
}

impl Modules {
    /// May guest access be offered for courses of this platform?
    pub fn guest_access_offered(self) -> bool {
        self.invite_to_media && self.media_page
    }

    /// Applies one `name=on|off` switch as the command line writes it.
    pub fn apply(&mut self, switch: &str) -> Result<(), FieldError> {
        let refused = |problem: String| FieldError::new(Field::Module, problem);
        let (name, value) = switch.split_once('=').ok_or_else(|| {
            refused(format!(
                "'{switch}' must look like invitetomedia=on or mediapage=off"
            ))
        })?;
        let on = match value.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => true,
            "off" | "false" | "0" => false,
            other => return Err(refused(format!("'{other}' must be on or off"))),
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "invitetomedia" => self.invite_to_media = on,
            "mediapage" => self.media_page = on,
            other => {
                return Err(refused(format!(
                    "unknown module '{other}' (expected invitetomedia or mediapage)"
                )));
            }
        }
        Ok(())
    }

    /// The switches as `platform list` prints them.
    pub fn describe(self) -> String {
        let word = |on: bool| if on { "on" } else { "off" };
        format!(
            "invitetomedia={} mediapage={}",
            word(self.invite_to_media),
            word(self.media_page)
        )
    }
}

/// One deployment of a platform, as the admin console lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub id: String,
    pub created_at: super::time::Timestamp,
    /// Recorded by its first launch (policy `register_on_first_launch`)
    /// rather than added by an administrator.
    pub added_by_launch: bool,
}

/// A deployment id as the LMS shows it: trimmed, 1 to 255 printable
/// characters. Ids are compared byte for byte (Brightspace's are upper-case
/// GUIDs), so nothing else is normalised.
pub fn parse_deployment_id(raw: &str) -> Result<String, FieldError> {
    let id = raw.trim();
    if id.is_empty() || id.chars().count() > 255 || id.chars().any(char::is_control) {
        return Err(FieldError::new(
            Field::DeploymentId,
            format!(
                "'{}' must be 1 to 255 printable characters",
                id.escape_default()
            ),
        ));
    }
    Ok(id.to_string())
}

/// Whether a registration must name a deployment when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeploymentsNeeded {
    /// Added by hand (`platform add`, the console): the LMS showed one.
    AtLeastOne,
    /// Canvas and Brightspace create deployments after a dynamic
    /// registration; the first launch records them.
    MayComeLater,
}

/// A platform to register, every field checked.
#[derive(Clone, Debug)]
pub struct NewPlatform {
    pub name: String,
    pub lms: Lms,
    pub issuer: String,
    pub client_id: String,
    pub auth_url: String,
    pub jwks_url: String,
    pub token_url: Option<String>,
    /// May be empty for a dynamic registration: Canvas and Brightspace
    /// create deployments later.
    pub deployment_ids: Vec<String>,
    pub deployment_policy: DeploymentPolicy,
    pub pending: bool,
    /// host[:port] of the configuration a dynamic registration came from.
    pub registration_host: Option<String>,
}

/// A registration's fields as they came (a form, the command line, an
/// import file, an LMS's answer), before any is checked.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlatformFields<'a> {
    pub name: &'a str,
    pub lms: &'a str,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub auth_url: &'a str,
    pub jwks_url: &'a str,
    /// None, or empty text, for none.
    pub token_url: Option<&'a str>,
    pub deployment_ids: &'a [String],
}

/// Trimmed text of at most `max` printable characters, not empty.
fn text(field: Field, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} printable characters"),
        ));
    }
    Ok(value.to_string())
}

/// An https URL (http only for this machine: a test or an LMS beside it).
fn endpoint(field: Field, value: &str) -> Result<String, FieldError> {
    let value = text(field, value, 2000)?;
    let parsed = url::Url::parse(&value)
        .map_err(|_| FieldError::new(field, format!("'{value}' is not a URL")))?;
    let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && local) {
        return Err(FieldError::new(
            field,
            format!("'{value}' must be an https:// URL"),
        ));
    }
    Ok(value)
}

impl NewPlatform {
    /// Checks a registration's fields; the error names the first refused.
    pub fn parse(
        fields: &PlatformFields<'_>,
        needed: DeploymentsNeeded,
    ) -> Result<NewPlatform, FieldError> {
        let mut deployments = Vec::new();
        for d in fields.deployment_ids {
            let d = parse_deployment_id(d)?;
            if !deployments.contains(&d) {
                deployments.push(d);
            }
        }
        if deployments.is_empty() && needed == DeploymentsNeeded::AtLeastOne {
            return Err(FieldError::new(
                Field::DeploymentId,
                "at least one deployment id is needed",
            ));
        }
        let token_url = fields.token_url.map(str::trim).filter(|t| !t.is_empty());
        Ok(NewPlatform {
            name: text(Field::PlatformName, fields.name, 200)?,
            lms: fields.lms.parse()?,
            issuer: text(Field::Issuer, fields.issuer, 2000)?,
            client_id: text(Field::ClientId, fields.client_id, 255)?,
            auth_url: endpoint(Field::AuthUrl, fields.auth_url)?,
            jwks_url: endpoint(Field::JwksUrl, fields.jwks_url)?,
            token_url: token_url
                .map(|t| endpoint(Field::TokenUrl, t))
                .transpose()?,
            deployment_ids: deployments,
            deployment_policy: DeploymentPolicy::Strict,
            pending: false,
            registration_host: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moodle<'a>(deployments: &'a [String]) -> PlatformFields<'a> {
        PlatformFields {
            name: " Moodle ",
            lms: "Moodle",
            issuer: "https://lms.example.edu",
            client_id: "abc",
            auth_url: "https://lms.example.edu/auth",
            jwks_url: "https://lms.example.edu/certs",
            token_url: Some(""),
            deployment_ids: deployments,
        }
    }

    fn refused(fields: PlatformFields<'_>) -> Field {
        NewPlatform::parse(&fields, DeploymentsNeeded::AtLeastOne)
            .expect_err("refused")
            .field
    }

    #[test]
    fn a_registration_is_trimmed_and_its_deployments_deduplicated() {
        let ids = ["4".to_string(), " 4 ".to_string(), "7".to_string()];
        let new = NewPlatform::parse(&moodle(&ids), DeploymentsNeeded::AtLeastOne).unwrap();
        assert_eq!(new.name, "Moodle");
        assert_eq!(new.lms, Lms::Moodle);
        assert_eq!(new.deployment_ids, ["4", "7"]);
        assert_eq!(new.token_url, None, "empty text is no token URL");
        assert_eq!(new.deployment_policy, DeploymentPolicy::Strict);
    }

    #[test]
    fn each_refused_field_is_named() {
        let ids = ["4".to_string()];
        let base = moodle(&ids);
        assert_eq!(
            refused(PlatformFields { name: " ", ..base }),
            Field::PlatformName
        );
        assert_eq!(
            refused(PlatformFields {
                lms: "blackboard",
                ..base
            }),
            Field::Lms
        );
        assert_eq!(
            refused(PlatformFields { issuer: "", ..base }),
            Field::Issuer
        );
        let long = "x".repeat(256);
        assert_eq!(
            refused(PlatformFields {
                client_id: &long,
                ..base
            }),
            Field::ClientId
        );
        assert_eq!(
            refused(PlatformFields {
                auth_url: "http://lms.example.edu/a",
                ..base
            }),
            Field::AuthUrl
        );
        assert_eq!(
            refused(PlatformFields {
                jwks_url: "not a url",
                ..base
            }),
            Field::JwksUrl
        );
        assert_eq!(
            refused(PlatformFields {
                token_url: Some("ftp://x/"),
                ..base
            }),
            Field::TokenUrl
        );
        assert_eq!(
            refused(PlatformFields {
                deployment_ids: &[],
                ..base
            }),
            Field::DeploymentId
        );
        let control = ["a\u{7}b".to_string()];
        assert_eq!(
            refused(PlatformFields {
                deployment_ids: &control,
                ..base
            }),
            Field::DeploymentId
        );
    }

    #[test]
    fn a_dynamic_registration_may_come_without_deployments() {
        let new = NewPlatform::parse(&moodle(&[]), DeploymentsNeeded::MayComeLater).unwrap();
        assert!(new.deployment_ids.is_empty());
    }

    #[test]
    fn plain_http_is_for_this_machine_only() {
        assert!(endpoint(Field::AuthUrl, "http://127.0.0.1:8080/auth").is_ok());
        assert!(endpoint(Field::AuthUrl, "http://localhost/auth").is_ok());
        assert!(endpoint(Field::AuthUrl, "http://10.0.0.1/auth").is_err());
        assert!(endpoint(Field::AuthUrl, "https://10.0.0.1/auth").is_ok());
    }

    #[test]
    fn module_switches_are_read_as_the_command_line_writes_them() {
        let mut modules = Modules::default();
        modules.apply("mediapage=off").unwrap();
        modules.apply(" InviteToMedia = FALSE ").unwrap();
        assert_eq!(
            modules,
            Modules {
                invite_to_media: false,
                media_page: false
            }
        );
        assert!(!modules.guest_access_offered());
        modules.apply("mediapage=1").unwrap();
        assert_eq!(modules.describe(), "invitetomedia=off mediapage=on");
        for bad in ["mediapage", "mediapage=maybe", "gallery=on"] {
            assert_eq!(
                modules.apply(bad).unwrap_err().field,
                Field::Module,
                "{bad}"
            );
        }
    }

    #[test]
    fn deployment_policies_and_ids() {
        assert_eq!(
            DeploymentPolicy::parse(" register_on_first_launch "),
            Ok(DeploymentPolicy::RegisterOnFirstLaunch)
        );
        assert_eq!(
            DeploymentPolicy::parse("lenient").unwrap_err().field,
            Field::DeploymentPolicy
        );
        assert_eq!(parse_deployment_id(" 328:b27 ").unwrap(), "328:b27");
        assert!(parse_deployment_id(&"d".repeat(255)).is_ok());
        assert!(parse_deployment_id(&"d".repeat(256)).is_err());
        assert!(parse_deployment_id("   ").is_err());
    }

    #[test]
    fn the_product_family_names_the_lms() {
        assert_eq!(Lms::from_product_family(Some("sakailms.org")), Lms::Sakai);
        assert_eq!(
            Lms::from_product_family(Some(" Desire2Learn ")),
            Lms::Brightspace
        );
        assert_eq!(Lms::from_product_family(Some("canvas")), Lms::Canvas);
        assert_eq!(Lms::from_product_family(None), Lms::Generic);
        for lms in Lms::ALL {
            assert_eq!(lms.as_str().parse::<Lms>(), Ok(lms));
        }
    }
}
