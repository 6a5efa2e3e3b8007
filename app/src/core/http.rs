//! HTTP plumbing every feature's routes share: JSON request bodies (with
//! their content type), the JSON error shape for every refusal (axum's and
//! tower's included), security headers on every answer, and the `/api/v1` 404.

use super::state::AppState;
use crate::error::{AppError, AppResult, ErrorKind};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The largest JSON body a REST route reads.
pub const JSON_BODY_MAX: usize = 64 * 1024;

/// Parses a JSON body, answering 400 with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    if body.is_empty() {
        return Err(AppError::bad_request("Send a JSON body."));
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("The JSON body could not be read: {e}.")))
}

/// A JSON request body: `Content-Type: application/json` (415 otherwise), at
/// most [`JSON_BODY_MAX`] bytes (413), parsed (400 naming the problem). An
/// empty body reads as `{}`, for routes whose fields are all optional.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json")
                    || (m.starts_with("application/") && m.ends_with("+json"))
            });
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(
                    ErrorKind::PayloadTooLarge,
                    format!("The JSON body is larger than {JSON_BODY_MAX} bytes."),
                )
            } else {
                AppError::bad_request(format!("The body could not be read: {e}."))
            }
        })?;
        if bytes.is_empty() {
            return parse_json(b"{}").map(JsonBody);
        }
        if !is_json {
            return Err(AppError::new(
                ErrorKind::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// A feature's REST and file routes together with the table of what they
/// serve (method, path), so a test can require that every route is covered.
#[derive(Default)]
pub struct ApiRoutes {
    pub router: axum::Router<AppState>,
    pub table: Vec<(Method, &'static str)>,
}

macro_rules! method_fn {
    ($name:ident, $method:ident) => {
        /// Adds a route for this method (several methods on one path merge).
        pub fn $name<H, T>(mut self, path: &'static str, handler: H) -> Self
        where
            H: axum::handler::Handler<T, AppState>,
            T: 'static,
        {
            self.router = self.router.route(path, axum::routing::$name(handler));
            self.table.push((Method::$method, path));
            self
        }
    };
}

impl ApiRoutes {
    pub fn new() -> Self {
        Self::default()
    }
    method_fn!(get, GET);
    method_fn!(post, POST);
    method_fn!(put, PUT);
    method_fn!(delete, DELETE);
    method_fn!(patch, PATCH);
    /// Both routers and both tables.
    pub fn merge(mut self, other: ApiRoutes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }
}

/// `/api/v1/...` paths no feature serves.
pub async fn api_not_found() -> AppError {
    AppError::not_found("There is no such API endpoint; see docs/API.md for the list.")
}

/// Paths answered with JSON errors (everything but pages).
fn is_api(path: &str) -> bool {
    [
        "/api/", "/badge/", "/logos/", "/v2/", "/healthz", "/readyz", "/metrics",
    ]
    .iter()
    .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'))
}

/// Gives every refusal on an API path the JSON error shape: axum's own
/// rejections (bad path, body too large, wrong method) and tower's (timeouts,
/// body limits) answer plain text or nothing otherwise.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let res = next.run(req).await;
    let status = res.status();
    if !api || status.as_u16() < 400 {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let kind = match status.as_u16() {
        400 => ErrorKind::BadRequest,
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::Forbidden,
        404 | 405 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        413 => ErrorKind::PayloadTooLarge,
        415 => ErrorKind::UnsupportedMediaType,
        422 => ErrorKind::Invalid,
        429 => ErrorKind::RateLimited,
        _ => ErrorKind::Internal,
    };
    let message = match status.as_u16() {
        405 => format!(
            "{} is not allowed here; see docs/API.md.",
            parts.method_hint()
        ),
        408 | 503 | 504 => "The request took too long and was stopped; try again.".to_string(),
        413 => "The request body is larger than this endpoint accepts.".to_string(),
        _ if kind == ErrorKind::Internal => AppError::internal().message,
        _ if text.is_empty() => status.canonical_reason().unwrap_or("Refused").to_string(),
        _ => text,
    };
    let mut out = AppError::new(kind, message).into_response();
    *out.status_mut() = status;
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

trait MethodHint {
    fn method_hint(&self) -> String;
}

impl MethodHint for axum::http::response::Parts {
    fn method_hint(&self) -> String {
        self.headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(|a| format!("This method (allowed: {a})"))
            .unwrap_or_else(|| "This method".to_string())
    }
}

/// Headers on every answer: `nosniff`, a referrer policy, HSTS behind https,
/// and on HTML pages a restrictive CSP unless the page set its own (the app
/// shell sets one with the render's script nonce).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if state.settings.public_url.starts_with("https://") {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        );
    }
    if html {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    res
}

/// The CSP of a rendered page: scripts only from here or with this render's
/// nonce, wasm compiled (nothing broader), no framing, no `<base>`, no plugins.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_csp_allows_only_the_nonce_and_wasm() {
        let c = page_csp("abc");
        assert!(
            c.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"),
            "{c}"
        );
        assert!(!c.contains("unsafe-eval'") || c.contains("wasm-unsafe-eval"));
        let scripts = c
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or("");
        assert!(!scripts.contains("unsafe-inline"), "{c}");
        for d in [
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ] {
            assert!(c.contains(d), "{d}");
        }
    }

    #[test]
    fn api_paths() {
        assert!(is_api("/api/v1/orgs"));
        assert!(is_api("/badge/a/b.svg"));
        assert!(is_api("/healthz"));
        assert!(!is_api("/u/fluentorg"));
        assert!(!is_api("/"));
    }
}
