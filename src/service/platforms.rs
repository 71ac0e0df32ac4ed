//! Registering, changing and removing platforms (the command line and the admin console).

use std::path::Path;

use super::{ServiceError, ServiceResult};
use crate::domain::ids::PlatformId;
use crate::domain::platform::{
    DeploymentPolicy, DeploymentsNeeded, Modules, NewPlatform, Platform, parse_deployment_id,
};
use crate::lti::Registration;
use crate::store::{Conn, media, platforms};

pub fn add(conn: &mut Conn, new: &NewPlatform, now: i64) -> ServiceResult<PlatformId> {
    Ok(platforms::insert(conn, new, now)?)
}

pub fn list(conn: &mut Conn) -> ServiceResult<Vec<Platform>> {
    Ok(platforms::list(conn)?)
}

/// Adds deployments that the LMS created after registration (Canvas and
/// Brightspace create one per installation). Ids are checked like `add`'s.
pub fn add_deployments(
    conn: &mut Conn,
    id: PlatformId,
    deployment_ids: &[String],
    now: i64,
) -> ServiceResult<usize> {
    let clean = deployment_ids
        .iter()
        .map(|d| parse_deployment_id(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| ServiceError::Invalid {
            field: "add-deployment",
            problem,
        })?;
    match platforms::add_deployments(conn, id, &clean, now) {
        Err(crate::store::StoreError::NotFound) => Err(ServiceError::NotFound),
        other => Ok(other?),
    }
}

/// What `remove` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    Removed {
        media_deleted: usize,
    },
    /// Refused: the platform's courses hold this many media items.
    HoldsMedia(i64),
    NotFound,
}

/// Removes a platform and everything of it. A platform whose courses hold
/// media is only removed with `force`, which deletes the media as DELETE
/// does (files included) first.
pub fn remove(
    conn: &mut Conn,
    data_dir: &Path,
    id: PlatformId,
    force: bool,
    now: i64,
) -> ServiceResult<Removal> {
    if platforms::find(conn, id)?.is_none() {
        return Ok(Removal::NotFound);
    }
    let held = media::count_for_platform(conn, id)?;
    if held > 0 && !force {
        return Ok(Removal::HoldsMedia(held));
    }
    let files = media::mark_platform_deleted(conn, id, now)?;
    let dir = data_dir.join("media");
    for name in &files {
        if let Err(e) = std::fs::remove_file(dir.join(name))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %name, error = %e, "could not remove a media file");
        }
    }
    if !platforms::remove(conn, id)? {
        return Ok(Removal::NotFound);
    }
    Ok(Removal::Removed {
        media_deleted: held as usize,
    })
}

/// Applies `name=on|off` module switches and returns the platform's switches.
pub fn set_modules(conn: &mut Conn, id: PlatformId, switches: &[String]) -> ServiceResult<Modules> {
    let platform = platforms::find(conn, id)?.ok_or(ServiceError::NotFound)?;
    let mut modules = platform.modules;
    for switch in switches {
        modules
            .apply(switch)
            .map_err(|problem| ServiceError::Invalid {
                field: "module",
                problem,
            })?;
    }
    platforms::set_modules(conn, id, modules)?;
    Ok(modules)
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

/// Sets the deployment policy; `NotFound` for an unknown platform.
pub fn set_deployment_policy(
    conn: &mut Conn,
    id: PlatformId,
    policy: &str,
) -> ServiceResult<DeploymentPolicy> {
    let policy = DeploymentPolicy::parse(policy).map_err(|problem| ServiceError::Invalid {
        field: "deployments",
        problem,
    })?;
    if !platforms::set_deployment_policy(conn, id, policy)? {
        return Err(ServiceError::NotFound);
    }
    Ok(policy)
}

/// The export format's version, so a later format can still read this one.
const EXPORT_VERSION: u64 = 1;

/// Every registration as JSON (`platform export`): what `import` needs to
/// register the same platforms elsewhere.
pub fn export(conn: &mut Conn) -> ServiceResult<String> {
    let platforms: Vec<serde_json::Value> = platforms::list(conn)?
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
    .map_err(|e| ServiceError::Internal(e.into()))
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

/// Registers the platforms of an export. Every entry is checked first, so a
/// bad file imports nothing; platforms already registered (same issuer and
/// client id) are left as they are.
pub fn import(conn: &mut Conn, json: &str, now: i64) -> ServiceResult<ImportReport> {
    let invalid = |field: String, problem: String| ServiceError::Invalid {
        field: "platforms",
        problem: format!("{field}: {problem}"),
    };
    let file: ExportFile = serde_json::from_str(json).map_err(|e| {
        invalid(
            "file".into(),
            format!("not a guestlink platform export ({e})"),
        )
    })?;
    if file.guestlink_platforms != EXPORT_VERSION {
        return Err(invalid(
            "guestlink_platforms".into(),
            format!(
                "version {} is not one this guestlink reads",
                file.guestlink_platforms
            ),
        ));
    }
    let mut checked = Vec::with_capacity(file.platforms.len());
    for (index, p) in file.platforms.iter().enumerate() {
        let at = |field: &str| format!("platforms[{index}].{field}");
        let policy = match &p.deployment_policy {
            Some(raw) => DeploymentPolicy::parse(raw)
                .map_err(|problem| invalid(at("deployment_policy"), problem))?,
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
            &p.name,
            &p.lms,
            &p.issuer,
            &p.client_id,
            &p.auth_url,
            &p.jwks_url,
            p.token_url.as_deref(),
            &p.deployment_ids,
            needed,
        )
        .map_err(|(field, problem)| invalid(at(field), problem))?;
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
}

/// What `activate` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Activation {
    Activated,
    AlreadyActive,
}

/// Lets a pending platform (a dynamic registration from a host the tool does
/// not list) launch. `NotFound` for an unknown platform.
pub fn activate(conn: &mut Conn, id: PlatformId) -> ServiceResult<Activation> {
    let platform = platforms::find(conn, id)?.ok_or(ServiceError::NotFound)?;
    if !platform.pending {
        return Ok(Activation::AlreadyActive);
    }
    platforms::activate(conn, id)?;
    Ok(Activation::Activated)
}
