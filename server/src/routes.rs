//! The router: every feature's routes, server functions, pages, static
//! files, health, readiness and metrics; every request logged and counted. Every page render has a deadline; a panic answers 500.

use app::core::http::ApiRoutes;
use app::core::state::AppState;
use app::error::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::LazyLock;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// The longest a page may take to render before the server answers 503.
pub const RENDER_DEADLINE: Duration = Duration::from_secs(15);
/// The longest any other request may take (logo uploads included).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// Server-function bodies (form fields): generous for every form we have.
pub const SERVER_FN_BODY_MAX: usize = 64 * 1024;
/// The logo upload server function: the 5 MiB image plus the form around it.
pub const UPLOAD_BODY_MAX: usize = app::logo::MAX_BYTES as usize + 64 * 1024;

/// The page routes, generated once per process: generating them renders the
/// app with a process-wide "do not load resources" flag set
/// (leptos-rs/leptos#4773), so doing it per router could stall a page that
/// another router's generation overlaps.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(app::App));

/// Builds the whole HTTP application for `state`.
pub fn router(state: AppState) -> Router {
    let routes = ROUTES.clone();
    let ctx = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, ctx.clone(), {
            let options = state.leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(ctx, app::shell))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            RENDER_DEADLINE,
        ))
        .layer(axum::middleware::from_fn(render_to_the_end));
    let api = Router::new()
        .merge(ops().router)
        .merge(app::api().router)
        .route(
            "/api/{*fn_name}",
            get(server_fn_handler).post(server_fn_handler),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            app::core::http::JSON_BODY_MAX,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_DEADLINE,
        ));
    Router::new()
        .merge(api)
        .nest_service("/pkg", bundle(&state))
        .merge(pages)
        .layer(axum::middleware::from_fn(server_fn_body_limit))
        .layer(axum::middleware::from_fn(error_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            app::core::origin::guard,
        ))
        .layer(axum::middleware::from_fn(app::core::http::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            app::core::http::security_headers,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::observe::track,
        ))
        .with_state(state)
}

/// The operator's endpoints, with their table (for the authorization
/// matrix): liveness, readiness and metrics.
pub fn ops() -> ApiRoutes {
    ApiRoutes::new()
        .get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/metrics", app::core::metrics::scrape)
}

/// The wasm, JavaScript and CSS bundle: served pre-compressed (the build
/// writes `.br` and `.gz` beside each file) to clients that accept it. The
/// build names each file after a hash of its content (`hub.<hash>.wasm`,
/// listed in the site's `hash.txt`), so those are cached for a year and never
/// revalidated; any other file (an unhashed dev build) is revalidated on
/// every load (`no-cache` with `Last-Modified`).
fn bundle(state: &AppState) -> axum::routing::MethodRouter {
    use tower_http::services::ServeDir;
    let dir = std::path::Path::new(&*state.leptos_options.site_root).join("pkg");
    let serve = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    axum::routing::get_service(serve).layer(axum::middleware::from_fn(
        |req: Request, next: axum::middleware::Next| async move {
            let immutable = is_hashed_bundle_file(req.uri().path());
            let mut res = next.run(req).await;
            let value = if immutable && res.status() == StatusCode::OK {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            res.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static(value),
            );
            res
        },
    ))
}

/// Whether a bundle path names a content-hashed file: `<stem>.<16 hex>.<ext>`
/// where the stem is `hub` (script, main wasm, stylesheet) or a lazily loaded
/// page's file (`split_…`, `chunk_…`, wasm only).
fn is_hashed_bundle_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.split('.');
    let (Some(stem), Some(hash), Some(ext), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let known = match ext {
        "js" | "css" => stem == "hub",
        "wasm" => stem == "hub" || stem.starts_with("split_") || stem.starts_with("chunk_"),
        _ => false,
    };
    known && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Server functions read their bodies themselves (axum's `DefaultBodyLimit`
/// does not reach them): refuse a declared length over the limit at once,
/// count the bytes of any other body as they arrive, and answer 413 when the
/// count passes the limit (chunked bodies included).
async fn server_fn_body_limit(req: Request<Body>, next: axum::middleware::Next) -> Response {
    use futures::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let path = req.uri().path();
    if !path.starts_with("/api/") || path.starts_with("/api/v1/") {
        return next.run(req).await;
    }
    let limit = if path == "/api/upload_logo" {
        UPLOAD_BODY_MAX
    } else {
        SERVER_FN_BODY_MAX
    };
    let too_large = || {
        AppError::new(
            app::error::ErrorKind::PayloadTooLarge,
            format!("The request body is larger than {limit} bytes, the most this endpoint reads."),
        )
        .into_response()
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let over = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let counted = {
        let (seen, over) = (seen.clone(), over.clone());
        body.into_data_stream().map(move |chunk| {
            let chunk = chunk?;
            if seen.fetch_add(chunk.len(), Ordering::SeqCst) + chunk.len() > limit {
                over.store(true, Ordering::SeqCst);
                return Err(axum::Error::new("request body over the limit"));
            }
            Ok(chunk)
        })
    };
    let res = next
        .run(Request::from_parts(parts, Body::from_stream(counted)))
        .await;
    if over.load(Ordering::SeqCst) {
        return too_large();
    }
    res
}

/// Renders every page to its end, even for a client that hung up.
///
/// Leptos tears a page's reactive owner down when its response stream is
/// dropped; a `<Suspense>` whose resource finishes at that moment re-runs
/// its children on a worker thread against the half-disposed owner and
/// panics there (`<A/>` or a router hook finding no router). So the page is
/// rendered in a task of its own that reads the stream to the end (the owner
/// is then released in order, after every suspense has resolved) and hands
/// the chunks to the client while it listens. A render that outlives
/// [`RENDER_DEADLINE`] twice over is dropped all the same.
async fn render_to_the_end(req: Request<Body>, next: axum::middleware::Next) -> Response {
    use futures::{FutureExt, StreamExt};
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(tokio::time::timeout(2 * RENDER_DEADLINE, async move {
        let res = match std::panic::AssertUnwindSafe(next.run(req))
            .catch_unwind()
            .await
        {
            Ok(res) => res,
            Err(panic) => panic_response(panic),
        };
        let (parts, body) = res.into_parts();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, axum::Error>>(16);
        let body_out = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        }));
        let mut listening = head_tx.send(Response::from_parts(parts, body_out)).is_ok();
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            if listening {
                listening = tx.send(chunk).await.is_ok();
            }
        }
    }));
    head_rx
        .await
        .unwrap_or_else(|_| AppError::internal().into_response())
}

/// A handler panicked: log it loudly and answer the opaque 500.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = msg, "request handler panicked");
    AppError::internal().into_response()
}

/// server_fn answers every error with 500; this gives each error the status
/// of its code (422, 403, …). Only 500 responses are inspected.
async fn error_status(req: Request<Body>, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => return AppError::internal().into_response(),
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        // The error's own answer decides status and headers (Retry-After).
        let own = err.into_response();
        parts.status = own.status();
        for (k, v) in own.headers() {
            if k != axum::http::header::CONTENT_LENGTH {
                parts.headers.insert(k.clone(), v.clone());
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Readiness: the database answers and every migration of this build is
/// applied (a load balancer sends traffic only then); 503 says which is not.
async fn readyz(State(state): State<AppState>) -> Response {
    let not_ready = |reason: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "not ready", "reason": reason})),
        )
            .into_response()
    };
    if let Err(e) = sqlx::query("SELECT 1").execute(&state.db.pool).await {
        tracing::warn!(error = %e, "readiness: database unreachable");
        return not_ready("the database does not answer".into());
    }
    match state.db.pending_migrations().await {
        Ok(pending) if pending.is_empty() => {
            Json(serde_json::json!({"status": "ready"})).into_response()
        }
        Ok(pending) => not_ready(format!(
            "migrations not applied: {} (run `server migrate`)",
            pending
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: migration table unreadable");
            not_ready("the migration table cannot be read (run `server migrate`)".into())
        }
    }
}

/// Liveness and database reachability.
/// Liveness: the process is up and serving. The database is `/readyz`'s
/// concern, so an outage there does not get a healthy process restarted.
async fn healthz() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

/// Runs a server function with the app state in context (error statuses are
/// set by [`error_status`]).
async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> Response {
    leptos_axum::handle_server_fns_with_context(move || provide_context(state.clone()), req)
        .await
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::is_hashed_bundle_file;

    #[test]
    fn only_content_hashed_bundle_names_are_immutable() {
        for p in [
            "/hub.0123456789abcdef.wasm",
            "/pkg/hub.fedcba9876543210.js",
            "hub.00000000aaaaaaaa.css",
            "/pkg/split___Repo_View_1234.0123456789abcdef.wasm",
            "/pkg/chunk_3.0123456789abcdef.wasm",
        ] {
            assert!(is_hashed_bundle_file(p), "{p}");
        }
        for p in [
            "/hub.js",
            "/hub_bg.wasm",
            "/hub.css",
            "/hub.0123456789abcdef.wasm.br",
            "/hub.0123456789abcde.wasm",
            "/hub.0123456789abcdeg.js",
            "/app.0123456789abcdef.js",
            "/hub.0123456789abcdef.html",
            "/pkg/chunk_3.wasm",
            "/pkg/split_x.0123456789abcdef.js",
            "/pkg/__wasm_split.______________________.js",
            "/pkg/__wasm_split_manifest.json",
        ] {
            assert!(!is_hashed_bundle_file(p), "{p}");
        }
    }
}
