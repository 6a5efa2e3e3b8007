//! Typed configuration from flags and environment variables.

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Server settings. Every flag can also be set by the environment variable named beside it.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "HUB_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Directory for the embedded SQLite database and stored files.
    #[arg(long, env = "HUB_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    /// Default: the SQLite file `hub.db` in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Seed demo users, organizations and repositories into an empty database at start.
    #[arg(long, env = "HUB_DEMO", global = true)]
    pub demo: bool,

    /// Directory holding the built site (`pkg/hub.js`, `pkg/hub.wasm`, `pkg/hub.css`,
    /// assets). Default: `site` next to the server binary, where the build puts it.
    #[arg(long, env = "HUB_SITE_ROOT", global = true)]
    pub site_root: Option<PathBuf>,

    /// Mark the session cookie `Secure` (set when the hub is served over https).
    #[arg(long, env = "HUB_SECURE_COOKIES", global = true)]
    pub secure_cookies: bool,
}

impl Config {
    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.trim().is_empty() => u.clone(),
            _ => app::db::sqlite_url(&self.data_dir.join("hub.db")),
        }
    }

    /// Where the built site lives.
    pub fn site_root(&self) -> PathBuf {
        if let Some(p) = &self.site_root {
            return p.clone();
        }
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("site")))
            .unwrap_or_else(|| PathBuf::from("site"))
    }
}
