//! Command line: `serve` (default), `migrate`, and admin subcommands.

use crate::config::Config;
use app::core::caller::{AuthUser, Caller};
use app::core::state::AppState;
use app::db::Db;
use app::domain::clock::{Clock, SystemClock};
use clap::{Parser, Subcommand};
use std::sync::Arc;

/// iEchor Hub: the Sponsored Open Source program and the hub it runs on.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve the hub (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage personal access tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        action: DemoAction,
    },
    /// Copy the SQLite database to FILE, consistently, while the server may
    /// be running (PostgreSQL: use pg_dump; see docs/OPERATIONS.md).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user (and their personal namespace), reading the password from stdin.
    Create {
        /// User name: 4–30 lowercase letters and digits.
        name: String,
        /// Read the password from the first line of standard input (required).
        #[arg(long)]
        password_stdin: bool,
        /// Mark the user as staff (a program reviewer).
        #[arg(long)]
        staff: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a personal access token and print only the token.
    Create {
        /// The user the token acts for.
        #[arg(long)]
        user: String,
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
        /// read, write or admin.
        #[arg(long, default_value = "write")]
        scope: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoAction {
    /// Seed the demo users, organizations and repositories (only into an empty database).
    Seed,
}

/// Why the command failed, printed as one line before exiting non-zero.
pub type CliResult = Result<(), String>;

/// Opens and migrates the configured database; a failed migration stops here.
pub async fn open_db(config: &Config) -> Result<Db, String> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            format!(
                "cannot create the data directory {}: {e}",
                config.data_dir.display()
            )
        })?;
    }
    let db = Db::connect(&url).await.map_err(|e| e.to_string())?;
    db.migrate()
        .await
        .map_err(|e| format!("{e} (database: {})", redact(&url)))?;
    Ok(db)
}

/// The database URL without its password, for messages and logs.
pub fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        // Unparseable: show only the scheme.
        Err(_) => match raw.split_once(':') {
            Some((scheme, _)) => format!("{scheme}:…"),
            None => "(unreadable database URL)".to_string(),
        },
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> CliResult {
    let config = cli.config.clone();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            open_db(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::User {
            action:
                UserAction::Create {
                    name,
                    password_stdin,
                    staff,
                },
        } => {
            if !password_stdin {
                return Err("pass --password-stdin and the password on standard input".into());
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
            let password = line.trim_end_matches(['\n', '\r']);
            let state = cli_state(&config).await?;
            app::account::api::create_user(&state, &name, password, staff)
                .await
                .map_err(|e| e.message)?;
            println!(
                "created user {}{}",
                name.trim(),
                if staff { " (staff)" } else { "" }
            );
            Ok(())
        }
        Command::Token {
            action:
                TokenAction::Create {
                    user,
                    name,
                    scope,
                    expires_in_days,
                },
        } => {
            let state = cli_state(&config).await?;
            let mut tx = state.db.begin().await.map_err(|e| e.to_string())?;
            let row = app::account::store::user_by_name(&mut tx, user.trim())
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("there is no user “{}”", user.trim()))?;
            tx.commit().await.map_err(|e| e.to_string())?;
            let caller = Caller::acting_as(AuthUser {
                id: app::domain::ids::UserId(row.id),
                name: row.name,
                is_staff: row.is_staff,
            });
            let t =
                app::account::api::create_token(&state, &caller, &name, &scope, expires_in_days)
                    .await
                    .map_err(|e| e.message)?;
            println!("{}", t.secret);
            Ok(())
        }
        Command::Backup { to } => {
            let report = crate::backup::backup(&config, &to).await?;
            println!("{report}");
            Ok(())
        }
        Command::Demo {
            action: DemoAction::Seed,
        } => {
            let db = open_db(&config).await?;
            let seeded = crate::demo::seed(&db, SystemClock.now())
                .await
                .map_err(|e| format!("demo seed failed: {}", e.message))?;
            println!(
                "{}",
                if seeded {
                    "demo data seeded"
                } else {
                    "database not empty; nothing seeded"
                }
            );
            Ok(())
        }
    }
}

/// State for one-off commands (no site needed).
async fn cli_state(config: &Config) -> Result<AppState, String> {
    let db = open_db(config).await?;
    Ok(AppState::new(
        db,
        Arc::new(SystemClock),
        config.settings()?,
        leptos::config::LeptosOptions::builder()
            .output_name("hub")
            .build(),
        blob_store(config)?,
    ))
}

/// Logos and other blobs: a directory under the data directory.
fn blob_store(config: &Config) -> Result<Arc<dyn object_store::ObjectStore>, String> {
    let dir = config.data_dir.join("blobs");
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the blob directory {}: {e}", dir.display()))?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| format!("cannot open the blob directory {}: {e}", dir.display()))?;
    Ok(Arc::new(store))
}

/// The state `serve` runs with: the database opened and migrated (demo data
/// seeded when asked), the site, blob storage, the token secret, Redis for
/// pull limits and the analytics' address data, all from `config`.
pub async fn serve_state(config: &Config) -> Result<AppState, String> {
    // A bad setting stops the start before the database is touched.
    let settings = config.settings()?;
    let db = open_db(config).await?;
    if config.demo {
        match crate::demo::seed(&db, SystemClock.now()).await {
            Ok(true) => tracing::info!("demo data seeded"),
            Ok(false) => tracing::info!("database not empty; demo seed skipped"),
            Err(e) => return Err(format!("demo seed failed: {}", e.message)),
        }
    }
    let site_root = config.site_root();
    if !site_root.join("pkg").exists() {
        tracing::warn!(
            site_root = %site_root.display(),
            "no built site found: pages render but will not hydrate (run the build, or set HUB_SITE_ROOT)"
        );
    }
    // The build names the bundle's files after their content and lists the
    // hashes in `hash.txt`; Leptos reads it relative to the executable, so
    // it gets an absolute path (joining one replaces the base).
    let hash_file = std::path::absolute(site_root.join("hash.txt"))
        .unwrap_or_else(|_| site_root.join("hash.txt"));
    let leptos_options = leptos::config::LeptosOptions::builder()
        .output_name("hub")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .hash_files(hash_file.exists())
        .hash_file(hash_file.display().to_string().into())
        .build();
    let state = AppState::new(
        db,
        Arc::new(SystemClock),
        settings,
        leptos_options,
        blob_store(config)?,
    );
    let state = match config.token_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) if secret.len() < 16 => {
            return Err("HUB_TOKEN_SECRET must be at least 16 characters".into());
        }
        Some(secret) => state.with_token_secret(secret),
        None => state,
    };
    let state = match config.redis_url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            tracing::info!("pull limits kept in Redis");
            state.with_redis_pull_limits(url, "hub:")?
        }
        None => state,
    };
    let geo =
        app::core::geo::Geo::load(config.geoip_db.as_deref(), config.cloud_ranges.as_deref())?;
    tracing::info!("analytics: {}", geo.describe());
    Ok(state.with_geo(geo))
}

/// The longest the pool may take to close at exit (connections still held
/// by requests cut off at the shutdown timeout are not waited for).
const POOL_CLOSE_MAX: std::time::Duration = std::time::Duration::from_secs(5);
/// The least time jobs get to finish their current run at shutdown.
const JOBS_STOP_MIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves until SIGTERM or Ctrl-C, then: stops accepting connections, gives
/// in-flight requests `HUB_SHUTDOWN_TIMEOUT_SECS` to finish (then goes on
/// anyway), stops the jobs after their current run, writes the queued pull
/// events, closes the database pool and returns (exit status 0).
async fn serve(config: Config) -> CliResult {
    let grace = config.shutdown_timeout()?;
    let state = serve_state(&config).await?;
    let jobs = app::core::jobs::spawn_all(&app::jobs(), &state);
    let app = crate::router(state.clone());
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    tracing::info!("listening on http://{}", config.addr);
    let (signalled, signal) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = signalled.send(true);
    });
    let stopping = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(stopping(signal.clone()));
    let deadline = async {
        stopping(signal.clone()).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = std::future::IntoFuture::into_future(server) => {
            r.map_err(|e| format!("server error: {e}"))?;
            tracing::info!("in-flight requests finished");
        }
        () = deadline => tracing::warn!(
            timeout_secs = grace.as_secs(),
            "requests still in flight after the shutdown timeout; shutting down without them"
        ),
    }
    // Jobs finish the run they are in (the event writer its batch), then stop.
    if tokio::time::timeout(grace.max(JOBS_STOP_MIN), jobs.stop())
        .await
        .is_err()
    {
        tracing::warn!("a background job did not finish its run in time; going on without it");
    }
    // Pulls queued but not yet written are written before exit.
    match app::core::events::flush(&state).await {
        Ok(n) => tracing::info!(
            events = n,
            written = state.events.written(),
            dropped = state.events.dropped(),
            "pull events flushed"
        ),
        Err(e) => tracing::error!(error = %e, "flushing pull events failed"),
    }
    match tokio::time::timeout(POOL_CLOSE_MAX, state.db.close()).await {
        Ok(()) => tracing::info!("database pool closed"),
        Err(_) => tracing::warn!(
            "database connections still held after {} s; exiting without them",
            POOL_CLOSE_MAX.as_secs()
        ),
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
