//! What the hub counts for `GET /metrics` (Prometheus text format 0.0.4):
//! requests by matched route and status with latency histograms, registry
//! pulls by action, the pull limiter's decisions, pull events ingested
//! (sent to the API), written and dropped (the registry's queue), the
//! database pool, and background-job runs and failures.
//!
//! Counters that live elsewhere already (the pull-event queue's, the pool's)
//! are read when scraped, not copied on every change. Each [`AppState`] has
//! its own registry, so tests see only their own numbers.
//!
//! Who may scrape: with `HUB_METRICS_TOKEN` set, a request carrying
//! `Authorization: Bearer <token>` (compared in constant time); without it,
//! only a direct connection from a loopback address (a request that carries
//! proxy headers was relayed, so it is refused).

use super::state::AppState;
use crate::domain::pulls::Action;
use crate::error::{AppError, ErrorKind};
use prometheus::core::Collector;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Latency buckets in seconds: from a cached badge to a slow export.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The `Content-Type` of a scrape.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The route label of a request no route matched (one label, not one per path).
pub const UNMATCHED: &str = "unmatched";

/// How the pull limiter decided one manifest GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullLimit {
    /// Counted against the caller's allowance, within it.
    Allowed,
    /// Refused with 429 `TOOMANYREQUESTS`.
    Limited,
    /// Not counted: a public repository of a sponsored namespace.
    Exempt,
}

impl PullLimit {
    pub const ALL: [PullLimit; 3] = [PullLimit::Allowed, PullLimit::Limited, PullLimit::Exempt];
    pub fn as_str(self) -> &'static str {
        match self {
            PullLimit::Allowed => "allowed",
            PullLimit::Limited => "limited",
            PullLimit::Exempt => "exempt",
        }
    }
}

/// The hub's metrics.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pulls: IntCounterVec,
    pull_limit: IntCounterVec,
    job_runs: IntCounterVec,
    job_failures: IntCounterVec,
    ingested: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers `c` (the names are constants, so this cannot clash) and returns it.
fn registered<C: Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    if let Err(e) = registry.register(Box::new(c.clone())) {
        tracing::error!(error = %e, "metric not registered");
    }
    c
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("metric {name}: {e}"));
    registered(registry, c)
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let http_requests = counter_vec(
            &registry,
            "hub_http_requests_total",
            "HTTP requests answered, by method, matched route and status.",
            &["method", "route", "status"],
        );
        let http_duration = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "hub_http_request_duration_seconds",
                    "Time from request to response head, by method and matched route.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["method", "route"],
            )
            .unwrap_or_else(|e| unreachable!("histogram: {e}")),
        );
        let pulls = counter_vec(
            &registry,
            "hub_registry_pulls_total",
            "Manifests served by the registry, by action (pull_by_tag, pull_by_digest, version_check).",
            &["action"],
        );
        let pull_limit = counter_vec(
            &registry,
            "hub_pull_limit_decisions_total",
            "Manifest GETs as the pull limiter decided them: allowed, limited (429) or exempt (sponsored).",
            &["decision"],
        );
        let job_runs = counter_vec(
            &registry,
            "hub_job_runs_total",
            "Background-job runs, failed ones included, by job.",
            &["job"],
        );
        let job_failures = counter_vec(
            &registry,
            "hub_job_failures_total",
            "Background-job runs that failed, by job.",
            &["job"],
        );
        let ingested = counter_vec(
            &registry,
            "hub_ingest_events_total",
            "Pull events sent to POST /api/v1/events and /api/v1/events/distribution in accepted batches: stored, or duplicate (already stored).",
            &["outcome"],
        );
        for outcome in ["stored", "duplicate"] {
            ingested.with_label_values(&[outcome]);
        }
        for a in Action::ALL {
            pulls.with_label_values(&[a.as_str()]);
        }
        for d in PullLimit::ALL {
            pull_limit.with_label_values(&[d.as_str()]);
        }
        let info = IntGaugeVec::new(
            Opts::new("hub_build_info", "The running server's version (always 1)."),
            &["version"],
        )
        .unwrap_or_else(|e| unreachable!("build info: {e}"));
        info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        registered(&registry, info);
        Metrics {
            registry,
            http_requests,
            http_duration,
            pulls,
            pull_limit,
            job_runs,
            job_failures,
            ingested,
        }
    }

    /// One answered request; `route` is the matched route template (or [`UNMATCHED`]).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        let status = status.to_string();
        self.http_requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// One manifest served.
    pub fn pull(&self, action: Action) {
        self.pulls.with_label_values(&[action.as_str()]).inc();
    }

    /// One pull-limit decision on a manifest GET.
    pub fn pull_limit(&self, decision: PullLimit) {
        self.pull_limit
            .with_label_values(&[decision.as_str()])
            .inc();
    }

    /// One accepted ingestion batch: events stored, and duplicates skipped.
    pub fn events_ingested(&self, stored: usize, duplicates: usize) {
        self.ingested
            .with_label_values(&["stored"])
            .inc_by(stored as u64);
        self.ingested
            .with_label_values(&["duplicate"])
            .inc_by(duplicates as u64);
    }

    /// Makes `job`'s counters appear (at zero) before its first run ends.
    pub fn job_registered(&self, job: &str) {
        self.job_runs.with_label_values(&[job]);
        self.job_failures.with_label_values(&[job]);
    }

    /// One finished run of `job`.
    pub fn job_ran(&self, job: &str, ok: bool) {
        self.job_runs.with_label_values(&[job]).inc();
        if !ok {
            self.job_failures.with_label_values(&[job]).inc();
        }
    }

    /// The scrape: every registered metric, plus the pull-event queue's and
    /// the database pool's numbers as they are now.
    pub fn render(&self, state: &AppState) -> String {
        let mut families = self.registry.gather();
        let now = Registry::new();
        let counter = |name: &str, help: &str, v: u64| {
            let c = IntCounter::new(name, help).unwrap_or_else(|e| unreachable!("{name}: {e}"));
            c.inc_by(v);
            registered(&now, c);
        };
        counter(
            "hub_pull_events_written_total",
            "Registry pull events written to the database by the queue's writer.",
            state.events.written(),
        );
        counter(
            "hub_pull_events_dropped_total",
            "Registry pull events dropped because the queue was full (the pulls were served).",
            state.events.dropped(),
        );
        let gauge = |name: &str, help: &str, v: i64| {
            let g = IntGauge::new(name, help).unwrap_or_else(|e| unreachable!("{name}: {e}"));
            g.set(v);
            registered(&now, g);
        };
        counter(
            "hub_limiter_overflow_total",
            "Limiter decisions made on the shared overflow key because a limiter held HUB_LIMITER_MAX_KEYS keys.",
            state.limits.overflowed(),
        );
        gauge(
            "hub_limiter_keys",
            "Keys held by the in-process rate limiters and pull allowances.",
            state.limits.keys() as i64,
        );
        gauge(
            "hub_pull_events_queued",
            "Registry pull events waiting to be written.",
            state.events.len() as i64,
        );
        let pool = &state.db.pool;
        let size = i64::from(pool.size());
        let idle = pool.num_idle() as i64;
        let conns = IntGaugeVec::new(
            Opts::new(
                "hub_db_pool_connections",
                "Open database connections: in_use (checked out) and idle.",
            ),
            &["state"],
        )
        .unwrap_or_else(|e| unreachable!("pool: {e}"));
        conns
            .with_label_values(&["in_use"])
            .set((size - idle).max(0));
        conns.with_label_values(&["idle"]).set(idle);
        registered(&now, conns);
        gauge(
            "hub_db_pool_max_connections",
            "The most connections the database pool opens.",
            i64::from(pool.options().get_max_connections()),
        );
        families.extend(now.gather());
        families.sort_by(|a, b| a.name().cmp(b.name()));
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "metrics could not be encoded");
                String::new()
            })
    }
}

/// The SHA-256 of a metrics token, as [`super::state::Settings`] keeps it
/// (so the token itself is never in memory dumps of the settings or in logs).
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// Decides whether a scrape may see the metrics: with a token configured,
/// the request must carry it as a bearer token (401 otherwise); without one,
/// the peer must be a loopback address and the request must not have come
/// through a proxy (403 otherwise).
pub fn authorize(
    token: Option<&[u8; 32]>,
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Result<(), AppError> {
    use axum::http::header;
    match token {
        Some(want) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(|t| token_digest(t.trim()));
            let ok = given.is_some_and(|g| subtle::ConstantTimeEq::ct_eq(&g[..], &want[..]).into());
            if ok {
                Ok(())
            } else {
                Err(AppError::new(
                    ErrorKind::Unauthenticated,
                    "Send the metrics token (HUB_METRICS_TOKEN) as `Authorization: Bearer <token>`.",
                ))
            }
        }
        None => {
            let relayed = ["forwarded", "x-forwarded-for", "x-real-ip"]
                .iter()
                .any(|h| headers.contains_key(*h));
            if peer.is_some_and(|ip| ip.is_loopback()) && !relayed {
                Ok(())
            } else {
                Err(AppError::forbidden(
                    "Metrics answer only direct connections from this machine; set HUB_METRICS_TOKEN to scrape from elsewhere.",
                ))
            }
        }
    }
}

/// `GET /metrics`.
pub async fn scrape(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Err(e) = authorize(
        state.settings.metrics_token_sha256.as_ref(),
        req.headers(),
        peer,
    ) {
        let unauthenticated = e.status() == 401;
        let mut res = e.into_response();
        if unauthenticated {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(r#"Bearer realm="metrics""#),
            );
        }
        return res;
    }
    (
        [
            (axum::http::header::CONTENT_TYPE, CONTENT_TYPE),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics.render(&state),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header};
    use std::net::IpAddr;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn without_a_token_only_direct_loopback_peers_scrape() {
        let lo4: IpAddr = "127.0.0.1".parse().expect("ip");
        let lo6: IpAddr = "::1".parse().expect("ip");
        let lan: IpAddr = "10.1.2.3".parse().expect("ip");
        assert!(authorize(None, &HeaderMap::new(), Some(lo4)).is_ok());
        assert!(authorize(None, &HeaderMap::new(), Some(lo6)).is_ok());
        for (h, peer) in [
            (HeaderMap::new(), Some(lan)),
            (HeaderMap::new(), None),
            (headers(&[("x-forwarded-for", "203.0.113.9")]), Some(lo4)),
            (headers(&[("forwarded", "for=203.0.113.9")]), Some(lo4)),
        ] {
            let e = authorize(None, &h, peer).expect_err("refused");
            assert_eq!(e.status(), 403, "{h:?} {peer:?}");
        }
    }

    #[test]
    fn with_a_token_the_bearer_must_match_wherever_it_comes_from() {
        let want = token_digest("s3cret-metrics-token");
        let lan: IpAddr = "10.1.2.3".parse().expect("ip");
        let ok = headers(&[(
            header::AUTHORIZATION.as_str(),
            "Bearer s3cret-metrics-token",
        )]);
        assert!(authorize(Some(&want), &ok, Some(lan)).is_ok());
        for h in [
            HeaderMap::new(),
            headers(&[(header::AUTHORIZATION.as_str(), "Bearer wrong")]),
            headers(&[(header::AUTHORIZATION.as_str(), "Basic czNjcmV0")]),
            headers(&[(
                header::AUTHORIZATION.as_str(),
                "Bearer s3cret-metrics-token-and-more",
            )]),
        ] {
            let lo: IpAddr = "127.0.0.1".parse().expect("ip");
            let e = authorize(Some(&want), &h, Some(lo)).expect_err("refused");
            assert_eq!(e.status(), 401, "{h:?}");
        }
    }

    #[test]
    fn labels_stay_bounded() {
        let m = Metrics::new();
        m.observe_request("BREW", "/x", 200, 0.01);
        m.observe_request("GET", "/x", 200, 0.01);
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&m.registry.gather())
            .expect("encode");
        assert!(
            text.contains(r#"hub_http_requests_total{method="other",route="/x",status="200"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"hub_registry_pulls_total{action="pull_by_tag"} 0"#));
        assert!(text.contains(r#"hub_pull_limit_decisions_total{decision="exempt"} 0"#));
    }
}
