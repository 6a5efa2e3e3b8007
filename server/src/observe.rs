//! What an operator sees of each request: one log line (method, matched
//! route, status, latency, request id; text or JSON), the request's entry in
//! `/metrics`, and an `x-request-id` on every answer.

use crate::config::LogFormat;
use app::core::metrics::UNMATCHED;
use app::core::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header that carries a request's id, in and out.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client.
pub const REQUEST_ID_MAX: usize = 128;

/// Sets up the process's logging: `RUST_LOG` filters (default
/// `info,sqlx=warn`), lines go to stderr as text or as one JSON object each.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::util::SubscriberInitExt::try_init(subscriber(
        format,
        filter,
        std::io::stderr,
        ansi,
    ));
}

/// The log subscriber for `format`, writing to `writer` (tests capture it).
/// JSON lines carry the event's fields at the top level (`timestamp`,
/// `level`, `target`, `message`, then the fields) and the current span
/// (`span.request_id` inside a request).
pub fn subscriber<W>(
    format: LogFormat,
    filter: tracing_subscriber::EnvFilter,
    writer: W,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(fmt.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(
            fmt.json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// A client's request id is kept when it is 1–128 characters of letters,
/// digits and `-_.:`; anything else is replaced (it goes into logs).
pub fn sane_request_id(v: &HeaderValue) -> Option<&str> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= REQUEST_ID_MAX
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then_some(s)
}

/// A fresh request id: 16 random bytes in hex.
pub fn new_request_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The route label of a request: its matched route template (bounded), the
/// static bundle's `/pkg/{*path}`, or [`UNMATCHED`].
fn route_of(req: &Request) -> String {
    match req.extensions().get::<MatchedPath>() {
        // A nested service's tail shows as a private parameter name.
        Some(m) => m
            .as_str()
            .replace("{*__private__axum_nest_tail_param}", "{*path}"),
        None if req.uri().path().starts_with("/pkg/") => "/pkg/{*path}".to_string(),
        None => UNMATCHED.to_string(),
    }
}

/// The outermost layer: request id in and out, the log line and the metrics.
pub async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let method = req.method().clone();
    let route = route_of(&req);
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_request_id)
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let id_header = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut()
        .insert(REQUEST_ID.clone(), id_header.clone());
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.run(req).instrument(span).await;
    res.headers_mut().insert(REQUEST_ID.clone(), id_header);
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    state
        .metrics
        .observe_request(method.as_str(), &route, status, elapsed.as_secs_f64());
    let latency_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    tracing::info!(
        target: "http",
        method = %method,
        route = %route,
        status,
        latency_ms,
        request_id = %id,
        "request"
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_clients_are_kept_only_when_sane() {
        for ok in ["abc", "0f3e-12_a.b:c", &"x".repeat(128)] {
            let v = HeaderValue::from_str(ok).expect("header");
            assert_eq!(sane_request_id(&v), Some(ok));
        }
        for bad in ["", "a b", "a\"b", "x=1", "ünï", &"x".repeat(129)] {
            if let Ok(v) = HeaderValue::from_str(bad) {
                assert_eq!(sane_request_id(&v), None, "{bad:?}");
            }
        }
        let v = HeaderValue::from_bytes(b"caf\xe9").expect("opaque header");
        assert_eq!(sane_request_id(&v), None);
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        assert!(sane_request_id(&HeaderValue::from_str(&id).expect("id")).is_some());
    }
}
