//! Shared helpers for router tests: a fresh app on a fresh database, and
//! small request builders.
#![allow(dead_code)]

use app::core::state::{AppState, Settings};
use app::db::Db;
use app::domain::Timestamp;
use app::domain::clock::ManualClock;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use std::sync::Arc;
use tower::ServiceExt;

/// 2026-01-01T00:00:00Z, the start of every test's clock.
pub const T0: Timestamp = Timestamp(1_767_225_600_000);

pub struct TestApp {
    pub blob_dir: tempfile::TempDir,
    pub router: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
}

pub fn test_app(db: Db) -> TestApp {
    test_app_with(db, Settings::default())
}

/// [`test_app`] with other settings (limits, the metrics token, …).
pub fn test_app_with(db: Db, settings: Settings) -> TestApp {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let clock = Arc::new(ManualClock::new(T0));
    let blob_dir = tempfile::tempdir().expect("blob dir");
    let blobs = Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(blob_dir.path()).expect("blob store"),
    );
    let state = AppState::new(
        db,
        clock.clone(),
        settings,
        leptos::config::LeptosOptions::builder()
            .output_name("hub")
            .site_root("target/site")
            .build(),
        blobs,
    );
    TestApp {
        blob_dir,
        router: server::router(state.clone()),
        state,
        clock,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

impl TestApp {
    /// Sends a request; a response (body included) that takes longer than
    /// 30 s fails the test naming the request, instead of hanging it.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let what = format!("{} {}", req.method(), req.uri());
        let call = async {
            let res = self
                .router
                .clone()
                .oneshot(req)
                .await
                .expect("router is infallible");
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = to_bytes(res.into_body(), 64 << 20).await.expect("body");
            (status, headers, bytes)
        };
        let (status, headers, bytes) =
            tokio::time::timeout(std::time::Duration::from_secs(30), call)
                .await
                .unwrap_or_else(|_| panic!("{what} took longer than 30 s"));
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, auth: Option<&str>) -> Resp {
        let mut b = Request::get(path);
        if let Some(a) = auth {
            b = with_auth(b, a);
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    pub async fn json(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: serde_json::Value,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(a) = auth {
            b = with_auth(b, a);
        }
        self.send(b.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    /// Calls a server function the way the browser does (form-encoded POST).
    pub async fn server_fn(
        &self,
        endpoint: &str,
        auth: Option<&str>,
        form: &[(&str, &str)],
    ) -> Resp {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut b = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(a) = auth {
            b = with_auth(b, a);
        }
        self.send(b.body(Body::from(body)).expect("request")).await
    }
}

/// `auth` is either `cookie:<value>` (sent as the hub's own pages send it,
/// with `Sec-Fetch-Site: same-origin`) or a bearer token.
fn with_auth(b: axum::http::request::Builder, auth: &str) -> axum::http::request::Builder {
    match auth.strip_prefix("cookie:") {
        Some(c) => b
            .header(header::COOKIE, c)
            .header("sec-fetch-site", "same-origin"),
        None => b.header(header::AUTHORIZATION, format!("Bearer {auth}")),
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Creates a user and returns a non-expiring admin-scoped token for them, so
/// a test can move the clock by years without sessions running out.
pub async fn user_with_token(t: &TestApp, name: &str, staff: bool) -> String {
    let id = app::account::api::create_user(&t.state, name, "s3cret-password", staff)
        .await
        .expect("create user");
    let caller = app::core::caller::Caller::acting_as(app::core::caller::AuthUser {
        id,
        name: name.into(),
        is_staff: staff,
    });
    app::account::api::create_token(&t.state, &caller, "test", "admin", None)
        .await
        .expect("token")
        .secret
}

/// The session cookie a sign-in or sign-up answer set, as `cookie:<name=value>`
/// (the form the request helpers take); checks it is HttpOnly and SameSite=Lax.
pub fn session_of(r: &Resp) -> String {
    let c = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hub_session="))
        .unwrap_or_else(|| panic!("no session cookie in {:?}", r.headers));
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
    format!("cookie:{}", c.split(';').next().unwrap_or(""))
}
