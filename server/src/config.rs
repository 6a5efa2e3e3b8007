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

    /// The address users reach the hub at, used in badge snippets (default: http://ADDR).
    #[arg(long, env = "HUB_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Program: a tag pushed to a public repository within this many days counts as active development.
    #[arg(long, env = "HUB_ACTIVITY_DAYS", default_value_t = 180, global = true)]
    pub activity_days: i64,

    /// Program: renewal opens this many days before a membership ends.
    #[arg(
        long,
        env = "HUB_RENEWAL_WINDOW_DAYS",
        default_value_t = 45,
        global = true
    )]
    pub renewal_window_days: i64,

    /// Program: perks keep working this many days after a membership ends.
    #[arg(long, env = "HUB_GRACE_DAYS", default_value_t = 14, global = true)]
    pub grace_days: i64,

    /// Proxies (comma-separated CIDRs, e.g. `10.0.0.0/8,::1/128`) whose
    /// `X-Forwarded-For` / `Forwarded` headers name the client. Default: none,
    /// the socket address is the client.
    #[arg(long, env = "HUB_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: String,

    /// Organizations one account may own.
    #[arg(
        long,
        env = "HUB_MAX_ORGS_PER_USER",
        default_value_t = 20,
        global = true
    )]
    pub max_orgs_per_user: i64,

    /// Registry: anonymous manifest pulls per window, per IPv4 address or IPv6 /64.
    #[arg(
        long,
        env = "HUB_PULL_LIMIT_ANONYMOUS",
        default_value_t = 100,
        global = true
    )]
    pub pull_limit_anonymous: u32,

    /// Registry: signed-in manifest pulls per window, per user.
    #[arg(
        long,
        env = "HUB_PULL_LIMIT_AUTHENTICATED",
        default_value_t = 200,
        global = true
    )]
    pub pull_limit_authenticated: u32,

    /// Registry: the pull-limit window in seconds (Docker Hub: 21600, six hours).
    #[arg(
        long,
        env = "HUB_PULL_WINDOW_SECS",
        default_value_t = 21600,
        global = true
    )]
    pub pull_window_secs: u64,

    /// Registry: accept deletes of manifests, tags and blobs (`false`: 405 UNSUPPORTED).
    #[arg(long, env = "HUB_REGISTRY_DELETES", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub registry_deletes: bool,

    /// Registry: the secret that signs short-lived registry tokens. Set the
    /// same value on every instance behind one address. Default: random at start.
    #[arg(long, env = "HUB_TOKEN_SECRET", global = true, hide_env_values = true)]
    pub token_secret: Option<String>,

    /// Redis for rate-limit state shared by several instances (e.g.
    /// `redis://127.0.0.1:6379/0`). Default: in-process limits.
    #[arg(long, env = "HUB_REDIS_URL", global = true)]
    pub redis_url: Option<String>,

    /// Analytics: days raw pull events are kept (rollups are kept forever);
    /// also the longest span the dashboard and exports take.
    #[arg(
        long,
        env = "HUB_ANALYTICS_RETENTION_DAYS",
        default_value_t = 396,
        global = true
    )]
    pub analytics_retention_days: i64,

    /// Analytics: most events one `POST /api/v1/events` batch may carry.
    #[arg(
        long,
        env = "HUB_INGEST_MAX_EVENTS",
        default_value_t = 10_000,
        global = true
    )]
    pub ingest_max_events: usize,

    /// Keys each in-process rate limiter (sign-ins, sign-ups, uploads, pull
    /// allowances, …) holds at most; past that, new callers share one
    /// allowance until held keys recover (bounded memory under a flood of
    /// addresses).
    #[arg(long, env = "HUB_LIMITER_MAX_KEYS", default_value_t = app::core::limits::DEFAULT_MAX_KEYS, global = true)]
    pub limiter_max_keys: usize,

    /// Analytics: most bytes one ingestion batch may have.
    #[arg(long, env = "HUB_INGEST_MAX_BYTES", default_value_t = 8 * 1024 * 1024, global = true)]
    pub ingest_max_bytes: usize,

    /// Analytics: a MaxMind-format country database (GeoLite2-Country.mmdb or
    /// compatible) for the country of each pull. Default: no countries.
    #[arg(long, env = "HUB_GEOIP_DB", global = true)]
    pub geoip_db: Option<PathBuf>,

    /// Analytics: a directory of cloud providers' published IP ranges
    /// (aws.json, gcp.json, azure.json, oracle.json, digitalocean.csv,
    /// NAME.txt) for the cloud of each pull. Default: no clouds.
    #[arg(long, env = "HUB_CLOUD_RANGES", global = true)]
    pub cloud_ranges: Option<PathBuf>,

    /// How often the reminder job runs, in seconds (it is idempotent).
    #[arg(
        long,
        env = "HUB_REMINDER_INTERVAL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub reminder_interval_secs: u64,

    /// The bearer token `GET /metrics` requires (16+ characters). Default:
    /// none, and only direct connections from loopback addresses may scrape.
    #[arg(long, env = "HUB_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Log lines as `text` (for people) or `json` (one object per line, for collectors).
    #[arg(
        long,
        env = "HUB_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    pub log_format: LogFormat,

    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C; then
    /// the server writes queued pull events, closes the database and exits anyway.
    #[arg(
        long,
        env = "HUB_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_timeout_secs: u64,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (the event's fields at the top level).
    Json,
}

impl Config {
    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.trim().is_empty() => u.clone(),
            _ => app::db::sqlite_url(&self.data_dir.join("hub.db")),
        }
    }

    /// The hub's settings from this configuration; a bad value names its variable.
    pub fn settings(&self) -> Result<app::core::state::Settings, String> {
        for (name, v) in [
            ("HUB_ACTIVITY_DAYS", self.activity_days),
            ("HUB_RENEWAL_WINDOW_DAYS", self.renewal_window_days),
            ("HUB_GRACE_DAYS", self.grace_days),
        ] {
            if !(0..=3650).contains(&v) {
                return Err(format!(
                    "{name} must be a number of days from 0 to 3650, not {v}"
                ));
            }
        }
        let public_url = match &self.public_url {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                u.trim_end_matches('/').to_string()
            }
            Some(u) => {
                return Err(format!(
                    "HUB_PUBLIC_URL must start with http:// or https://, not “{u}”"
                ));
            }
            None => format!("http://{}", self.addr),
        };
        let trusted_proxies = self
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!("HUB_TRUSTED_PROXIES: “{p}” is not an address or CIDR range")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(1..=10_000).contains(&self.max_orgs_per_user) {
            return Err(format!(
                "HUB_MAX_ORGS_PER_USER must be from 1 to 10000, not {}",
                self.max_orgs_per_user
            ));
        }
        if self.pull_limit_anonymous == 0
            || self.pull_limit_authenticated == 0
            || self.pull_window_secs == 0
        {
            return Err("HUB_PULL_LIMIT_ANONYMOUS, HUB_PULL_LIMIT_AUTHENTICATED and HUB_PULL_WINDOW_SECS must be at least 1".into());
        }
        if self.analytics_retention_days < 31
            || self.ingest_max_events == 0
            || self.ingest_max_bytes < 1024
            || self.limiter_max_keys == 0
        {
            return Err("HUB_ANALYTICS_RETENTION_DAYS must be at least 31, HUB_INGEST_MAX_EVENTS at least 1, HUB_INGEST_MAX_BYTES at least 1024 and HUB_LIMITER_MAX_KEYS at least 1".into());
        }
        if self.reminder_interval_secs == 0 {
            return Err("HUB_REMINDER_INTERVAL_SECS must be at least 1".into());
        }
        let metrics_token = self.metrics_token.as_deref().map(str::trim);
        let metrics_token_sha256 = match metrics_token.filter(|t| !t.is_empty()) {
            Some(t) if t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(
                    "HUB_METRICS_TOKEN must be at least 16 characters, without spaces".into(),
                );
            }
            Some(t) => Some(app::core::metrics::token_digest(t)),
            None => None,
        };
        Ok(app::core::state::Settings {
            secure_cookies: self.secure_cookies,
            reminder_interval: std::time::Duration::from_secs(self.reminder_interval_secs),
            trusted_proxies,
            max_orgs_per_user: self.max_orgs_per_user,
            pull_limit_anonymous: self.pull_limit_anonymous,
            pull_limit_authenticated: self.pull_limit_authenticated,
            pull_window: std::time::Duration::from_secs(self.pull_window_secs),
            registry_deletes: self.registry_deletes,
            analytics_retention_days: self.analytics_retention_days,
            ingest_max_events: self.ingest_max_events,
            ingest_max_bytes: self.ingest_max_bytes,
            metrics_token_sha256,
            limiter_max_keys: self.limiter_max_keys,
            program: app::domain::ProgramRules {
                activity_days: self.activity_days,
                renewal_window_days: self.renewal_window_days,
                grace_days: self.grace_days,
            },
            public_url,
        })
    }

    /// How long in-flight requests may take to finish at shutdown.
    pub fn shutdown_timeout(&self) -> Result<std::time::Duration, String> {
        if self.shutdown_timeout_secs > 3600 {
            return Err(format!(
                "HUB_SHUTDOWN_TIMEOUT_SECS must be from 0 to 3600 seconds, not {}",
                self.shutdown_timeout_secs
            ));
        }
        Ok(std::time::Duration::from_secs(self.shutdown_timeout_secs))
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
