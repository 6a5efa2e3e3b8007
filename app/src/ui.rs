//! Small shared view pieces: the signed-in user, error display, pills.

use crate::account::SessionUser;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in user, refetched whenever `version` is bumped (sign in/out).
#[derive(Clone, Copy)]
pub struct Auth {
    pub version: RwSignal<u32>,
    pub user: Resource<Result<Option<SessionUser>, AppError>>,
}

impl Auth {
    pub fn new() -> Self {
        let version = RwSignal::new(0);
        let user = Resource::new(move || version.get(), |_| crate::account::api::whoami());
        Auth { version, user }
    }
    /// Call after signing in or out.
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }
    /// The user as last loaded (None while loading or signed out).
    pub fn current(&self) -> Option<SessionUser> {
        self.user.get().and_then(|r| r.ok()).flatten()
    }
}

impl Default for Auth {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_auth() -> Auth {
    use_context::<Auth>().unwrap_or_default()
}

/// Shows the error of the last action run, if any.
#[component]
pub fn ActionError<T, S>(value: S) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            view! { <p class="error-box" role="alert" data-testid="action-error">{e.message}</p> }
        })
    }
}

/// "public" / "private" pill.
#[component]
pub fn Visibility(is_private: bool) -> impl IntoView {
    if is_private {
        view! { <span class="pill private">"private"</span> }
    } else {
        view! { <span class="pill public">"public"</span> }
    }
}

/// `sha256:0123456789ab…`
pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}…", &hex[..12]),
        _ => d.to_string(),
    }
}

/// Shown when a page needs a signed-in user.
#[component]
pub fn SignInFirst() -> impl IntoView {
    view! {
        <div class="panel">
            <p>"You need to sign in to see this page."</p>
            <a class="button" href="/signin">"Sign in"</a>
        </div>
    }
}
