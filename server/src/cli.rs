//! Command line: `serve` (default), `migrate`, and admin subcommands.

use crate::config::Config;
use app::db::Db;
use app::domain::clock::{Clock, SystemClock};
use app::state::{AppState, Settings};
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
    /// Demo data.
    Demo {
        #[command(subcommand)]
        action: DemoAction,
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

fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…{}", &url[..s], &url[at..]),
        _ => url.to_string(),
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
        Command::Demo {
            action: DemoAction::Seed,
        } => {
            let db = open_db(&config).await?;
            let seeded = app::demo::seed(&db, SystemClock.now())
                .await
                .map_err(|e| format!("demo seed failed: {e}"))?;
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

async fn serve(config: Config) -> CliResult {
    let db = open_db(&config).await?;
    if config.demo {
        match app::demo::seed(&db, SystemClock.now()).await {
            Ok(true) => tracing::info!("demo data seeded"),
            Ok(false) => tracing::info!("database not empty; demo seed skipped"),
            Err(e) => return Err(format!("demo seed failed: {e}")),
        }
    }
    let site_root = config.site_root();
    if !site_root.join("pkg").exists() {
        tracing::warn!(
            site_root = %site_root.display(),
            "no built site found: pages render but will not hydrate (run the build, or set HUB_SITE_ROOT)"
        );
    }
    let leptos_options = leptos::config::LeptosOptions::builder()
        .output_name("hub")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    let state = AppState {
        db,
        clock: Arc::new(SystemClock),
        settings: Arc::new(Settings {
            secure_cookies: config.secure_cookies,
        }),
        leptos_options,
    };
    let app = crate::router(state);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    tracing::info!("listening on http://{}", config.addr);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("server error: {e}"))?;
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
