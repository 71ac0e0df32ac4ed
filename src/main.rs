//! The `guestlink` command line: parse arguments, load settings, call the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use guestlink::clock::Clock;
use guestlink::config::{Mode, Settings, Sources};
use guestlink::demo::DemoLms;
use guestlink::domain::ids::PlatformId;
use guestlink::domain::platform::{DeploymentsNeeded, NewPlatform};
use guestlink::service::platforms::{Activation, Removal};
use guestlink::service::{ServiceError, admin, keys, platforms};
use guestlink::startup::Application;
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
        Command::Keys(KeysCommand::Rotate) => {
            let settings = settings(Mode::Serve)?;
            let db = connect(&settings, PoolUse::Command)?;
            let mut conn = db.get_write()?;
            let key = keys::rotate(&mut conn, Clock::system().unix(), settings.key_grace_days)?;
            println!(
                "new current key {} (the previous key stays published for {} days)",
                key.kid, settings.key_grace_days
            );
            Ok(())
        }
    }
}

fn serve(mode: Mode) -> Result<(), Failure> {
    let settings = settings(mode)?;
    guestlink::telemetry::init(&settings.log_level);
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
