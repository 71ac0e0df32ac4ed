use std::fmt;
use std::str::FromStr;

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
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lms::ALL
            .into_iter()
            .find(|lms| lms.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "unknown LMS '{s}' (expected moodle, canvas, sakai, brightspace or generic)"
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
    pub created_at: i64,
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

    pub fn parse(raw: &str) -> Result<DeploymentPolicy, String> {
        match raw.trim() {
            "strict" => Ok(DeploymentPolicy::Strict),
            "register_on_first_launch" => Ok(DeploymentPolicy::RegisterOnFirstLaunch),
            other => Err(format!(
                "'{other}' must be strict or register_on_first_launch"
            )),
        }
    }
}

/// The platform's two switches that guest access depends on, as the seed
/// documents name them: the invite-to-media module and the theming module's
/// media page feature. Both are on unless an administrator turns one off.
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
    pub fn apply(&mut self, switch: &str) -> Result<(), String> {
        let (name, value) = switch.split_once('=').ok_or_else(|| {
            format!("'{switch}' must look like invitetomedia=on or mediapage=off")
        })?;
        let on = match value.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => true,
            "off" | "false" | "0" => false,
            other => return Err(format!("'{other}' must be on or off")),
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "invitetomedia" => self.invite_to_media = on,
            "mediapage" => self.media_page = on,
            other => {
                return Err(format!(
                    "unknown module '{other}' (expected invitetomedia or mediapage)"
                ));
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
    pub created_at: i64,
    /// Recorded by its first launch (policy `register_on_first_launch`)
    /// rather than added by an administrator.
    pub added_by_launch: bool,
}

/// A deployment id as the LMS shows it: trimmed, 1 to 255 printable
/// characters. Ids are compared byte for byte (Brightspace's are upper-case
/// GUIDs), so nothing else is normalised.
pub fn parse_deployment_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    if id.is_empty() || id.chars().count() > 255 || id.chars().any(char::is_control) {
        return Err(format!(
            "'{}' must be 1 to 255 printable characters",
            id.escape_default()
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

impl NewPlatform {
    /// Checks a registration as an admin typed it (or an LMS answered it);
    /// the error names the field.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        lms: &str,
        issuer: &str,
        client_id: &str,
        auth_url: &str,
        jwks_url: &str,
        token_url: Option<&str>,
        deployment_ids: &[String],
        needed: DeploymentsNeeded,
    ) -> Result<NewPlatform, (&'static str, String)> {
        let text = |field: &'static str,
                    value: &str,
                    max: usize|
         -> Result<String, (&'static str, String)> {
            let value = value.trim();
            if value.is_empty() {
                return Err((field, "must not be empty".into()));
            }
            if value.chars().count() > max || value.chars().any(char::is_control) {
                return Err((field, format!("must be at most {max} printable characters")));
            }
            Ok(value.to_string())
        };
        let url = |field: &'static str, value: &str| -> Result<String, (&'static str, String)> {
            let value = text(field, value, 2000)?;
            let parsed =
                url::Url::parse(&value).map_err(|_| (field, format!("'{value}' is not a URL")))?;
            let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if parsed.scheme() != "https" && !(parsed.scheme() == "http" && local) {
                return Err((field, format!("'{value}' must be an https:// URL")));
            }
            Ok(value)
        };
        let mut deployments = Vec::new();
        for d in deployment_ids {
            let d = parse_deployment_id(d).map_err(|problem| ("deployment-id", problem))?;
            if !deployments.contains(&d) {
                deployments.push(d);
            }
        }
        if deployments.is_empty() && needed == DeploymentsNeeded::AtLeastOne {
            return Err((
                "deployment-id",
                "at least one deployment id is needed".into(),
            ));
        }
        Ok(NewPlatform {
            name: text("name", name, 200)?,
            lms: lms.parse().map_err(|e| ("lms", e))?,
            issuer: text("issuer", issuer, 2000)?,
            client_id: text("client-id", client_id, 255)?,
            auth_url: url("auth-url", auth_url)?,
            jwks_url: url("jwks-url", jwks_url)?,
            token_url: token_url.map(|t| url("token-url", t)).transpose()?,
            deployment_ids: deployments,
            deployment_policy: DeploymentPolicy::Strict,
            pending: false,
            registration_host: None,
        })
    }
}
