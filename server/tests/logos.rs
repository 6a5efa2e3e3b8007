//! Logos through the router on SQLite and PostgreSQL: every fixture, rights,
//! the perk window, the fallback chain, storage and serving headers.

mod common;

use app::domain::Timestamp;
use app::domain::clock::DAY_MS;
use app::logo::fixtures::{self, Expect};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{T0, TestApp, test_app};
use serde_json::json;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn user(t: &TestApp, name: &str, staff: bool) -> String {
    common::user_with_token(t, name, staff).await
}

/// alice owns the sponsored org fluentorg (repo fluent-bit); bobby has write on it.
async fn setup(t: &TestApp) -> (String, String, String) {
    let alice = user(t, "alice", false).await;
    let bobby = user(t, "bobby", false).await;
    let staff = user(t, "reviewer", true).await;
    t.json(
        "POST",
        "/api/v1/orgs",
        Some(&alice),
        json!({"name": "fluentorg"}),
    )
    .await;
    t.json(
        "POST",
        "/api/v1/repositories",
        Some(&alice),
        json!({"namespace": "fluentorg", "name": "fluent-bit"}),
    )
    .await;
    t.json(
        "PUT",
        "/api/v1/repositories/fluentorg/fluent-bit/tags/1.0",
        Some(&alice),
        json!({"digest": DIGEST}),
    )
    .await;
    t.json(
        "POST",
        "/api/v1/orgs/fluentorg/teams",
        Some(&alice),
        json!({"name": "writers"}),
    )
    .await;
    t.json(
        "PUT",
        "/api/v1/orgs/fluentorg/teams/writers/members/bobby",
        Some(&alice),
        json!({}),
    )
    .await;
    t.json(
        "PUT",
        "/api/v1/orgs/fluentorg/teams/writers/repositories/fluent-bit",
        Some(&alice),
        json!({"rights": "write"}),
    )
    .await;
    let r = t.json("POST", "/api/v1/namespaces/fluentorg/program/applications", Some(&alice), json!({
        "project_name": "Fluent Bit", "website": "https://fluentbit.io", "source_url": "https://github.com/fluent/fluent-bit",
        "license": "Apache-2.0", "description": "Logs and metrics processor", "attest_public": true, "attest_osd": true, "attest_noncommercial": true
    })).await;
    let id = r.json()["id"].as_i64().expect("application");
    let r = t
        .json(
            "POST",
            &format!("/api/v1/program/applications/{id}/approve"),
            Some(&staff),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    (alice, bobby, staff)
}

async fn put_raw(
    t: &TestApp,
    path: &str,
    auth: Option<&str>,
    bytes: Vec<u8>,
    content_type: &str,
) -> common::Resp {
    let mut b = Request::put(path).header("content-type", content_type);
    if let Some(a) = auth {
        b = b.header("authorization", format!("Bearer {a}"));
    }
    t.send(b.body(Body::from(bytes)).expect("req")).await
}

async fn stored_logo(t: &TestApp) -> Option<String> {
    let (l,): (Option<String>,) =
        sqlx::query_as("SELECT logo FROM repositories WHERE name = 'fluent-bit'")
            .fetch_one(&t.state.db.pool)
            .await
            .expect("q");
    l
}

fn blob_files(t: &TestApp) -> usize {
    let dir = t.blob_dir.path().join("logos");
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

const REPO_LOGO: &str = "/api/v1/repositories/fluentorg/fluent-bit/logo";

app::both_backends! {
    async fn every_fixture_through_rest(db: Db) {
        let t = test_app(db);
        let (alice, _, _) = setup(&t).await;
        for f in fixtures::all() {
            let before = stored_logo(&t).await;
            // The declared Content-Type is ignored: everything claims PNG.
            let r = put_raw(&t, REPO_LOGO, Some(&alice), f.bytes.clone(), "image/png").await;
            match f.expect {
                Expect::Accept => {
                    assert_eq!(r.status, StatusCode::OK, "{}: {}", f.name, r.body);
                    assert!(r.json()["logo_url"].as_str().is_some_and(|u| u.contains("/logos/")));
                }
                Expect::Header(code) | Expect::Server(code) => {
                    let want = match code { "empty" => 400, "too_many_bytes" => 413, "unsupported_type" => 415, _ => 422 };
                    assert_eq!(r.status.as_u16(), want, "{}: {}", f.name, r.body);
                    assert_eq!(r.json()["error"]["details"]["rule"], code, "{}", f.name);
                    assert!(!r.json()["error"]["message"].as_str().unwrap_or("").is_empty());
                    assert_eq!(stored_logo(&t).await, before, "{}: nothing stored", f.name);
                }
            }
        }
    }

    async fn served_bytes_are_clean_and_immutable(db: Db) {
        let t = test_app(db);
        let (alice, _, _) = setup(&t).await;
        let f = fixtures::all().into_iter().find(|f| f.file_name == "text-chunk.png").expect("fixture");
        let r = put_raw(&t, REPO_LOGO, Some(&alice), f.bytes.clone(), "application/octet-stream").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let url = r.json()["logo_url"].as_str().unwrap_or("").to_string();
        let path = &url[url.find("/logos/").expect("path")..];
        let served = t.get(path, None).await;
        assert_eq!(served.status, StatusCode::OK);
        assert_eq!(served.headers["content-type"], "image/png");
        assert_eq!(served.headers["x-content-type-options"], "nosniff");
        assert_eq!(served.headers["content-security-policy"], "default-src 'none'");
        assert_eq!(served.headers["cache-control"], "public, max-age=31536000, immutable");
        let etag = served.headers["etag"].to_str().unwrap_or("").to_string();
        assert!(!served.body.contains("text-chunk") && !served.body.contains("trailing") && !served.body.contains("<script"));
        let again = t.send(Request::get(path).header("if-none-match", &etag).body(Body::empty()).expect("req")).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        // Variants exist for lists.
        let small = path.replace(".png", "-64.png");
        assert_eq!(t.get(&small, None).await.status, StatusCode::OK);
        // Identical uploads share one stored file (3 files: full, 128, 64).
        let files = blob_files(&t);
        assert_eq!(files, 3);
        let r = put_raw(&t, REPO_LOGO, Some(&alice), f.bytes.clone(), "image/png").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(blob_files(&t), files);
        // Unknown or malformed names are 404, never a path outside the store.
        for bad in ["/logos/../../etc/passwd", "/logos/abc.png", &format!("/logos/{}.svg", "a".repeat(64))] {
            assert_eq!(t.get(bad, None).await.status, StatusCode::NOT_FOUND, "{bad}");
        }
    }

    async fn who_may_change_logos(db: Db) {
        let t = test_app(db);
        let (alice, bobby, _) = setup(&t).await;
        let carol = user(&t, "carol", false).await;
        let png = fixtures::png(200, 200);
        // anonymous, write-only member, outsider
        assert_eq!(put_raw(&t, REPO_LOGO, None, png.clone(), "image/png").await.status, StatusCode::UNAUTHORIZED);
        let r = put_raw(&t, REPO_LOGO, Some(&bobby), png.clone(), "image/png").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(put_raw(&t, REPO_LOGO, Some(&carol), png.clone(), "image/png").await.status, StatusCode::FORBIDDEN);
        assert_eq!(put_raw(&t, "/api/v1/namespaces/fluentorg/logo", Some(&bobby), png.clone(), "image/png").await.status, StatusCode::FORBIDDEN);
        // A repository of another namespace, and an unknown one.
        t.json("POST", "/api/v1/orgs", Some(&carol), json!({"name": "carolorg"})).await;
        t.json("POST", "/api/v1/repositories", Some(&carol), json!({"namespace": "carolorg", "name": "web"})).await;
        assert_eq!(put_raw(&t, "/api/v1/repositories/carolorg/web/logo", Some(&alice), png.clone(), "image/png").await.status, StatusCode::FORBIDDEN);
        assert_eq!(put_raw(&t, "/api/v1/repositories/fluentorg/nope/logo", Some(&alice), png.clone(), "image/png").await.status, StatusCode::NOT_FOUND);
        // carolorg is not sponsored: its owner cannot set repository logos (a perk)…
        let r = put_raw(&t, "/api/v1/repositories/carolorg/web/logo", Some(&carol), png.clone(), "image/png").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("perk"), "{}", r.body);
        // …but organization logos are for everyone.
        let r = put_raw(&t, "/api/v1/namespaces/carolorg/logo", Some(&carol), png.clone(), "image/png").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(stored_logo(&t).await, None);
        // An admin team member may.
        t.json("PUT", "/api/v1/orgs/fluentorg/teams/writers/repositories/fluent-bit", Some(&alice), json!({"rights": "admin"})).await;
        assert_eq!(put_raw(&t, REPO_LOGO, Some(&bobby), png, "image/png").await.status, StatusCode::OK);
    }

    async fn fallback_chain_and_perk_window(db: Db) {
        let t = test_app(db);
        let (alice, _, staff) = setup(&t).await;
        let logo_url = |r: &common::Resp| r.json()["logo_url"].as_str().unwrap_or("").to_string();
        let repo = "/api/v1/repositories/fluentorg/fluent-bit";
        assert!(logo_url(&t.get(repo, None).await).ends_with("/default-logo.svg"));
        let org = put_raw(&t, "/api/v1/namespaces/fluentorg/logo", Some(&alice), fixtures::png(300, 300), "image/png").await;
        let org_url = logo_url(&org);
        assert_eq!(logo_url(&t.get(repo, None).await), org_url, "falls back to the organization logo");
        let own = put_raw(&t, REPO_LOGO, Some(&alice), fixtures::jpeg(200, 200), "image/png").await;
        let own_url = logo_url(&own);
        assert!(own_url.ends_with(".jpg"), "JPEG stays JPEG: {own_url}");
        assert_eq!(logo_url(&t.get(repo, None).await), own_url);
        // Expired membership: stored but not shown, and cannot be changed.
        t.clock.set(T0.plus_years(1).plus_days(15));
        assert_eq!(logo_url(&t.get(repo, None).await), org_url);
        assert!(stored_logo(&t).await.is_some());
        assert_eq!(put_raw(&t, REPO_LOGO, Some(&alice), fixtures::png(200, 200), "image/png").await.status, StatusCode::FORBIDDEN);
        let r = t.send(Request::delete(REPO_LOGO).header("authorization", format!("Bearer {alice}")).body(Body::empty()).expect("req")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Re-apply, approve: it shows again.
        t.json("PUT", "/api/v1/repositories/fluentorg/fluent-bit/tags/2.0", Some(&alice), json!({"digest": DIGEST})).await;
        let r = t.json("POST", "/api/v1/namespaces/fluentorg/program/applications", Some(&alice), json!({
            "project_name": "Fluent Bit", "website": "https://fluentbit.io", "source_url": "https://github.com/fluent/fluent-bit",
            "license": "Apache-2.0", "description": "Logs and metrics processor", "attest_public": true, "attest_osd": true, "attest_noncommercial": true
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.json()["id"].as_i64().expect("id");
        t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;
        assert_eq!(logo_url(&t.get(repo, None).await), own_url, "shown again after renewal");
        // Clear: back to the organization logo at once; then the cube.
        let r = t.send(Request::delete(REPO_LOGO).header("authorization", format!("Bearer {alice}")).body(Body::empty()).expect("req")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(logo_url(&r), org_url);
        let r = t.send(Request::delete(REPO_LOGO).header("authorization", format!("Bearer {alice}")).body(Body::empty()).expect("req")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "nothing left to clear");
        let r = t.send(Request::delete("/api/v1/namespaces/fluentorg/logo").header("authorization", format!("Bearer {alice}")).body(Body::empty()).expect("req")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(logo_url(&t.get(repo, None).await).ends_with("/default-logo.svg"));
        // Every set and clear is in the audit log with old and new names.
        let r = t.server_fn("audit_log", Some(&alice), &[("namespace", "fluentorg")]).await;
        let log = r.json();
        let entries: Vec<&serde_json::Value> = log.as_array().into_iter().flatten()
            .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("logo_"))).collect();
        assert_eq!(entries.len(), 4, "{}", r.body);
        assert!(entries.iter().any(|e| e["detail"].as_str().is_some_and(|d| d.contains("→ none"))));
        let _ = Timestamp(DAY_MS);
    }

    async fn multipart_upload_server_function(db: Db) {
        let t = test_app(db);
        let (alice, bobby, _) = setup(&t).await;
        let multipart = |fields: &[(&str, &[u8])]| {
            let mut body = Vec::new();
            for (name, value) in fields {
                body.extend_from_slice(b"--XBOUNDARY\r\n");
                if *name == "file" {
                    body.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"logo.gif\"\r\nContent-Type: image/gif\r\n\r\n");
                } else {
                    body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes());
                }
                body.extend_from_slice(value);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"--XBOUNDARY--\r\n");
            body
        };
        let send = |auth: Option<String>, body: Vec<u8>| {
            let mut b = Request::post("/api/upload_logo")
                .header("content-type", "multipart/form-data; boundary=XBOUNDARY")
                .header("accept", "application/json");
            if let Some(a) = auth {
                b = b.header("authorization", format!("Bearer {a}"));
            }
            t.send(b.body(Body::from(body)).expect("req"))
        };
        let png = fixtures::png(150, 150);
        let r = send(Some(alice.clone()), multipart(&[("namespace", b"fluentorg"), ("repository", b"fluent-bit"), ("file", &png)])).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["source"], "repository");
        let r = send(None, multipart(&[("namespace", b"fluentorg"), ("repository", b"fluent-bit"), ("file", &png)])).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = send(Some(bobby), multipart(&[("namespace", b"fluentorg"), ("repository", b"fluent-bit"), ("file", &png)])).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = send(Some(alice.clone()), multipart(&[("file", &png), ("namespace", b"fluentorg")])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "fields out of order: {}", r.body);
        let big = vec![7u8; 6 * 1024 * 1024];
        let r = send(Some(alice.clone()), multipart(&[("namespace", b"fluentorg"), ("repository", b"fluent-bit"), ("file", &big)])).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        let gif = fixtures::all().into_iter().find(|f| f.file_name == "gif.png").expect("gif").bytes;
        let r = send(Some(alice.clone()), multipart(&[("namespace", b"fluentorg"), ("repository", b""), ("file", &gif)])).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
        // REST with a declared Content-Length over the limit: refused before reading.
        let r = t.send(Request::put(REPO_LOGO).header("authorization", format!("Bearer {alice}"))
            .header("content-length", "9000000").body(Body::from(vec![0u8; 16])).expect("req")).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        // Clear through the server function.
        let r = t.server_fn("clear_logo", Some(&alice), &[("namespace", "fluentorg"), ("repository", "fluent-bit")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["source"], "default");
    }

    async fn unused_logo_files_are_collected(db: Db) {
        let t = test_app(db);
        let (alice, _, _) = setup(&t).await;
        let first = put_raw(&t, REPO_LOGO, Some(&alice), fixtures::png(200, 200), "image/png").await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(blob_files(&t), 3, "full size, 128 px, 64 px");
        // Within the grace period nothing goes, even unreferenced.
        let second = put_raw(&t, REPO_LOGO, Some(&alice), fixtures::jpeg(300, 300), "image/jpeg").await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        assert_eq!(app::logo::jobs::collect(&t.state, app::logo::jobs::GRACE).await.expect("gc"), 0);
        assert_eq!(blob_files(&t), 6);
        // Past it, the replaced logo's three files go; the shown one stays and serves.
        assert_eq!(app::logo::jobs::collect(&t.state, std::time::Duration::ZERO).await.expect("gc"), 3);
        assert_eq!(blob_files(&t), 3);
        let url = second.json()["logo_url"].as_str().unwrap_or("").to_string();
        let path = url.split("/logos/").nth(1).map(|f| format!("/logos/{f}")).unwrap_or_default();
        assert_eq!(t.get(&path, None).await.status, StatusCode::OK, "{path}");
        // A rerun does nothing.
        assert_eq!(app::logo::jobs::collect(&t.state, std::time::Duration::ZERO).await.expect("gc"), 0);
    }
}
