//! The `guestlink` command line: parse arguments, load settings, call the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use guestlink::clock::Clock;
use guestlink::config::{Mode, Settings, Sources};
use guestlink::crypto::{Sealer, SecretKey};
use guestlink::demo::DemoLms;
use guestlink::domain::ids::PlatformId;
use guestlink::domain::platform::{DeploymentsNeeded, NewPlatform};
use guestlink::service::platforms::{Activation, Removal};
use guestlink::service::{ServiceError, admin, keys, platforms, secrets};
use guestlink::startup::{Application, prepare_data_dir};
use guestlink::store::{Db, PoolUse};

#[derive(Parser)]
#[command(
    name = "guestlink",
    version,
    about = "Share one course media item with guests outside the LMS (LTI 1.3 tool)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the tool.
    Serve,
    /// Run the tool with a built-in demo LMS for each flavour under /demo.
    Demo,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Register, list and remove LTI platforms.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Manage the tool's signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The admin console.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The secret key that seals the tool's keys and guest-link tokens.
    #[command(subcommand, name = "secret-key")]
    SecretKey(SecretKeyCommand),
}

#[derive(Subcommand)]
enum SecretKeyCommand {
    /// Re-seals every secret under the key in NEW_KEY_FILE (or - for standard
    /// input); the current key comes from GUESTLINK_SECRET_KEY(_FILE). Stop
    /// guestlink first and start it with the new key after. Guest links
    /// already sent keep working.
    Change {
        #[arg(value_name = "NEW_KEY_FILE")]
        new_key_file: String,
    },
    /// Prints a new random key (base64), for GUESTLINK_SECRET_KEY or its file.
    Generate,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a sign-in URL for the admin console (works once, for 10 minutes).
    LoginLink,
}

#[derive(Subcommand)]
enum PlatformCommand {
    /// Register one platform (issuer + client id) and its deployments; prints its id.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "moodle|canvas|sakai|brightspace|generic")]
        lms: String,
        #[arg(long)]
        issuer: String,
        #[arg(long = "client-id")]
        client_id: String,
        #[arg(long = "auth-url")]
        auth_url: String,
        #[arg(long = "jwks-url")]
        jwks_url: String,
        #[arg(long = "token-url")]
        token_url: Option<String>,
        #[arg(long = "deployment-id", required = true)]
        deployment_id: Vec<String>,
    },
    /// List registered platforms.
    List,
    /// Change a registered platform: add deployments the LMS created later,
    /// switch its modules.
    #[command(arg_required_else_help = true)]
    Set {
        id: i64,
        /// A deployment id to accept from now on (repeatable).
        #[arg(long = "add-deployment")]
        add_deployment: Vec<String>,
        /// A module switch: invitetomedia=on|off or mediapage=on|off (repeatable).
        #[arg(long = "module", value_name = "NAME=on|off")]
        module: Vec<String>,
        /// What a launch from an unlisted deployment id does: strict refuses
        /// it, register_on_first_launch records it and lets it in.
        #[arg(long = "deployments", value_name = "strict|register_on_first_launch")]
        deployments: Option<String>,
    },
    /// Remove a platform and everything that belongs to it.
    Remove {
        id: i64,
        /// Also delete the media its courses hold (refused without it).
        #[arg(long)]
        force: bool,
    },
    /// Let a platform that registered itself (dynamic registration) launch.
    Activate { id: i64 },
    /// Write every registration as JSON to standard output.
    Export,
    /// Read registrations written by `platform export` (FILE, or - for
    /// standard input); ones already registered are left as they are.
    Import { file: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new current key; the old one stays published for the grace period.
    Rotate,
}

/// A failure of a command, printed as one line.
struct Failure {
    message: String,
    code: u8,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(err: E) -> Self {
        Failure {
            message: err.to_string(),
            code: 1,
        }
    }
}

fn main() -> ExitCode {
    // Whatever guestlink creates (the SQLite files, uploads, the demo's keys)
    // is readable by its own user only.
    // SAFETY: umask only sets the process's file mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // One line, even when a driver's message spans several.
            let message = failure
                .message
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("guestlink: {message}");
            ExitCode::from(failure.code)
        }
    }
}

fn settings(mode: Mode) -> Result<Settings, Failure> {
    let config_error = |e: guestlink::config::ConfigError| Failure {
        message: format!("configuration: {e}"),
        code: 2,
    };
    let sources = Sources::from_process().map_err(config_error)?;
    Settings::load(&sources, mode).map_err(config_error)
}

fn config_failure(e: guestlink::config::ConfigError) -> Failure {
    Failure {
        message: format!("configuration: {e}"),
        code: 2,
    }
}

/// The sealer for commands that read or write sealed secrets.
fn sealer(settings: &Settings) -> Result<Sealer, Failure> {
    Ok(Sealer::new(
        settings.require_secret_key().map_err(config_failure)?,
    ))
}

fn connect(settings: &Settings, usage: PoolUse) -> Result<Db, Failure> {
    Db::connect_for(settings, usage).map_err(|e| Failure {
        message: format!("database: {e}"),
        code: 3,
    })
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve => serve(Mode::Serve),
        Command::Demo => serve(Mode::Demo),
        Command::Migrate => {
            let settings = settings(Mode::Serve)?;
            let db = connect(&settings, PoolUse::Command)?;
            println!("migrations applied ({} database)", db.backend_name());
            Ok(())
        }
        Command::Platform(command) => platform_command(command),
        Command::Admin(AdminCommand::LoginLink) => {
            let settings = settings(Mode::Serve)?;
            let db = connect(&settings, PoolUse::Command)?;
            let url = admin::create_login_link(
                &mut db.get_write()?,
                settings.public_url.as_str(),
                Clock::system().unix(),
            )?;
            println!("{url}");
            Ok(())
        }
        Command::SecretKey(SecretKeyCommand::Generate) => {
            println!("{}", SecretKey::generate().1);
            Ok(())
        }
        Command::SecretKey(SecretKeyCommand::Change { new_key_file }) => {
            let settings = settings(Mode::Serve)?;
            let old = settings.require_secret_key().map_err(config_failure)?;
            let text = if new_key_file == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&new_key_file)
            }
            .map_err(|e| Failure {
                message: format!("cannot read {new_key_file}: {e}"),
                code: 2,
            })?;
            let new = SecretKey::parse(&text).map_err(|problem| Failure {
                message: format!("{new_key_file}: the new key {problem}"),
                code: 2,
            })?;
            let db = connect(&settings, PoolUse::Command)?;
            let done = secrets::change_key(&mut db.get_write()?, old, &new, Clock::system().unix())
                .map_err(|e| Failure {
                    message: e.to_string(),
                    code: match e {
                        secrets::SecretsError::WrongKey => 2,
                        _ => 1,
                    },
                })?;
            println!(
                "re-sealed {} key(s), {} secret(s) and {} guest link(s); start guestlink with the new key",
                done.keys, done.secrets, done.links
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let settings = settings(Mode::Serve)?;
            let sealer = sealer(&settings)?;
            let db = connect(&settings, PoolUse::Command)?;
            let mut conn = db.get_write()?;
            secrets::open_at_start(&mut conn, &sealer, Clock::system().unix()).map_err(|e| {
                Failure {
                    message: e.to_string(),
                    code: 2,
                }
            })?;
            let key = keys::rotate(
                &mut conn,
                &sealer,
                Clock::system().unix(),
                settings.key_grace_days,
            )?;
            println!(
                "new current key {} (the previous key stays published for {} days)",
                key.kid, settings.key_grace_days
            );
            Ok(())
        }
    }
}

fn serve(mode: Mode) -> Result<(), Failure> {
    let mut settings = settings(mode)?;
    guestlink::telemetry::init(&settings.log_level);
    prepare_data_dir(&settings.data_dir).map_err(|e| Failure {
        message: format!("data directory {}: {e}", settings.data_dir.display()),
        code: 3,
    })?;
    if mode == Mode::Demo && settings.secret_key.is_none() {
        settings.secret_key = Some(demo_secret_key(&settings.data_dir)?);
    }
    settings.require_secret_key().map_err(config_failure)?;
    let clock = Clock::system();
    let db = connect(&settings, PoolUse::Server)?;
    let demo = match mode {
        Mode::Demo => Some(DemoLms::prepare(&mut db.get_write()?, &settings, &clock)?),
        Mode::Serve => None,
    };
    let public_url = settings.public_url.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let app = Application::build_with_db(db, settings, clock, demo)?;
        match mode {
            Mode::Demo => eprintln!(
                "guestlink demo is running: open {}/demo in a browser (Ctrl-C stops it)",
                public_url.as_str()
            ),
            Mode::Serve => tracing::info!(
                public_url = public_url.as_str(),
                port = app.port(),
                "guestlink is serving"
            ),
        }
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// The demo's secret key, made once in its data directory. A real
/// installation gets its key from its operator instead: a key kept beside
/// the data would go into every backup with it.
fn demo_secret_key(data_dir: &std::path::Path) -> Result<SecretKey, Failure> {
    let path = data_dir.join("secret.key");
    let failure = |e: String| Failure {
        message: format!("{}: {e}", path.display()),
        code: 3,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => SecretKey::parse(&text).map_err(failure),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, text) = SecretKey::generate();
            std::fs::write(&path, format!("{text}\n")).map_err(|e| failure(e.to_string()))?;
            Ok(key)
        }
        Err(e) => Err(failure(e.to_string())),
    }
}

fn platform_command(command: PlatformCommand) -> Result<(), Failure> {
    let settings = settings(Mode::Serve)?;
    let db = connect(&settings, PoolUse::Command)?;
    let mut conn = db.get_write()?;
    match command {
        PlatformCommand::Add {
            name,
            lms,
            issuer,
            client_id,
            auth_url,
            jwks_url,
            token_url,
            deployment_id,
        } => {
            let new = NewPlatform::parse(
                &name,
                &lms,
                &issuer,
                &client_id,
                &auth_url,
                &jwks_url,
                token_url.as_deref(),
                &deployment_id,
                DeploymentsNeeded::AtLeastOne,
            )
            .map_err(|(field, problem)| Failure {
                message: format!("--{field}: {problem}"),
                code: 2,
            })?;
            match platforms::add(&mut conn, &new, Clock::system().unix()) {
                Ok(id) => {
                    println!("{id}");
                    Ok(())
                }
                Err(guestlink::service::ServiceError::Internal(e))
                    if e.to_string().starts_with("conflict") =>
                {
                    Err(Failure {
                        message: format!(
                            "a platform with issuer {} and client id {} is already registered",
                            new.issuer, new.client_id
                        ),
                        code: 1,
                    })
                }
                Err(e) => Err(e.into()),
            }
        }
        PlatformCommand::List => {
            let list = platforms::list(&mut conn)?;
            if list.is_empty() {
                println!("no platforms registered");
            }
            for p in list {
                println!(
                    "{}\t{}\t{}\tissuer={}\tclient_id={}\tdeployments={}\tpolicy={}\t{}\tstatus={}",
                    p.id,
                    p.lms,
                    p.name,
                    p.issuer,
                    p.client_id,
                    p.deployment_ids.join(","),
                    p.deployment_policy.as_str(),
                    p.modules.describe(),
                    if p.pending { "pending" } else { "active" }
                );
            }
            Ok(())
        }
        PlatformCommand::Set {
            id,
            add_deployment,
            module,
            deployments,
        } => {
            let id = PlatformId(id);
            let no_platform = || Failure {
                message: format!("no platform with id {id}"),
                code: 1,
            };
            if !module.is_empty() {
                let modules =
                    platforms::set_modules(&mut conn, id, &module).map_err(|e| match e {
                        ServiceError::NotFound => no_platform(),
                        ServiceError::Invalid { field, problem } => Failure {
                            message: format!("--{field}: {problem}"),
                            code: 2,
                        },
                        other => other.into(),
                    })?;
                println!("platform {id}: {}", modules.describe());
            }
            if let Some(policy) = deployments {
                let policy = platforms::set_deployment_policy(&mut conn, id, &policy).map_err(
                    |e| match e {
                        ServiceError::NotFound => no_platform(),
                        ServiceError::Invalid { field, problem } => Failure {
                            message: format!("--{field}: {problem}"),
                            code: 2,
                        },
                        other => other.into(),
                    },
                )?;
                println!("platform {id}: deployments={}", policy.as_str());
            }
            if !add_deployment.is_empty() {
                match platforms::add_deployments(
                    &mut conn,
                    id,
                    &add_deployment,
                    Clock::system().unix(),
                ) {
                    Ok(added) => println!("platform {id}: {added} deployment(s) added"),
                    Err(ServiceError::NotFound) => return Err(no_platform()),
                    Err(e) => {
                        return Err(Failure {
                            message: e.to_string(),
                            code: 2,
                        });
                    }
                }
            }
            Ok(())
        }
        PlatformCommand::Activate { id } => match platforms::activate(&mut conn, PlatformId(id)) {
            Ok(Activation::Activated) => {
                println!("platform {id} activated");
                Ok(())
            }
            Ok(Activation::AlreadyActive) => {
                println!("platform {id} is already active");
                Ok(())
            }
            Err(ServiceError::NotFound) => Err(Failure {
                message: format!("no platform {id}"),
                code: 1,
            }),
            Err(e) => Err(e.into()),
        },
        PlatformCommand::Export => {
            let exported = platforms::export(&mut conn)?;
            println!("{exported}");
            Ok(())
        }
        PlatformCommand::Import { file } => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            }
            .map_err(|e| Failure {
                message: format!("cannot read {file}: {e}"),
                code: 2,
            })?;
            let report = platforms::import(&mut conn, &text, Clock::system().unix()).map_err(
                |e| match e {
                    ServiceError::Invalid { field, problem } => Failure {
                        message: format!("{file}: {field}: {problem}; nothing was imported"),
                        code: 2,
                    },
                    other => other.into(),
                },
            )?;
            println!(
                "imported {} platform(s); {} already registered and left as they are",
                report.imported, report.skipped
            );
            Ok(())
        }
        PlatformCommand::Remove { id, force } => {
            let removal = platforms::remove(
                &mut conn,
                &settings.data_dir,
                PlatformId(id),
                force,
                Clock::system().unix(),
            )?;
            match removal {
                Removal::Removed { media_deleted } => {
                    if media_deleted > 0 {
                        println!("removed platform {id} and its {media_deleted} media item(s)");
                    } else {
                        println!("removed platform {id}");
                    }
                    Ok(())
                }
                Removal::HoldsMedia(count) => Err(Failure {
                    message: format!(
                        "platform {id} holds {count} media item(s); add --force to delete them with it"
                    ),
                    code: 1,
                }),
                Removal::NotFound => Err(Failure {
                    message: format!("no platform with id {id}"),
                    code: 1,
                }),
            }
        }
    }
}
