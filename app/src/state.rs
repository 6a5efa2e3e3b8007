//! What every request handler can reach: the database, the clock, the config.

use crate::db::Db;
use crate::domain::clock::Clock;
use std::sync::Arc;

/// Tunables of the hub that tests may change.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Set the `Secure` flag on the session cookie (serve over https).
    pub secure_cookies: bool,
    /// The program's day counts (activity window, renewal window, grace).
    pub program: crate::program::ProgramRules,
    /// The address users reach the hub at, for badge snippets (no trailing slash).
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            program: crate::program::ProgramRules::default(),
            public_url: "http://127.0.0.1:3000".into(),
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
    pub sign_in_limits: Arc<crate::account::auth::SignInLimits>,
    /// Blob storage for logos (local directory or S3-compatible).
    pub blobs: Arc<dyn object_store::ObjectStore>,
}

impl axum::extract::FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

impl AppState {
    /// State with fresh in-memory limiters.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        settings: Settings,
        leptos_options: leptos::config::LeptosOptions,
        blobs: Arc<dyn object_store::ObjectStore>,
    ) -> Self {
        AppState {
            db,
            clock,
            settings: Arc::new(settings),
            leptos_options,
            sign_in_limits: Arc::default(),
            blobs,
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
