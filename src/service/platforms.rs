//! Registering, changing and removing platforms, for the command line and
//! the admin console alike. Each change drops the cached registrations, so
//! it counts from the next request, and is logged.

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use crate::domain::field::{Field, FieldError};
use crate::domain::ids::PlatformId;
use crate::domain::platform::{
    Deployment, DeploymentPolicy, DeploymentsNeeded, Modules, NewPlatform, Platform,
    PlatformFields, parse_deployment_id,
};
use crate::lti::Registration;
use crate::store::{StoreError, media, platforms};

/// Why a change to the platforms was refused.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("no platform with id {0}")]
    NotFound(PlatformId),
    #[error("a platform with issuer {issuer} and client id {client_id} is already registered")]
    AlreadyRegistered { issuer: String, client_id: String },
    /// Removal refused: the platform's courses hold this many media items.
    #[error("platform {id} holds {count} media item(s); removing it would delete them")]
    HoldsMedia { id: PlatformId, count: i64 },
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// An import file that is not a guestlink export, or one of whose
    /// entries is refused (`at` says where, as `platforms[1].jwks_url`).
    #[error("{at}: {problem}")]
    BadExport { at: String, problem: String },
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(PlatformError);

impl Failure for PlatformError {
    fn code(&self) -> &'static str {
        match self {
            PlatformError::NotFound(_) => "not_found",
            PlatformError::AlreadyRegistered { .. } => "platform_exists",
            PlatformError::HoldsMedia { .. } => "platform_holds_media",
            PlatformError::Invalid(e) => e.code(),
            PlatformError::BadExport { .. } => "invalid",
            PlatformError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            PlatformError::NotFound(_) => Kind::NotFound,
            PlatformError::AlreadyRegistered { .. } | PlatformError::HoldsMedia { .. } => {
                Kind::Conflict
            }
            PlatformError::Invalid(e) => e.kind(),
            PlatformError::BadExport { .. } => Kind::Invalid,
            PlatformError::Fault(f) => f.kind(),
        }
    }

    fn field(&self) -> Option<Field> {
        match self {
            PlatformError::Invalid(e) => e.field(),
            PlatformError::AlreadyRegistered { .. } => Some(Field::ClientId),
            PlatformError::BadExport { .. } => Some(Field::Document),
            _ => None,
        }
    }

    fn invalid(&self) -> Option<&FieldError> {
        match self {
            PlatformError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

pub type PlatformResult<T> = Result<T, PlatformError>;

pub async fn list(tool: &Tool) -> Result<Vec<Platform>, Fault> {
    Ok(tool.db.read(platforms::list).await?)
}

/// A platform and its deployments (with how each arrived).
pub async fn platform(tool: &Tool, id: PlatformId) -> PlatformResult<(Platform, Vec<Deployment>)> {
    tool.db
        .read(move |conn| {
            Ok(match platforms::find(conn, id)? {
                Some(p) => Some((p, platforms::deployments_of(conn, id)?)),
                None => None,
            })
        })
        .await?
        .ok_or(PlatformError::NotFound(id))
}

/// Registers a platform typed in by an administrator.
pub async fn add(tool: &Tool, new: NewPlatform) -> PlatformResult<PlatformId> {
    let now = tool.clock.now();
    let (issuer, client_id) = (new.issuer.clone(), new.client_id.clone());
    match tool
        .db
        .write(move |conn| platforms::insert(conn, &new, now))
        .await
    {
        Ok(id) => {
            changed(tool, id, "added");
            Ok(id)
        }
        // The one unique rule of platforms: (issuer, client id).
        Err(StoreError::Conflict(_)) => Err(PlatformError::AlreadyRegistered { issuer, client_id }),
        Err(other) => Err(other.into()),
    }
}

/// What an administrator may change of a registration without registering
/// it again: the issuer and client id are its identity.
pub struct Details {
    pub name: String,
    pub auth_url: String,
    pub jwks_url: String,
    pub token_url: Option<String>,
}

impl Details {
    /// The changed details, checked by the rules of a new registration (the
    /// issuer, client id and deployments stay as they are).
    pub fn parse(platform: &Platform, fields: &PlatformFields<'_>) -> Result<Details, FieldError> {
        let checked = NewPlatform::parse(
            &PlatformFields {
                lms: platform.lms.as_str(),
                issuer: &platform.issuer,
                client_id: &platform.client_id,
                deployment_ids: &[],
                ..*fields
            },
            DeploymentsNeeded::MayComeLater,
        )?;
        Ok(Details {
            name: checked.name,
            auth_url: checked.auth_url,
            jwks_url: checked.jwks_url,
            token_url: checked.token_url,
        })
    }
}

pub async fn edit(tool: &Tool, id: PlatformId, details: Details) -> PlatformResult<()> {
    let found = tool
        .db
        .write(move |conn| {
            platforms::update_details(
                conn,
                id,
                &platforms::Details {
                    name: &details.name,
                    auth_url: &details.auth_url,
                    jwks_url: &details.jwks_url,
                    token_url: details.token_url.as_deref(),
                },
            )
        })
        .await?;
    found_then(tool, id, found, "details")
}

pub async fn set_modules(tool: &Tool, id: PlatformId, modules: Modules) -> PlatformResult<()> {
    let found = tool
        .db
        .write(move |conn| platforms::set_modules(conn, id, modules))
        .await?;
    found_then(tool, id, found, "modules")
}

/// Applies `name=on|off` module switches; the platform's switches after.
pub async fn switch_modules(
    tool: &Tool,
    id: PlatformId,
    switches: &[String],
) -> PlatformResult<Modules> {
    let (platform, _) = platform(tool, id).await?;
    let mut modules = platform.modules;
    for switch in switches {
        modules.apply(switch)?;
    }
    set_modules(tool, id, modules).await?;
    Ok(modules)
}

pub async fn set_deployment_policy(
    tool: &Tool,
    id: PlatformId,
    policy: DeploymentPolicy,
) -> PlatformResult<()> {
    let found = tool
        .db
        .write(move |conn| platforms::set_deployment_policy(conn, id, policy))
        .await?;
    found_then(tool, id, found, "deployment policy")
}

/// Adds deployments that the LMS created after registration (Canvas and
/// Brightspace create one per installation); how many were new.
pub async fn add_deployments(
    tool: &Tool,
    id: PlatformId,
    deployment_ids: &[String],
) -> PlatformResult<usize> {
    let clean = deployment_ids
        .iter()
        .map(|d| parse_deployment_id(d))
        .collect::<Result<Vec<_>, _>>()?;
    let now = tool.clock.now();
    match tool
        .db
        .write(move |conn| platforms::add_deployments(conn, id, &clean, now))
        .await
    {
        Ok(added) => {
            changed(tool, id, "deployment added");
            Ok(added)
        }
        Err(StoreError::NotFound) => Err(PlatformError::NotFound(id)),
        Err(other) => Err(other.into()),
    }
}

/// What `activate` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Activation {
    Activated,
    AlreadyActive,
}

/// Lets a pending platform (a dynamic registration from a host the tool does
/// not list) launch.
pub async fn activate(tool: &Tool, id: PlatformId) -> PlatformResult<Activation> {
    let (platform, _) = platform(tool, id).await?;
    if !platform.pending {
        return Ok(Activation::AlreadyActive);
    }
    tool.db
        .write(move |conn| platforms::activate(conn, id))
        .await?;
    changed(tool, id, "activated");
    Ok(Activation::Activated)
}

/// Removes a platform and everything of it; how many media items went with
/// it. A platform whose courses hold media is only removed with `force`,
/// which deletes the media as DELETE does (files included) first.
pub async fn remove(tool: &Tool, id: PlatformId, force: bool) -> PlatformResult<usize> {
    let now = tool.clock.now();
    let held = tool
        .db
        .read(move |conn| {
            Ok(match platforms::find(conn, id)? {
                Some(_) => Some(media::count_for_platform(conn, id)?),
                None => None,
            })
        })
        .await?
        .ok_or(PlatformError::NotFound(id))?;
    if held > 0 && !force {
        return Err(PlatformError::HoldsMedia { id, count: held });
    }
    let (files, removed) = tool
        .db
        .write(move |conn| {
            let files = media::mark_platform_deleted(conn, id, now)?;
            Ok((files, platforms::remove(conn, id)?))
        })
        .await?;
    let dir = super::media::media_dir(tool);
    for name in &files {
        if let Err(e) = std::fs::remove_file(dir.join(name))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %name, error = %e, "could not remove a media file");
        }
    }
    if !removed {
        return Err(PlatformError::NotFound(id));
    }
    tracing::info!(media_deleted = held, "with its media");
    changed(tool, id, "removed");
    Ok(held as usize)
}

/// The LTI view of a platform.
pub fn registration(platform: &Platform) -> Registration {
    Registration {
        platform_id: platform.id.0,
        issuer: platform.issuer.clone(),
        client_id: platform.client_id.clone(),
        auth_url: platform.auth_url.clone(),
        jwks_url: platform.jwks_url.clone(),
        deployment_ids: platform.deployment_ids.clone(),
        register_new_deployments: platform.deployment_policy
            == DeploymentPolicy::RegisterOnFirstLaunch,
    }
}

fn found_then(tool: &Tool, id: PlatformId, found: bool, what: &'static str) -> PlatformResult<()> {
    if !found {
        return Err(PlatformError::NotFound(id));
    }
    changed(tool, id, what);
    Ok(())
}

fn changed(tool: &Tool, id: PlatformId, what: &'static str) {
    tool.registrations.forget_all();
    tracing::info!(platform_id = id.0, what, "platform changed");
}

// ---- Export and import -----------------------------------------------------

/// The export format's version, so a later format can still read this one.
const EXPORT_VERSION: u64 = 1;

/// Every registration as JSON (`platform export`): what `import` needs to
/// register the same platforms elsewhere.
pub async fn export(tool: &Tool) -> Result<String, Fault> {
    let platforms: Vec<serde_json::Value> = list(tool)
        .await?
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name,
                "lms": p.lms.as_str(),
                "issuer": p.issuer,
                "client_id": p.client_id,
                "auth_url": p.auth_url,
                "jwks_url": p.jwks_url,
                "token_url": p.token_url,
                "deployment_ids": p.deployment_ids,
                "deployment_policy": p.deployment_policy.as_str(),
                "pending": p.pending,
                "modules": {
                    "invitetomedia": p.modules.invite_to_media,
                    "mediapage": p.modules.media_page,
                },
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "guestlink_platforms": EXPORT_VERSION,
        "platforms": platforms,
    }))
    .map_err(|e| Fault::Internal(e.into()))
}

/// What `import` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    pub skipped: usize,
}

#[derive(serde::Deserialize)]
struct ExportFile {
    guestlink_platforms: u64,
    platforms: Vec<ExportedPlatform>,
}

#[derive(serde::Deserialize)]
struct ExportedPlatform {
    name: String,
    lms: String,
    issuer: String,
    client_id: String,
    auth_url: String,
    jwks_url: String,
    token_url: Option<String>,
    deployment_ids: Vec<String>,
    #[serde(default)]
    deployment_policy: Option<String>,
    #[serde(default)]
    modules: Option<ExportedModules>,
    #[serde(default)]
    pending: bool,
}

#[derive(serde::Deserialize)]
struct ExportedModules {
    invitetomedia: bool,
    mediapage: bool,
}

/// The platforms of an export file, every entry checked, so a bad file
/// imports nothing.
fn read_export(json: &str) -> PlatformResult<Vec<(NewPlatform, Modules)>> {
    let bad = |at: String, problem: String| PlatformError::BadExport { at, problem };
    let file: ExportFile = serde_json::from_str(json).map_err(|e| {
        bad(
            "file".into(),
            format!("not a guestlink platform export ({e})"),
        )
    })?;
    if file.guestlink_platforms != EXPORT_VERSION {
        return Err(bad(
            "guestlink_platforms".into(),
            format!(
                "version {} is not one this guestlink reads",
                file.guestlink_platforms
            ),
        ));
    }
    let mut checked = Vec::with_capacity(file.platforms.len());
    for (index, p) in file.platforms.iter().enumerate() {
        let refused = |e: FieldError| bad(format!("platforms[{index}].{}", e.field), e.problem);
        let policy = match &p.deployment_policy {
            Some(raw) => DeploymentPolicy::parse(raw).map_err(refused)?,
            None => DeploymentPolicy::default(),
        };
        // A platform that registers deployments on their first launch may
        // have none yet (a dynamic registration from Canvas or Brightspace).
        let needed = if policy == DeploymentPolicy::RegisterOnFirstLaunch {
            DeploymentsNeeded::MayComeLater
        } else {
            DeploymentsNeeded::AtLeastOne
        };
        let mut new = NewPlatform::parse(
            &PlatformFields {
                name: &p.name,
                lms: &p.lms,
                issuer: &p.issuer,
                client_id: &p.client_id,
                auth_url: &p.auth_url,
                jwks_url: &p.jwks_url,
                token_url: p.token_url.as_deref(),
                deployment_ids: &p.deployment_ids,
            },
            needed,
        )
        .map_err(refused)?;
        new.deployment_policy = policy;
        new.pending = p.pending;
        let modules = p
            .modules
            .as_ref()
            .map_or_else(Modules::default, |m| Modules {
                invite_to_media: m.invitetomedia,
                media_page: m.mediapage,
            });
        checked.push((new, modules));
    }
    Ok(checked)
}

/// Registers the platforms of an export; platforms already registered (same
/// issuer and client id) are left as they are.
pub async fn import(tool: &Tool, json: &str) -> PlatformResult<ImportReport> {
    let checked = read_export(json)?;
    let now = tool.clock.now();
    let report = tool
        .db
        .write(move |conn| {
            let mut report = ImportReport::default();
            for (new, modules) in checked {
                let exists = platforms::find_by_issuer(conn, &new.issuer)?
                    .iter()
                    .any(|p| p.client_id == new.client_id);
                if exists {
                    report.skipped += 1;
                    continue;
                }
                let id = platforms::insert(conn, &new, now)?;
                platforms::set_modules(conn, id, modules)?;
                report.imported += 1;
            }
            Ok(report)
        })
        .await?;
    tool.registrations.forget_all();
    Ok(report)
}

#[cfg(test)]
#[path = "platforms_tests.rs"]
mod tests;
