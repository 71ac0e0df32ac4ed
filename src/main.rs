//! The `guestlink` command line: parse arguments, load settings, call the library.

use std::process::ExitCode;

use std::future::Future;

use clap::{Parser, Subcommand};
use guestlink::clock::Clock;
use guestlink::config::{ConfigError, Mode, Settings, Sources};
use guestlink::crypto::SecretKey;
use guestlink::demo::DemoLms;
use guestlink::domain::field::Field;
use guestlink::domain::ids::PlatformId;
use guestlink::domain::platform::{
    DeploymentPolicy, DeploymentsNeeded, NewPlatform, PlatformFields,
};
use guestlink::service::failure::{self, Kind};
use guestlink::service::platforms::{Activation, PlatformError};
use guestlink::service::{OpenError, Tool, admin, keys, platforms, secrets};
use guestlink::startup::{Application, StartError, prepare_data_dir};
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

/// A failure of a command, printed as one line, and its exit code.
struct Failure {
    message: String,
    code: u8,
}

/// Exit codes: what the command line or configuration got wrong, the
/// database or data directory being away, and every other refusal.
const BAD_INPUT: u8 = 2;
const UNAVAILABLE: u8 = 3;
const REFUSED: u8 = 1;

/// The exit code of each kind of refusal.
fn exit_code(kind: Kind) -> u8 {
    match kind {
        Kind::Invalid | Kind::Malformed => BAD_INPUT,
        Kind::Unavailable => UNAVAILABLE,
        _ => REFUSED,
    }
}

/// The flag each field is given with.
fn flag(field: Field) -> &'static str {
    match field {
        Field::PlatformName => "--name",
        Field::Lms => "--lms",
        Field::Issuer => "--issuer",
        Field::ClientId => "--client-id",
        Field::AuthUrl => "--auth-url",
        Field::JwksUrl => "--jwks-url",
        Field::TokenUrl => "--token-url",
        Field::DeploymentId => "--deployment-id",
        Field::DeploymentPolicy => "--deployments",
        Field::Module => "--module",
        other => other.as_str(),
    }
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }

    /// A use case's refusal: a refused field after its flag.
    fn of(err: &dyn failure::Failure) -> Failure {
        Failure::with_flags(err, flag)
    }

    /// Like [`Failure::of`], for a command that gives a field by another flag.
    fn with_flags(err: &dyn failure::Failure, flag: impl Fn(Field) -> &'static str) -> Failure {
        let message = match (err.kind(), err.field()) {
            (Kind::Invalid, Some(field)) => format!("{}: {}", flag(field), err.message()),
            // Faults are the operator's to read: the whole cause.
            (Kind::Unavailable | Kind::Internal, _) => err.to_string(),
            _ => err.message(),
        };
        Failure::new(exit_code(err.kind()), message)
    }
}

impl From<failure::Fault> for Failure {
    fn from(fault: failure::Fault) -> Self {
        Failure::of(&fault)
    }
}

impl From<PlatformError> for Failure {
    fn from(err: PlatformError) -> Self {
        Failure::of(&err)
    }
}

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Self {
        Failure::new(BAD_INPUT, format!("configuration: {err}"))
    }
}

impl From<OpenError> for Failure {
    fn from(err: OpenError) -> Self {
        match err {
            OpenError::Config(e) => e.into(),
            OpenError::Secrets(secrets::SecretsError::WrongKey) => {
                Failure::new(BAD_INPUT, secrets::SecretsError::WrongKey.to_string())
            }
            OpenError::Secrets(secrets::SecretsError::Fault(f)) => f.into(),
        }
    }
}

impl From<StartError> for Failure {
    fn from(err: StartError) -> Self {
        let code = match err {
            StartError::Config(_) => BAD_INPUT,
            StartError::Database(_) | StartError::Bind { .. } => UNAVAILABLE,
        };
        Failure::new(code, err.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Failure::new(REFUSED, err.to_string())
    }
}

fn main() -> ExitCode {
    // Whatever guestlink creates (the SQLite files, uploads, the demo's keys)
    // is readable by its own user only.
    // SAFETY: umask only sets the process's file mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    guestlink::startup::limit_malloc_arenas();
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
    let sources = Sources::from_process()?;
    Ok(Settings::load(&sources, mode)?)
}

fn connect(settings: &Settings, usage: PoolUse) -> Result<Db, Failure> {
    Db::connect_for(settings, usage)
        .map_err(|e| Failure::new(UNAVAILABLE, format!("database: {e}")))
}

/// Runs a command's use cases: the services are async, and a command needs
/// no more than one thread.
fn block_on<T>(work: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

/// Whether a command seals or opens secrets, and so needs the operator's key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Secrets {
    Needed,
    NotUsed,
}

/// The tool's state for a command on the configured database.
async fn open_tool(secrets: Secrets) -> Result<Tool, Failure> {
    let settings = settings(Mode::Serve)?;
    let db = connect(&settings, PoolUse::Command)?;
    let clock = Clock::system();
    match secrets {
        Secrets::Needed => Ok(Tool::open(db, settings, clock).await?),
        Secrets::NotUsed => Ok(Tool::for_plain_command(db, settings, clock)),
    }
}

fn read_input(file: &str) -> Result<String, Failure> {
    if file == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| Failure::new(BAD_INPUT, format!("cannot read {file}: {e}")))
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
        Command::Platform(command) => block_on(platform_command(command)),
        Command::Admin(AdminCommand::LoginLink) => block_on(async {
            let tool = open_tool(Secrets::NotUsed).await?;
            println!("{}", admin::create_login_link(&tool).await?);
            Ok(())
        }),
        Command::SecretKey(SecretKeyCommand::Generate) => {
            println!("{}", SecretKey::generate().1);
            Ok(())
        }
        Command::SecretKey(SecretKeyCommand::Change { new_key_file }) => {
            let text = read_input(&new_key_file)?;
            let new = SecretKey::parse(&text).map_err(|problem| {
                Failure::new(BAD_INPUT, format!("{new_key_file}: the new key {problem}"))
            })?;
            block_on(async {
                let tool = open_tool(Secrets::Needed).await?;
                let done = secrets::change_key(&tool, &new).await?;
                println!(
                    "re-sealed {} key(s), {} secret(s) and {} guest link(s); start guestlink with the new key",
                    done.keys, done.secrets, done.links
                );
                Ok(())
            })
        }
        Command::Keys(KeysCommand::Rotate) => block_on(async {
            let tool = open_tool(Secrets::Needed).await?;
            let key = keys::rotate(&tool).await?;
            println!(
                "new current key {} (the previous key stays published for {} days)",
                key.kid,
                tool.settings.lti.key_grace.whole_days()
            );
            Ok(())
        }),
    }
}

fn serve(mode: Mode) -> Result<(), Failure> {
    let mut settings = settings(mode)?;
    guestlink::telemetry::init(&settings.log_level);
    prepare_data_dir(&settings.data_dir).map_err(|e| {
        Failure::new(
            UNAVAILABLE,
            format!("data directory {}: {e}", settings.data_dir.display()),
        )
    })?;
    if mode == Mode::Demo && settings.secret_key.is_none() {
        settings.secret_key = Some(demo_secret_key(&settings.data_dir)?);
    }
    settings.require_secret_key()?;
    let db = connect(&settings, PoolUse::Server)?;
    let public_url = settings.server.public_url.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let tool = Tool::open(db, settings, Clock::system()).await?;
        let demo = match mode {
            Mode::Demo => Some(DemoLms::prepare(&tool).await?),
            Mode::Serve => None,
        };
        let app = Application::start(tool, demo).await?;
        guestlink::startup::release_startup_memory();
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
    let failure = |e: String| Failure::new(UNAVAILABLE, format!("{}: {e}", path.display()));
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

async fn platform_command(command: PlatformCommand) -> Result<(), Failure> {
    let tool = open_tool(Secrets::NotUsed).await?;
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
                &PlatformFields {
                    name: &name,
                    lms: &lms,
                    issuer: &issuer,
                    client_id: &client_id,
                    auth_url: &auth_url,
                    jwks_url: &jwks_url,
                    token_url: token_url.as_deref(),
                    deployment_ids: &deployment_id,
                },
                DeploymentsNeeded::AtLeastOne,
            )
            .map_err(|e| Failure::of(&e))?;
            println!("{}", platforms::add(&tool, new).await?);
            Ok(())
        }
        PlatformCommand::List => {
            let list = platforms::list(&tool).await?;
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
            if !module.is_empty() {
                let modules = platforms::switch_modules(&tool, id, &module).await?;
                println!("platform {id}: {}", modules.describe());
            }
            if let Some(policy) = deployments {
                let policy = DeploymentPolicy::parse(&policy).map_err(|e| Failure::of(&e))?;
                platforms::set_deployment_policy(&tool, id, policy).await?;
                println!("platform {id}: deployments={}", policy.as_str());
            }
            if !add_deployment.is_empty() {
                let added = platforms::add_deployments(&tool, id, &add_deployment)
                    .await
                    .map_err(|e| {
                        Failure::with_flags(&e, |field| match field {
                            Field::DeploymentId => "--add-deployment",
                            other => flag(other),
                        })
                    })?;
                println!("platform {id}: {added} deployment(s) added");
            }
            Ok(())
        }
        PlatformCommand::Activate { id } => {
            match platforms::activate(&tool, PlatformId(id)).await? {
                Activation::Activated => println!("platform {id} activated"),
                Activation::AlreadyActive => println!("platform {id} is already active"),
            }
            Ok(())
        }
        PlatformCommand::Export => {
            println!("{}", platforms::export(&tool).await?);
            Ok(())
        }
        PlatformCommand::Import { file } => {
            let text = read_input(&file)?;
            let report = platforms::import(&tool, &text).await.map_err(|e| match e {
                PlatformError::BadExport { at, problem } => Failure::new(
                    BAD_INPUT,
                    format!("{file}: {at}: {problem}; nothing was imported"),
                ),
                other => other.into(),
            })?;
            println!(
                "imported {} platform(s); {} already registered and left as they are",
                report.imported, report.skipped
            );
            Ok(())
        }
        PlatformCommand::Remove { id, force } => {
            match platforms::remove(&tool, PlatformId(id), force).await {
                Ok(0) => println!("removed platform {id}"),
                Ok(media_deleted) => {
                    println!("removed platform {id} and its {media_deleted} media item(s)")
                }
                Err(PlatformError::HoldsMedia { count, .. }) => {
                    return Err(Failure::new(
                        REFUSED,
                        format!(
                            "platform {id} holds {count} media item(s); add --force to delete them with it"
                        ),
                    ));
                }
                Err(other) => return Err(other.into()),
            }
            Ok(())
        }
    }
}
