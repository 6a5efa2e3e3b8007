//! Graceful shutdown of the real server binary, on SQLite and PostgreSQL:
//! after SIGTERM it stops accepting connections, lets an in-flight upload
//! finish, gives a stalled request only `HUB_SHUTDOWN_TIMEOUT_SECS`, writes
//! every queued pull event, closes the pool and exits 0. Also: `/metrics`
//! over a real loopback socket, and JSON logs from the binary.

mod common;

use app::domain::clock::ManualClock;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use common::{T0, TestApp, user_with_token};
use sha2::Digest as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Seconds the binary gives in-flight requests after SIGTERM.
const GRACE_SECS: u64 = 3;
/// Manifest GETs whose events must be stored.
const PULLS: usize = 7;

fn digest(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

const CONFIG: &[u8] = br#"{"architecture":"amd64","os":"linux"}"#;
const LAYER: &[u8] = b"a layer pulled just before shutdown";

/// One HTTP/1.1 exchange over a fresh connection; the status and body.
async fn http(port: u16, head: &str) -> (u16, String) {
    let go = async {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.write_all(head.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        out
    };
    let out = tokio::time::timeout(Duration::from_secs(20), go)
        .await
        .unwrap_or_else(|_| panic!("no answer to {head}"));
    parse(&out)
}

fn parse(out: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
}

/// Opens a monolithic blob upload of `blob` and sends only its first `sent` bytes.
async fn start_upload(port: u16, token: &str, blob: &[u8], sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let head = format!(
        "POST /v2/alice/web/blobs/uploads/?digest={} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        digest(blob),
        blob.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&blob[..sent]).await.expect("part");
    s.flush().await.expect("flush");
    s
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The image to pull, pushed in-process into the database and blob
/// directory the binary will use; returns alice's token.
async fn prepare(url: &str, data: &std::path::Path) -> String {
    let cli = server::cli::Cli::parse_from([
        "server",
        "--data-dir",
        &data.display().to_string(),
        "--database-url",
        url,
        "--redis-url",
        "",
    ]);
    let state = server::cli::serve_state(&cli.config).await.expect("state");
    let t = TestApp {
        blob_dir: tempfile::tempdir().expect("unused"),
        router: server::router(state.clone()),
        state: state.clone(),
        clock: Arc::new(ManualClock::new(T0)),
    };
    let token = user_with_token(&t, "alice", false).await;
    for blob in [CONFIG, LAYER] {
        let r = t
            .send(
                Request::post(format!(
                    "/v2/alice/web/blobs/uploads/?digest={}",
                    digest(blob)
                ))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(blob.to_vec()))
                .expect("req"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
        digest(CONFIG),
        CONFIG.len(),
        digest(LAYER),
        LAYER.len()
    );
    let r = t
        .send(
            Request::put("/v2/alice/web/manifests/1.0")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(
                    header::CONTENT_TYPE,
                    "application/vnd.oci.image.manifest.v1+json",
                )
                .body(Body::from(m))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    state.db.pool.close().await;
    token
}

/// The whole run against the database at `url` (`db` is a pool on it).
async fn shutdown_case(db: &app::db::Db, url: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let token = prepare(url, &data).await;
    let port = free_port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("HUB_ADDR", format!("127.0.0.1:{port}"))
        .env("HUB_DATA_DIR", &data)
        .env("DATABASE_URL", url)
        .env("HUB_SHUTDOWN_TIMEOUT_SECS", GRACE_SECS.to_string())
        .env("HUB_LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn")
        .env_remove("HUB_REDIS_URL")
        .env_remove("HUB_METRICS_TOKEN")
        .env_remove("HUB_DEMO")
        .env_remove("HUB_PUBLIC_URL")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start the server binary");
    let pid = child.id().expect("pid");
    let logs = || std::fs::read_to_string(&log_path).unwrap_or_default();
    // Ready within 60 s.
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited ({status}):\n{}", logs());
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
            let _ = s.write_all(get("/readyz").as_bytes()).await;
            let mut out = Vec::new();
            if tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
                .await
                .is_ok()
                && out.starts_with(b"HTTP/1.1 200")
            {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not ready:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Pulls: their events are queued (some may be written already).
    for _ in 0..PULLS {
        let (status, body) = http(port, &get("/v2/alice/web/manifests/1.0")).await;
        assert_eq!(status, 200, "{body}");
    }
    // The metrics over a real loopback connection.
    let (status, body) = http(port, &get("/metrics")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(
            "hub_registry_pulls_total{{action=\"pull_by_tag\"}} {PULLS}"
        )),
        "{body}"
    );
    // Two uploads in flight: one will finish, one stalls.
    let finishing: &[u8] = b"an upload that finishes during shutdown";
    let stalled: &[u8] = b"an upload whose client stops sending";
    let mut a = start_upload(port, &token, finishing, 10).await;
    let _b = start_upload(port, &token, stalled, 10).await;
    // Time for the server to read both heads and start the handlers.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let signalled = Instant::now();
    // New connections are refused once the signal is handled.
    loop {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            break;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(GRACE_SECS),
            "still accepting:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The in-flight upload completes.
    a.write_all(&finishing[10..])
        .await
        .expect("rest of the body");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), a.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .expect("read");
    let (status, body) = parse(&out);
    assert_eq!(status, 201, "{body}");
    // The stalled one holds the server only until the timeout.
    let status = tokio::time::timeout(Duration::from_secs(GRACE_SECS + 30), child.wait())
        .await
        .unwrap_or_else(|_| panic!("no exit after SIGTERM:\n{}", logs()))
        .expect("wait");
    let took = signalled.elapsed();
    let text = logs();
    assert!(status.success(), "exit {status}:\n{text}");
    assert!(
        took >= Duration::from_secs(GRACE_SECS) - Duration::from_millis(500),
        "waited for the stalled request: {took:?}"
    );
    for line in [
        "shutdown signal received",
        "requests still in flight after the shutdown timeout",
        "pull events flushed",
        "database pool closed",
        "shut down cleanly",
    ] {
        assert!(text.contains(line), "log lacks “{line}”:\n{text}");
    }
    // JSON lines, one per request, with the matched route.
    let requests = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "http" && v["route"] == "/v2/{ns}/{repo}/manifests/{reference}")
        .count();
    assert_eq!(requests, PULLS, "{text}");
    // Every pull's event is stored, once; the finished upload's blob too.
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pull_events")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(events, PULLS as i64, "{text}");
    let pulls: i64 = sqlx::query_scalar("SELECT pull_count FROM repositories WHERE name = 'web'")
        .fetch_one(&db.pool)
        .await
        .expect("pull count");
    assert_eq!(pulls, PULLS as i64);
    let blobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM registry_blobs WHERE digest = $1")
        .bind(digest(finishing))
        .fetch_one(&db.pool)
        .await
        .expect("blob");
    assert_eq!(blobs, 1);
}

/// One test per backend, each on a fresh database.
mod sigterm_finishes_in_flight_requests_flushes_pull_events_and_exits_0 {
    use app::db::Backend;
    use app::testing::TestDb;

    async fn on(backend: Backend) {
        let t = TestDb::new(backend).await;
        super::shutdown_case(&t.db, &t.url).await;
        t.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        on(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        on(Backend::Postgres).await;
    }
}
