//! `server backup --to FILE`: a copy of a live SQLite database, taken while
//! requests write, restores into a fresh data directory that serves the same
//! data; existing files, missing directories and PostgreSQL are refused with
//! a message that says what to do.

mod common;

use app::domain::clock::ManualClock;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use common::{Resp, T0, TestApp, user_with_token};
use serde_json::json;
use sha2::Digest as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn digest(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

const CONFIG: &[u8] = br#"{"architecture":"arm64","os":"linux"}"#;
const LAYER: &[u8] = b"the layer that must survive a restore";

/// A command line for the hub in `dir` (explicit flags, so the test
/// environment's variables cannot point it elsewhere), then `args`.
fn cli(dir: &Path, args: &[&str]) -> server::cli::Cli {
    let url = app::db::sqlite_url(&dir.join("hub.db"));
    let mut all = vec![
        "server".to_string(),
        "--data-dir".into(),
        dir.display().to_string(),
        "--database-url".into(),
        url,
        "--redis-url".into(),
        String::new(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    server::cli::Cli::parse_from(all)
}

/// The hub as `server serve` builds it for `dir`, driven in-process.
async fn hub(dir: &Path) -> TestApp {
    let state = server::cli::serve_state(&cli(dir, &["serve"]).config)
        .await
        .expect("state");
    TestApp {
        blob_dir: tempfile::tempdir().expect("unused"),
        router: server::router(state.clone()),
        state,
        clock: Arc::new(ManualClock::new(T0)),
    }
}

async fn send(t: &TestApp, b: axum::http::request::Builder, body: impl Into<Body>) -> Resp {
    t.send(b.body(body.into()).expect("request")).await
}

async fn push(t: &TestApp, token: &str, repo: &str, tag: &str) -> String {
    for blob in [CONFIG, LAYER] {
        let r = send(
            t,
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
    let r = send(
        t,
        Request::put(format!("/v2/{repo}/manifests/{tag}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(
                header::CONTENT_TYPE,
                "application/vnd.oci.image.manifest.v1+json",
            ),
        m.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "manifest: {}", r.body);
    digest(m.as_bytes())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// What the restored hub must answer the same.
async fn snapshot(t: &TestApp, token: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/namespaces/backuporg",
        "/api/v1/repositories/backuporg/app",
        "/api/v1/repositories/backuporg/secret",
        "/v2/backuporg/app/tags/list",
    ] {
        let r = t.get(path, Some(token)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let mut v = r.json();
        // The time of the answer is not data.
        if let Some(o) = v.as_object_mut() {
            o.remove("now");
        }
        out.push((path.to_string(), v.to_string()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_live_sqlite_hub_restores_into_a_fresh_data_directory() {
    let live_dir = tempfile::tempdir().expect("dir");
    let live = hub(live_dir.path()).await;
    let alice = user_with_token(&live, "alice", false).await;
    let r = live
        .json(
            "POST",
            "/api/v1/orgs",
            Some(&alice),
            json!({"name": "backuporg"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let manifest = push(&live, &alice, "backuporg/app", "1.0").await;
    let b = json!({"namespace": "backuporg", "name": "secret", "is_private": true});
    let r = live
        .json("POST", "/api/v1/repositories", Some(&alice), b)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = live
        .json(
            "PUT",
            "/api/v1/repositories/backuporg/app/overview",
            Some(&alice),
            json!({"overview": "# Kept\n\nThrough a backup."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Pulls, written (the repository's pull count is in the copy).
    for _ in 0..3 {
        let r = live.get("/v2/backuporg/app/manifests/1.0", None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    app::core::events::flush(&live.state).await.expect("flush");
    let before = snapshot(&live, &alice).await;
    assert!(before[1].1.contains("\"pull_count\":3"), "{}", before[1].1);

    // The backup runs while another client keeps tagging (one tag at a time,
    // in alice's own namespace).
    let r = live
        .json(
            "POST",
            "/api/v1/repositories",
            Some(&alice),
            json!({"namespace": "alice", "name": "busy"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let stop = Arc::new(AtomicBool::new(false));
    let tagged = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (router, stop, tagged, alice) = (
            live.router.clone(),
            stop.clone(),
            tagged.clone(),
            alice.clone(),
        );
        tokio::spawn(async move {
            use tower::ServiceExt;
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) && i < 900 {
                let req = Request::put(format!("/api/v1/repositories/alice/busy/tags/t{i}"))
                    .header(header::AUTHORIZATION, format!("Bearer {alice}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(json!({"digest": manifest_digest()}).to_string()))
                    .expect("req");
                let res = router.clone().oneshot(req).await.expect("infallible");
                assert!(res.status().is_success(), "tag {i}: {}", res.status());
                i += 1;
                tagged.store(i, Ordering::SeqCst);
            }
        })
    };
    while tagged.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let backups = tempfile::tempdir().expect("dir");
    let file = backups.path().join("hub-backup.db");
    let file_arg = file.display().to_string();
    server::cli::run(cli(live_dir.path(), &["backup", "--to", &file_arg]))
        .await
        .expect("backup");
    stop.store(true, Ordering::SeqCst);
    writer.await.expect("writer");
    let written = tagged.load(Ordering::SeqCst);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("copy").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only: it holds password hashes");
    }

    // A second backup to the same file is refused, and leaves it alone.
    let size = std::fs::metadata(&file).expect("copy").len();
    let e = server::cli::run(cli(live_dir.path(), &["backup", "--to", &file_arg]))
        .await
        .expect_err("exists");
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(std::fs::metadata(&file).expect("copy").len(), size);
    let nowhere = backups
        .path()
        .join("no/such/dir/x.db")
        .display()
        .to_string();
    let e = server::cli::run(cli(live_dir.path(), &["backup", "--to", &nowhere]))
        .await
        .expect_err("no dir");
    assert!(e.contains("does not exist"), "{e}");
    let empty = tempfile::tempdir().expect("dir");
    let other = backups.path().join("other.db").display().to_string();
    let e = server::cli::run(cli(empty.path(), &["backup", "--to", &other]))
        .await
        .expect_err("no database");
    assert!(e.contains("there is no database"), "{e}");
    assert!(
        !empty.path().join("hub.db").exists(),
        "no empty database created"
    );

    // Restore: the copy as hub.db in a fresh data directory, blobs beside it.
    let fresh_dir = tempfile::tempdir().expect("dir");
    std::fs::copy(&file, fresh_dir.path().join("hub.db")).expect("restore db");
    copy_dir(
        &live_dir.path().join("blobs"),
        &fresh_dir.path().join("blobs"),
    );
    let restored = hub(fresh_dir.path()).await;
    let r = restored.get("/readyz", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        snapshot(&restored, &alice).await,
        before,
        "the restored hub serves the same data (the token too)"
    );
    let r = restored.get("/v2/backuporg/app/manifests/1.0", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers["docker-content-digest"], manifest.as_str());
    let r = restored
        .get(&format!("/v2/backuporg/app/blobs/{}", digest(LAYER)), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_bytes(), LAYER);
    // Consistent: the busy repository's tags are exactly the first k written
    // (a prefix: no later tag without an earlier one), k at least the 5 seen.
    let mut tags: Vec<String> = Vec::new();
    let r = restored
        .get("/v2/alice/busy/tags/list?n=1000", Some(&alice))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for t in r.json()["tags"].as_array().into_iter().flatten() {
        tags.push(t.as_str().unwrap_or("").to_string());
    }
    let k = tags.len();
    assert!(k >= 5 && k <= written, "{k} of {written}");
    let mut want: Vec<String> = (0..k).map(|i| format!("t{i}")).collect();
    want.sort();
    tags.sort();
    assert_eq!(tags, want);
    // The restored hub is a working hub.
    let r = restored
        .json(
            "PUT",
            "/api/v1/repositories/backuporg/app/tags/after-restore",
            Some(&alice),
            json!({"digest": manifest}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    live.state.db.pool.close().await;
    restored.state.db.pool.close().await;
}

/// The digest the busy writer tags (any well-formed digest will do).
fn manifest_digest() -> String {
    digest(b"busy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_postgresql_hub_points_to_pg_dump() {
    // The PostgreSQL test server with a password in its URL: the message
    // must not repeat it.
    let t = app::testing::TestDb::new(app::db::Backend::Postgres).await;
    let with_password = t.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:pw-not-shown@",
        1,
    );
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("pg.db").display().to_string();
    let cli = server::cli::Cli::parse_from([
        "server",
        "--data-dir",
        &dir.path().display().to_string(),
        "--database-url",
        &with_password,
        "backup",
        "--to",
        &file,
    ]);
    let e = server::cli::run(cli).await.expect_err("refused");
    assert!(e.contains("pg_dump --format=custom"), "{e}");
    assert!(e.contains("blobs"), "names the blob directory: {e}");
    assert!(!e.contains("pw-not-shown"), "{e}");
    assert!(!Path::new(&file).exists());
    t.cleanup().await;
}
