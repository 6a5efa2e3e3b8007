//! What an operator sees, on SQLite and PostgreSQL: `GET /metrics` (who may
//! scrape, and that requests, pulls, limiter decisions, pull events, the pool
//! and jobs are counted), `GET /readyz` (database and migrations), request ids
//! and the one JSON log line per request.

mod common;

use app::core::state::Settings;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::{Resp, TestApp, test_app, test_app_with, user_with_token};
use serde_json::json;
use sha2::Digest as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

fn digest(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

const CONFIG: &[u8] = br#"{"architecture":"amd64","os":"linux"}"#;
const LAYER: &[u8] = b"a layer to pull while counting";

/// A request from `peer` (as the real server's connection info gives it).
async fn send_from(
    t: &TestApp,
    peer: Option<&str>,
    b: axum::http::request::Builder,
    body: impl Into<Body>,
) -> Resp {
    let mut req = b.body(body.into()).expect("request");
    if let Some(p) = peer {
        let ip = p.parse().expect("ip");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    }
    t.send(req).await
}

/// Pushes a two-blob image to `repo` as `tag`.
async fn push(t: &TestApp, token: &str, repo: &str, tag: &str) {
    for blob in [CONFIG, LAYER] {
        let r = send_from(
            t,
            None,
            Request::post(format!("/v2/{repo}/blobs/uploads/?digest={}", digest(blob)))
                .header(header::AUTHORIZATION, format!("Bearer {token}")),
            blob.to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "blob: {}", r.body);
    }
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
        digest(CONFIG),
        CONFIG.len(),
        digest(LAYER),
        LAYER.len()
    );
    let r = send_from(
        t,
        None,
        Request::put(format!("/v2/{repo}/manifests/{tag}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(
                header::CONTENT_TYPE,
                "application/vnd.oci.image.manifest.v1+json",
            ),
        m,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "manifest: {}", r.body);
}

/// The scrape, from loopback.
async fn scrape(t: &TestApp) -> String {
    let r = send_from(
        t,
        Some("127.0.0.1"),
        Request::get("/metrics"),
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    r.body
}

/// The value of one sample (`name{labels}` exactly as written), or None.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

/// Sponsors `org` (an application approved by a reviewer).
async fn sponsor(t: &TestApp, owner: &str, staff: &str, org: &str) {
    let form = json!({"project_name": "Counted", "website": "https://c.example.org", "source_url": "https://github.com/c/c",
        "license": "MIT", "description": "Counted pulls.", "attest_public": true, "attest_osd": true, "attest_noncommercial": true});
    let r = t
        .json(
            "POST",
            &format!("/api/v1/namespaces/{org}/program/applications"),
            Some(owner),
            form,
        )
        .await;
    let id = r.json()["id"].as_i64().expect("application id");
    let r = t
        .json(
            "POST",
            &format!("/api/v1/program/applications/{id}/approve"),
            Some(staff),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

app::both_backends! {
    async fn metrics_answer_loopback_only_without_a_token(db: Db) {
        let t = test_app(db);
        for (peer, extra, want) in [
            (Some("127.0.0.1"), None, StatusCode::OK),
            (Some("::1"), None, StatusCode::OK),
            (Some("192.0.2.7"), None, StatusCode::FORBIDDEN),
            (None, None, StatusCode::FORBIDDEN),
            // Relayed by a proxy on this machine: not a local scrape.
            (Some("127.0.0.1"), Some(("x-forwarded-for", "203.0.113.5")), StatusCode::FORBIDDEN),
            (Some("127.0.0.1"), Some(("forwarded", "for=203.0.113.5")), StatusCode::FORBIDDEN),
        ] {
            let mut b = Request::get("/metrics");
            if let Some((k, v)) = extra {
                b = b.header(k, v);
            }
            let r = send_from(&t, peer, b, Body::empty()).await;
            assert_eq!(r.status, want, "{peer:?} {extra:?}: {}", r.body);
            if want == StatusCode::FORBIDDEN {
                assert_eq!(r.error_code(), "forbidden");
                assert!(r.body.contains("HUB_METRICS_TOKEN"), "{}", r.body);
                assert!(!r.body.contains("hub_http_requests_total"));
            }
        }
        // Only GET.
        let r = send_from(&t, Some("127.0.0.1"), Request::post("/metrics"), Body::empty()).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.body);
    }

    async fn metrics_require_the_token_when_one_is_set(db: Db) {
        let token = "a-metrics-token-of-32-characters";
        let settings = Settings {
            metrics_token_sha256: Some(app::core::metrics::token_digest(token)),
            ..Settings::default()
        };
        let t = test_app_with(db, settings);
        for (peer, auth, want) in [
            (Some("192.0.2.7"), Some(format!("Bearer {token}")), StatusCode::OK),
            (Some("127.0.0.1"), Some(format!("Bearer {token}")), StatusCode::OK),
            (Some("127.0.0.1"), None, StatusCode::UNAUTHORIZED),
            (Some("192.0.2.7"), Some("Bearer wrong-token".to_string()), StatusCode::UNAUTHORIZED),
            (Some("192.0.2.7"), Some(format!("Bearer {token}x")), StatusCode::UNAUTHORIZED),
            (Some("192.0.2.7"), Some(format!("Basic {token}")), StatusCode::UNAUTHORIZED),
        ] {
            let mut b = Request::get("/metrics");
            if let Some(a) = &auth {
                b = b.header(header::AUTHORIZATION, a);
            }
            let r = send_from(&t, peer, b, Body::empty()).await;
            assert_eq!(r.status, want, "{peer:?} {auth:?}: {}", r.body);
            if want == StatusCode::UNAUTHORIZED {
                assert_eq!(r.error_code(), "unauthenticated");
                assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer realm=\"metrics\"");
            } else {
                assert!(r.body.contains("# TYPE hub_registry_pulls_total counter"), "{}", r.body);
            }
        }
        // A user's access token is not the metrics token.
        let user = user_with_token(&t, "alice", true).await;
        let r = send_from(&t, Some("192.0.2.7"),
            Request::get("/metrics").header(header::AUTHORIZATION, format!("Bearer {user}")), Body::empty()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    async fn metrics_count_requests_pulls_limits_events_pool_and_jobs(db: Db) {
        let backend = db.backend;
        let settings = Settings { pull_limit_anonymous: 2, ..Settings::default() };
        let t = test_app_with(db, settings);
        let alice = user_with_token(&t, "alice", false).await;
        let staff = user_with_token(&t, "reviewer", true).await;
        push(&t, &alice, "alice/web", "1.0").await;
        let r = t.json("POST", "/api/v1/orgs", Some(&alice), json!({"name": "countorg"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        push(&t, &alice, "countorg/tool", "2.0").await;
        sponsor(&t, &alice, &staff, "countorg").await;
        let before = scrape(&t).await;
        for action in ["pull_by_tag", "pull_by_digest", "version_check"] {
            assert_eq!(value(&before, &format!("hub_registry_pulls_total{{action=\"{action}\"}}")), 0.0);
        }
        let pull = |path: &str, method: &str| {
            Request::builder().method(method).uri(path.to_string())
        };
        // Two GETs within the anonymous allowance of 2, one over it, one HEAD.
        let web = "/v2/alice/web/manifests/1.0";
        for want in [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS] {
            let r = send_from(&t, Some("198.51.100.1"), pull(web, "GET"), Body::empty()).await;
            assert_eq!(r.status, want, "{}", r.body);
        }
        let r = send_from(&t, Some("198.51.100.1"), pull(web, "HEAD"), Body::empty()).await;
        assert_eq!(r.status, StatusCode::OK);
        // Sponsored: exempt, by tag and by digest.
        let r = send_from(&t, Some("198.51.100.1"), pull("/v2/countorg/tool/manifests/2.0", "GET"), Body::empty()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let by_digest = format!("/v2/countorg/tool/manifests/{}", r.headers["docker-content-digest"].to_str().expect("digest"));
        let r = send_from(&t, Some("198.51.100.1"), pull(&by_digest, "GET"), Body::empty()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // Requests by matched route and status.
        assert_eq!(t.get("/healthz", None).await.status, StatusCode::OK);
        assert_eq!(t.get("/no/such/page", None).await.status, StatusCode::NOT_FOUND);
        t.get("/pkg/hub.js", None).await;
        // Queued pull events: five served manifests wait until written.
        let m = scrape(&t).await;
        assert_eq!(value(&m, "hub_registry_pulls_total{action=\"pull_by_tag\"}"), 3.0, "{m}");
        assert_eq!(value(&m, "hub_registry_pulls_total{action=\"pull_by_digest\"}"), 1.0);
        assert_eq!(value(&m, "hub_registry_pulls_total{action=\"version_check\"}"), 1.0);
        assert_eq!(value(&m, "hub_pull_limit_decisions_total{decision=\"allowed\"}"), 2.0);
        assert_eq!(value(&m, "hub_pull_limit_decisions_total{decision=\"limited\"}"), 1.0);
        assert_eq!(value(&m, "hub_pull_limit_decisions_total{decision=\"exempt\"}"), 2.0);
        assert_eq!(value(&m, "hub_pull_events_queued"), 5.0);
        assert_eq!(value(&m, "hub_pull_events_written_total"), 0.0);
        assert_eq!(value(&m, "hub_pull_events_dropped_total"), 0.0);
        let route = "/v2/{ns}/{repo}/manifests/{reference}";
        assert_eq!(value(&m, &format!("hub_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"200\"}}")), 4.0);
        assert_eq!(value(&m, &format!("hub_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"429\"}}")), 1.0);
        assert_eq!(value(&m, &format!("hub_http_requests_total{{method=\"HEAD\",route=\"{route}\",status=\"200\"}}")), 1.0);
        assert_eq!(value(&m, "hub_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"), 1.0);
        assert_eq!(value(&m, "hub_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"), 1.0);
        assert!(m.lines().any(|l| l.starts_with("hub_http_requests_total{method=\"GET\",route=\"/pkg/{*path}\",")), "{m}");
        // The histogram: every request in +Inf, the count and a positive sum.
        let h = format!("hub_http_request_duration_seconds_bucket{{method=\"GET\",route=\"{route}\",le=\"+Inf\"}}");
        assert_eq!(value(&m, &h), 5.0);
        assert_eq!(value(&m, &format!("hub_http_request_duration_seconds_count{{method=\"GET\",route=\"{route}\"}}")), 5.0);
        assert!(value(&m, &format!("hub_http_request_duration_seconds_sum{{method=\"GET\",route=\"{route}\"}}")) > 0.0);
        assert!(m.contains("le=\"0.005\""), "the documented buckets: {m}");
        // The scrape itself is counted by the next one.
        assert!(sample(&m, "hub_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}").is_some());
        // Written by the flush, as the writer job or shutdown does it.
        let n = app::core::events::flush(&t.state).await.expect("flush");
        assert_eq!(n, 5);
        let m = scrape(&t).await;
        assert_eq!(value(&m, "hub_pull_events_written_total"), 5.0);
        assert_eq!(value(&m, "hub_pull_events_queued"), 0.0);
        // A full queue drops (and counts) what does not fit.
        let event = app::core::events::PullEvent {
            at: common::T0,
            namespace: app::domain::ids::NamespaceId(1),
            repository: app::domain::ids::RepoId(1),
            source_id: None,
            reference: "1.0".into(),
            tag: Some("1.0".into()),
            digest: digest(b"x"),
            action: app::domain::pulls::Action::PullByTag,
            http_method: "GET",
            country: String::new(),
            host: String::new(),
            user_agent: String::new(),
            ip: None,
            authenticated: false,
        };
        for _ in 0..app::core::events::QUEUE_MAX + 3 {
            t.state.events.push(event.clone());
        }
        let m = scrape(&t).await;
        assert_eq!(value(&m, "hub_pull_events_dropped_total"), 3.0);
        assert_eq!(value(&m, "hub_pull_events_queued"), app::core::events::QUEUE_MAX as f64);
        // The pool: its ceiling, and connections open now.
        let max = match backend { app::db::Backend::Sqlite => 4.0, app::db::Backend::Postgres => 16.0 };
        assert_eq!(value(&m, "hub_db_pool_max_connections"), max);
        let in_use = value(&m, "hub_db_pool_connections{state=\"in_use\"}");
        let idle = value(&m, "hub_db_pool_connections{state=\"idle\"}");
        assert!(in_use >= 0.0 && idle >= 1.0 && in_use + idle <= max, "in use {in_use}, idle {idle}");
        // Events sent to the API: stored, then (a retry) duplicates.
        let mut tx = t.state.db.begin().await.expect("tx");
        let id = app::core::access::load_user(&mut tx, "alice").await.expect("alice");
        tx.commit().await.expect("commit");
        let caller = app::core::caller::Caller::acting_as(app::core::caller::AuthUser {
            id,
            name: "alice".into(),
            is_staff: false,
        });
        let ingest = app::account::api::create_token(&t.state, &caller, "ingest", "ingest", None)
            .await.expect("ingest token").secret;
        let line = |id: &str| format!(
            r#"{{"id":"{id}","timestamp":"{}","namespace":"countorg","repository":"tool","reference":"2.0","tag":"2.0","digest":"{}","action":"pull_by_tag","http_method":"GET","country":"DE","host":"aws","user_agent":"containerd/1.7.22","authenticated":false,"ip":"192.0.2.9"}}"#,
            common::T0.plus_millis(-1000).rfc3339(), digest(b"m"));
        let batch = format!("{}\n{}", line("e1"), line("e2"));
        for want in [(2, 0), (0, 2)] {
            let r = send_from(&t, None, Request::post("/api/v1/events")
                .header(header::AUTHORIZATION, format!("Bearer {ingest}"))
                .header(header::CONTENT_TYPE, "application/x-ndjson"), batch.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!((r.json()["stored"].as_i64(), r.json()["duplicates"].as_i64()), (Some(want.0), Some(want.1)), "{}", r.body);
        }
        let m = scrape(&t).await;
        assert_eq!(value(&m, "hub_ingest_events_total{outcome=\"stored\"}"), 2.0);
        assert_eq!(value(&m, "hub_ingest_events_total{outcome=\"duplicate\"}"), 2.0);
        // Jobs: runs and failures, per job.
        const FAILS: app::core::jobs::Job = app::core::jobs::Job {
            name: "always-fails",
            every: |_| std::time::Duration::from_secs(3600),
            run: |_| Box::pin(async { Err(app::error::AppError::internal()) }),
        };
        let running = app::core::jobs::spawn_all(&[FAILS, app::core::limits::PRUNE], &t.state);
        running.stop().await;
        let m = scrape(&t).await;
        assert_eq!(value(&m, "hub_job_runs_total{job=\"always-fails\"}"), 1.0, "{m}");
        assert_eq!(value(&m, "hub_job_failures_total{job=\"always-fails\"}"), 1.0);
        assert_eq!(value(&m, "hub_job_runs_total{job=\"limiter-prune\"}"), 1.0);
        assert_eq!(value(&m, "hub_job_failures_total{job=\"limiter-prune\"}"), 0.0);
        assert!(m.contains("hub_build_info{version=\""), "{m}");
    }

    async fn readyz_reports_the_database_and_migrations(db: Db) {
        let t = test_app(db.clone());
        let r = t.get("/readyz", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json(), json!({"status": "ready"}));
        // A migration this build has but the database lacks.
        let newest: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&db.pool).await.expect("versions");
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
            .bind(newest).execute(&db.pool).await.expect("forget one");
        let r = t.get("/readyz", None).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.json()["status"], "not ready");
        let reason = r.json()["reason"].as_str().unwrap_or("").to_string();
        assert!(reason.contains(&newest.to_string()) && reason.contains("server migrate"), "{reason}");
        // The process is still alive: liveness does not depend on migrations.
        assert_eq!(t.get("/healthz", None).await.status, StatusCode::OK);
        // The database gone.
        db.pool.close().await;
        let r = t.get("/readyz", None).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.json(), json!({"status": "not ready", "reason": "the database does not answer"}));
    }

    async fn every_answer_has_a_request_id_and_one_json_log_line(db: Db) {
        let logs = Captured::default();
        let sink = logs.clone();
        let sub = server::observe::subscriber(
            server::config::LogFormat::Json,
            "info".into(),
            move || sink.clone(),
            false,
        );
        let _guard = tracing::subscriber::set_default(sub);
        let t = test_app(db);
        // A sane id from the client is kept; a missing or bad one is replaced.
        let r = t.send(Request::get("/healthz").header("x-request-id", "lb-4f2a:17").body(Body::empty()).expect("req")).await;
        assert_eq!(r.headers["x-request-id"], "lb-4f2a:17");
        let mut ids = Vec::new();
        for bad in [None, Some("has spaces in it"), Some("quote\"d")] {
            let mut b = Request::get("/api/v1/namespaces/nobody");
            if let Some(v) = bad {
                b = b.header("x-request-id", v);
            }
            let r = t.send(b.body(Body::empty()).expect("req")).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
            let id = r.headers["x-request-id"].to_str().expect("id").to_string();
            assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3, "fresh ids differ");
        let text = String::from_utf8_lossy(&logs.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
            .filter(|v: &serde_json::Value| v["target"] == "http")
            .collect();
        assert_eq!(lines.len(), 4, "one line per request:\n{text}");
        let first = &lines[0];
        assert_eq!(first["message"], "request");
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["method"], "GET");
        assert_eq!(first["route"], "/healthz");
        assert_eq!(first["status"], 200);
        assert_eq!(first["request_id"], "lb-4f2a:17");
        assert!(first["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{first}");
        assert!(first["timestamp"].is_string());
        for l in &lines[1..] {
            assert_eq!(l["route"], "/api/v1/namespaces/{ns}", "{l}");
            assert_eq!(l["status"], 404);
            assert!(ids.contains(&l["request_id"].as_str().unwrap_or("").to_string()), "{l}");
        }
        // Lines logged while handling a request carry its id in their span.
        let inner = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["target"] != "http")
            .all(|v| v.get("span").is_none_or(|s| s["name"] == "request" && s["request_id"].is_string()));
        assert!(inner, "{text}");
    }
}

#[test]
fn operator_settings_are_checked_and_name_their_variable() {
    use clap::Parser;
    let config = |args: &[&str]| {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        server::cli::Cli::parse_from(all).config
    };
    let e = config(&["--metrics-token", "short"])
        .settings()
        .expect_err("too short");
    assert!(e.contains("HUB_METRICS_TOKEN"), "{e}");
    let e = config(&["--metrics-token", "has spaces in the middle of it"])
        .settings()
        .expect_err("spaces");
    assert!(e.contains("without spaces"), "{e}");
    let s = config(&["--metrics-token", "   "])
        .settings()
        .expect("blank");
    assert_eq!(s.metrics_token_sha256, None, "blank means unset");
    let s = config(&["--metrics-token", "a-metrics-token-of-32-characters"])
        .settings()
        .expect("token");
    assert_eq!(
        s.metrics_token_sha256,
        Some(app::core::metrics::token_digest(
            "a-metrics-token-of-32-characters"
        ))
    );
    let e = config(&["--shutdown-timeout-secs", "3601"])
        .shutdown_timeout()
        .expect_err("too long");
    assert!(e.contains("HUB_SHUTDOWN_TIMEOUT_SECS"), "{e}");
    assert_eq!(
        config(&[]).shutdown_timeout(),
        Ok(std::time::Duration::from_secs(20))
    );
    assert_eq!(
        config(&["--log-format", "json"]).log_format,
        server::config::LogFormat::Json
    );
    assert!(server::cli::Cli::try_parse_from(["server", "--log-format", "xml"]).is_err());
}
