//! What every request handler can reach: the database, the clock, the
//! settings, the limiters, the perks cache and blob storage.

use super::limits::Limiter;
use super::perks::PerksCache;
use crate::db::Db;
use crate::domain::ProgramRules;
use crate::domain::clock::Clock;
use std::sync::Arc;

/// Tunables of the hub that tests may change.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Set the `Secure` flag on the session cookie (serve over https).
    pub secure_cookies: bool,
    /// The program's day counts (activity window, renewal window, grace).
    pub program: ProgramRules,
    /// The address users reach the hub at, for badge snippets (no trailing slash).
    pub public_url: String,
    /// How often the program's (idempotent) reminder job runs.
    pub reminder_interval: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Organizations one user may own.
    pub max_orgs_per_user: i64,
    /// Registry manifest GETs per window: anonymous (per IPv4 address or IPv6 /64)…
    pub pull_limit_anonymous: u32,
    /// …and signed in (per user).
    pub pull_limit_authenticated: u32,
    /// The pull window (Docker Hub: 6 hours).
    pub pull_window: std::time::Duration,
    /// The registry accepts manifest and blob deletes (else 405 `UNSUPPORTED`).
    pub registry_deletes: bool,
    /// Raw pull events are kept this many days (rollups forever); also the
    /// longest span the dashboard and exports take.
    pub analytics_retention_days: i64,
    /// Events one `POST /api/v1/events` batch may carry (more: 413).
    pub ingest_max_events: usize,
    /// Bytes one ingestion batch may have (more: 413).
    pub ingest_max_bytes: usize,
    /// The SHA-256 of the token `GET /metrics` requires (`HUB_METRICS_TOKEN`);
    /// none: only direct loopback connections may scrape.
    pub metrics_token_sha256: Option<[u8; 32]>,
    /// Keys each in-process rate limiter holds at most (`HUB_LIMITER_MAX_KEYS`);
    /// past that, new callers share one allowance until keys recover.
    pub limiter_max_keys: usize,
}

impl Settings {
    /// The session cookie is `Secure` (forced by the flag, or an https public URL).
    pub fn cookie_secure(&self) -> bool {
        self.secure_cookies || self.public_url.starts_with("https://")
    }
    /// `__Host-hub_session` when secure, else `hub_session`.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.cookie_secure() {
            super::caller::SESSION_COOKIE_HOST
        } else {
            super::caller::SESSION_COOKIE
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            program: ProgramRules::default(),
            public_url: "http://127.0.0.1:3000".into(),
            reminder_interval: std::time::Duration::from_secs(3600),
            trusted_proxies: Vec::new(),
            max_orgs_per_user: 20,
            pull_limit_anonymous: 100,
            pull_limit_authenticated: 200,
            pull_window: std::time::Duration::from_secs(6 * 3600),
            registry_deletes: true,
            analytics_retention_days: 396,
            ingest_max_events: 10_000,
            ingest_max_bytes: 8 * 1024 * 1024,
            metrics_token_sha256: None,
            limiter_max_keys: super::limits::DEFAULT_MAX_KEYS,
        }
    }
}

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub leptos_options: leptos::config::LeptosOptions,
    /// Every rate limit of the hub (see [`super::limits::LimitedAction`]).
    pub limits: Arc<Limiter>,
    /// Namespaces' sponsorship, cached for a few seconds.
    pub perks: Arc<PerksCache>,
    /// Blob storage for logos and registry content (local directory or S3-compatible).
    pub blobs: Arc<dyn object_store::ObjectStore>,
    /// Signs short-lived registry tokens (random per process).
    pub token_secret: Arc<[u8; 32]>,
    /// Pull events waiting to be written.
    pub events: Arc<super::events::EventQueue>,
    /// IP address → country and cloud provider, for pull analytics.
    pub geo: Arc<super::geo::Geo>,
    /// What `GET /metrics` reports.
    pub metrics: Arc<super::metrics::Metrics>,
    /// Ingestion batches written at once (`INGEST_CONCURRENCY`): the rest
    /// wait without holding a database connection, so a burst of batches
    /// contending for the same rollup rows cannot take every connection
    /// from pages and pulls.
    pub ingest_slots: Arc<tokio::sync::Semaphore>,
}

/// How many ingestion batches write at the same time.
pub const INGEST_CONCURRENCY: usize = 4;

impl axum::extract::FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

impl AppState {
    /// Keeps pull allowances in Redis at `url` (keys under `prefix`), so
    /// several instances share them.
    pub fn with_redis_pull_limits(mut self, url: &str, prefix: &str) -> Result<Self, String> {
        let store = super::limits::RedisAllowance::new(url, prefix)?;
        self.limits = Arc::new(
            Limiter::new(self.clock.clone())
                .with_max_keys(self.settings.limiter_max_keys)
                .with_pulls(super::limits::PullStore::Redis(Box::new(store))),
        );
        Ok(self)
    }

    /// Signs registry tokens with a key derived from `secret`, so several
    /// instances accept each other's tokens.
    pub fn with_token_secret(mut self, secret: &str) -> Self {
        use sha2::Digest as _;
        self.token_secret = Arc::new(sha2::Sha256::digest(secret.as_bytes()).into());
        self
    }

    /// Derives countries and cloud providers with `geo`.
    pub fn with_geo(mut self, geo: super::geo::Geo) -> Self {
        self.geo = Arc::new(geo);
        self
    }

    /// State with fresh limiters and an empty perks cache.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        settings: Settings,
        leptos_options: leptos::config::LeptosOptions,
        blobs: Arc<dyn object_store::ObjectStore>,
    ) -> Self {
        AppState {
            db,
            limits: Arc::new(Limiter::new(clock.clone()).with_max_keys(settings.limiter_max_keys)),
            clock,
            settings: Arc::new(settings),
            leptos_options,
            perks: Arc::default(),
            blobs,
            token_secret: Arc::new(rand::random()),
            events: Arc::default(),
            geo: Arc::new(super::geo::Geo::empty()),
            metrics: Arc::default(),
            ingest_slots: Arc::new(tokio::sync::Semaphore::new(INGEST_CONCURRENCY)),
        }
    }

    /// The state of the current server function call.
    pub fn current() -> Result<AppState, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            crate::error::AppError::internal()
        })
    }
}
