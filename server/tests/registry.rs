//! The registry through the router, on SQLite and PostgreSQL: push (chunked),
//! pull by tag and digest, tags, the token flow, Docker Hub's pull limits with
//! their headers, the sponsored exemption, and bad input with the spec's codes.

mod common;

use app::domain::Timestamp;
use app::domain::clock::Clock;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use common::{Resp, TestApp, test_app, user_with_token};
use serde_json::json;
use sha2::Digest as _;
use std::net::{IpAddr, SocketAddr};

fn digest(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

const CONFIG: &[u8] = br#"{"architecture":"amd64","os":"linux"}"#;
const LAYER: &[u8] = b"pretend this is a gzipped tar of a small layer";

fn manifest() -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}}"#,
        digest(CONFIG),
        CONFIG.len(),
        digest(LAYER),
        LAYER.len()
    )
}

struct Call<'a> {
    method: &'a str,
    path: String,
    auth: Option<String>,
    ip: Option<IpAddr>,
    headers: Vec<(&'a str, String)>,
    body: Vec<u8>,
}

impl<'a> Call<'a> {
    fn new(method: &'a str, path: impl Into<String>) -> Self {
        Call {
            method,
            path: path.into(),
            auth: None,
            ip: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    fn token(mut self, t: &str) -> Self {
        self.auth = Some(format!("Bearer {t}"));
        self
    }
    fn from(mut self, ip: &str) -> Self {
        self.ip = ip.parse().ok();
        self
    }
    fn header(mut self, k: &'a str, v: impl Into<String>) -> Self {
        self.headers.push((k, v.into()));
        self
    }
    fn body(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = b.into();
        self
    }
    async fn send(self, t: &TestApp) -> Resp {
        let mut b = Request::builder().method(self.method).uri(&self.path);
        if let Some(a) = &self.auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        for (k, v) in &self.headers {
            b = b.header(*k, v);
        }
        let mut req = b.body(Body::from(self.body)).expect("request");
        if let Some(ip) = self.ip {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 50000)));
        }
        t.send(req).await
    }
}

fn code(r: &Resp) -> String {
    r.json()["errors"][0]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Pushes the test image to `repo` as `tag` (chunked layer upload); returns
/// the manifest digest.
async fn push(t: &TestApp, token: &str, repo: &str, tag: &str) -> String {
    // Config: monolithic.
    let r = Call::new(
        "POST",
        format!("/v2/{repo}/blobs/uploads/?digest={}", digest(CONFIG)),
    )
    .token(token)
    .body(CONFIG)
    .send(t)
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "config: {}", r.body);
    // Layer: POST, two PATCHes, PUT.
    let r = Call::new("POST", format!("/v2/{repo}/blobs/uploads/"))
        .token(token)
        .send(t)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let loc = r.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let (a, b) = LAYER.split_at(10);
    let r = Call::new("PATCH", loc.clone())
        .token(token)
        .header("content-range", format!("0-{}", a.len() - 1))
        .header("content-type", "application/octet-stream")
        .body(a)
        .send(t)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.headers[header::RANGE], format!("0-{}", a.len() - 1));
    let r = Call::new("PATCH", loc.clone())
        .token(token)
        .header("content-range", format!("{}-{}", a.len(), LAYER.len() - 1))
        .body(b)
        .send(t)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let r = Call::new("PUT", format!("{loc}?digest={}", digest(LAYER)))
        .token(token)
        .send(t)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let m = manifest();
    let r = Call::new("PUT", format!("/v2/{repo}/manifests/{tag}"))
        .token(token)
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(m.clone())
        .send(t)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.headers["docker-content-digest"], digest(m.as_bytes()));
    digest(m.as_bytes())
}

/// Docker Hub's limits, headers and the sponsored exemption, on whichever
/// pull-limit store the app uses.
async fn limits_case(t: TestApp) {
    let alice = user_with_token(&t, "alice", false).await;
    push(&t, &alice, "alice/web", "1.0").await;
    let pull = |ip: &'static str, method: &'static str| {
        Call::new(method, "/v2/alice/web/manifests/1.0").from(ip)
    };
    let r = pull("203.0.113.9", "HEAD").send(&t).await;
    assert_eq!(r.headers["ratelimit-limit"], "100;w=21600");
    assert_eq!(
        r.headers["ratelimit-remaining"], "100;w=21600",
        "HEAD does not count"
    );
    assert_eq!(r.headers["docker-ratelimit-source"], "203.0.113.9");
    for i in 0..100 {
        let r = pull("203.0.113.9", "GET").send(&t).await;
        assert_eq!(r.status, StatusCode::OK, "pull {i}");
        assert_eq!(
            r.headers["ratelimit-remaining"],
            format!("{};w=21600", 99 - i)
        );
    }
    let r = pull("203.0.113.9", "GET").send(&t).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&r), "TOOMANYREQUESTS");
    assert!(r.body.contains("Sign in"), "{}", r.body);
    assert_eq!(r.headers[header::RETRY_AFTER], "216");
    assert_eq!(r.headers["ratelimit-remaining"], "0;w=21600");
    assert_eq!(
        pull("203.0.113.9", "HEAD").send(&t).await.status,
        StatusCode::OK,
        "HEAD still answers"
    );
    assert_eq!(
        pull("203.0.113.10", "GET").send(&t).await.status,
        StatusCode::OK,
        "another address"
    );
    // Signed in: 200 per user, counted apart from the address.
    let r = Call::new("GET", "/v2/alice/web/manifests/1.0")
        .from("203.0.113.9")
        .token(&alice)
        .send(&t)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["ratelimit-limit"], "200;w=21600");
    // An IPv6 /64 shares one allowance.
    for i in 0..100 {
        let ip = if i % 2 == 0 {
            "2001:db8:7:7::1"
        } else {
            "2001:db8:7:7:ffff::2"
        };
        assert_eq!(
            Call::new("GET", "/v2/alice/web/manifests/1.0")
                .from(ip)
                .send(&t)
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = pull("2001:db8:7:7:abcd::3", "GET").send(&t).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["docker-ratelimit-source"], "2001:db8:7:7::/64");
    // Six hours later the allowance is back.
    t.clock.set(Timestamp(t.clock.now().0 + 6 * 3600 * 1000));
    let r = pull("203.0.113.9", "GET").send(&t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A sponsored namespace is never limited and says why.
    let staff = user_with_token(&t, "reviewer", true).await;
    let r = t
        .json(
            "POST",
            "/api/v1/orgs",
            Some(&alice),
            json!({"name": "fluentorg"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    push(&t, &alice, "fluentorg/fluent-bit", "1.0").await;
    let form = json!({"project_name": "Fluent", "website": "https://fluent.example.org", "source_url": "https://github.com/f/f",
        "license": "Apache-2.0", "description": "Logs and metrics.", "attest_public": true, "attest_osd": true, "attest_noncommercial": true});
    let r = t
        .json(
            "POST",
            "/api/v1/namespaces/fluentorg/program/applications",
            Some(&alice),
            form,
        )
        .await;
    let id = r.json()["id"].as_i64().expect("id");
    let r = t
        .json(
            "POST",
            &format!("/api/v1/program/applications/{id}/approve"),
            Some(&staff),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for _ in 0..150 {
        let r = Call::new("GET", "/v2/fluentorg/fluent-bit/manifests/1.0")
            .from("198.51.100.4")
            .send(&t)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.headers["ratelimit-policy"],
            "unlimited; reason=\"sponsored-oss\""
        );
        assert!(!r.headers.contains_key("ratelimit-remaining"));
    }
    // …and did not spend the caller's allowance.
    let r = Call::new("HEAD", "/v2/alice/web/manifests/1.0")
        .from("198.51.100.4")
        .send(&t)
        .await;
    assert_eq!(r.headers["ratelimit-remaining"], "100;w=21600");
    // After expiry and grace, limits apply again.
    t.clock
        .set(Timestamp(t.clock.now().0 + (365 + 15) * 24 * 3600 * 1000));
    let r = Call::new("GET", "/v2/fluentorg/fluent-bit/manifests/1.0")
        .from("198.51.100.4")
        .send(&t)
        .await;
    assert_eq!(
        r.headers["ratelimit-limit"], "100;w=21600",
        "{:?}",
        r.headers
    );
}

/// The same app with pull allowances in Redis (127.0.0.1:6379), under a key
/// prefix of its own.
fn with_redis(mut t: TestApp) -> TestApp {
    let prefix = format!("hubtest:{}:{}:", std::process::id(), rand_suffix());
    t.state = t
        .state
        .clone()
        .with_redis_pull_limits("redis://127.0.0.1:6379", &prefix)
        .expect("redis url");
    t.router = server::router(t.state.clone());
    t
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

app::both_backends! {
    async fn push_pull_and_list(db: Db) {
        let t = test_app(db);
        let alice = user_with_token(&t, "alice", false).await;
        // First push creates the repository (public).
        let d = push(&t, &alice, "alice/web", "1.0").await;
        push(&t, &alice, "alice/web", "latest").await;
        for reference in ["1.0", d.as_str()] {
            let r = Call::new("GET", format!("/v2/alice/web/manifests/{reference}")).from("203.0.113.1").send(&t).await;
            assert_eq!(r.status, StatusCode::OK, "{reference}: {}", r.body);
            assert_eq!(r.body, manifest());
            assert_eq!(r.headers[header::CONTENT_TYPE], "application/vnd.oci.image.manifest.v1+json");
            assert_eq!(r.headers["docker-content-digest"], d);
        }
        let r = Call::new("GET", format!("/v2/alice/web/blobs/{}", digest(LAYER))).send(&t).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body.as_bytes(), LAYER);
        let r = Call::new("GET", "/v2/alice/web/tags/list?n=1").send(&t).await;
        assert_eq!(r.json(), json!({"name": "alice/web", "tags": ["1.0"]}));
        assert!(r.headers[header::LINK].to_str().unwrap_or("").contains("last=1.0"), "{:?}", r.headers);
        let r = Call::new("GET", "/v2/alice/web/tags/list?n=5&last=1.0").send(&t).await;
        assert_eq!(r.json()["tags"], json!(["latest"]));
        // The tags show on the repository (REST and page), and pulls were counted (GETs only).
        Call::new("HEAD", "/v2/alice/web/manifests/1.0").send(&t).await;
        let r = t.get("/api/v1/repositories/alice/web", None).await;
        assert_eq!(r.json()["pull_count"], 0, "counted when the events are written");
        assert_eq!(app::core::events::flush(&t.state).await.expect("flush"), 3);
        let r = t.get("/api/v1/repositories/alice/web", None).await;
        assert_eq!(r.json()["tags"].as_array().map(Vec::len), Some(2), "{}", r.body);
        assert_eq!(r.json()["pull_count"], 2, "two GETs, the HEAD not");
        let tags = r.json()["tags"].as_array().cloned().unwrap_or_default();
        let one = tags.iter().find(|t| t["name"] == "1.0").expect("1.0");
        assert_eq!(one["size"], (manifest().len() + CONFIG.len() + LAYER.len()) as i64);
        assert!(one["last_pulled_at"].is_string(), "pulled by tag: {one}");
        let latest = tags.iter().find(|t| t["name"] == "latest").expect("latest");
        assert!(latest["last_pulled_at"].is_null(), "never pulled by that tag");
        assert_eq!(r.json()["pull_host"], "127.0.0.1:3000");
        // Every manifest GET and HEAD became one event, written in a batch.
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT action, http_method, reference, tag FROM pull_events ORDER BY id")
            .fetch_all(&t.state.db.pool).await.expect("events");
        assert_eq!(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["pull_by_tag", "pull_by_digest", "version_check"]);
        assert_eq!(rows[1].2, d);
        assert_eq!(rows[1].3, None);
        assert_eq!(rows[0].3.as_deref(), Some("1.0"));
        assert!(t.state.events.is_empty());
    }

    async fn private_pulls_need_the_token_flow(db: Db) {
        let t = test_app(db);
        let alice = user_with_token(&t, "alice", false).await;
        let r = t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "alice", "name": "secret", "is_private": true})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        push(&t, &alice, "alice/secret", "1.0").await;
        // Anonymous: a 401 challenge naming the token endpoint and the scope.
        let r = Call::new("GET", "/v2/alice/secret/manifests/1.0").send(&t).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&r), "UNAUTHORIZED");
        let ch = r.headers[header::WWW_AUTHENTICATE].to_str().expect("challenge").to_string();
        assert!(ch.starts_with("Bearer realm=\"http://127.0.0.1:3000/token\"") && ch.contains("scope=\"repository:alice/secret:pull\""), "{ch}");
        // Basic with the password → a short-lived token → the pull works.
        let basic = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-password");
        let r = Call::new("GET", "/token?service=hub&scope=repository:alice/secret:pull").header("authorization", format!("Basic {basic}")).send(&t).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let token = r.json()["token"].as_str().expect("token").to_string();
        let r = Call::new("GET", "/v2/alice/secret/manifests/1.0").token(&token).send(&t).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // A wrong password is 401; someone else's token sees no such repository.
        let bad = base64::engine::general_purpose::STANDARD.encode("alice:wrong-password");
        let r = Call::new("GET", "/token").header("authorization", format!("Basic {bad}")).send(&t).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let bob = user_with_token(&t, "bobby", false).await;
        let r = Call::new("GET", "/v2/alice/secret/manifests/1.0").token(&bob).send(&t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(code(&r), "NAME_UNKNOWN");
        // Tokens expire.
        t.clock.set(Timestamp(t.clock.now().0 + 301_000));
        let r = Call::new("GET", "/v2/alice/secret/manifests/1.0").token(&token).send(&t).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    async fn pull_limits_headers_and_the_sponsored_exemption(db: Db) {
        limits_case(test_app(db)).await;
    }

    async fn pull_limits_on_redis(db: Db) {
        limits_case(with_redis(test_app(db))).await;
    }

    async fn housekeeping_removes_stale_uploads_and_orphaned_blobs(db: Db) {
        let t = test_app(db);
        let alice = user_with_token(&t, "alice", false).await;
        push(&t, &alice, "alice/web", "1.0").await;
        let r = Call::new("POST", "/v2/alice/web/blobs/uploads/").token(&alice).send(&t).await;
        let loc = r.headers[header::LOCATION].to_str().expect("loc").to_string();
        Call::new("PATCH", loc.clone()).token(&alice).body("half a layer").send(&t).await;
        // A blob pushed, then unlinked: an orphan once no manifest names it.
        let lone = b"an orphan blob";
        let r = Call::new("POST", format!("/v2/alice/web/blobs/uploads/?digest={}", digest(lone))).token(&alice).body(lone.to_vec()).send(&t).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = Call::new("DELETE", format!("/v2/alice/web/blobs/{}", digest(lone))).token(&alice).send(&t).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        let day = std::time::Duration::from_secs(24 * 3600);
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(app::registry::jobs::collect(&t.state, day, hour).await.expect("gc"), 0, "too young");
        t.clock.set(Timestamp(t.clock.now().0 + 25 * 3600 * 1000));
        assert_eq!(app::registry::jobs::collect(&t.state, day, hour).await.expect("gc"), 2, "the upload and the orphan");
        assert_eq!(app::registry::jobs::collect(&t.state, day, hour).await.expect("gc"), 0, "idempotent");
        let r = Call::new("GET", loc).token(&alice).send(&t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // What the image uses is untouched and still pulls.
        let r = Call::new("GET", format!("/v2/alice/web/blobs/{}", digest(LAYER))).token(&alice).send(&t).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(Call::new("GET", "/v2/alice/web/manifests/1.0").token(&alice).send(&t).await.status, StatusCode::OK);
    }

    async fn deletes_can_be_disabled(db: Db) {
        let mut t = test_app(db);
        let mut settings = (*t.state.settings).clone();
        settings.registry_deletes = false;
        t.state.settings = std::sync::Arc::new(settings);
        t.router = server::router(t.state.clone());
        let alice = user_with_token(&t, "alice", false).await;
        let d = push(&t, &alice, "alice/web", "1.0").await;
        for path in [format!("/v2/alice/web/manifests/{d}"), "/v2/alice/web/manifests/1.0".to_string(), format!("/v2/alice/web/blobs/{}", digest(LAYER))] {
            let r = Call::new("DELETE", path.clone()).token(&alice).send(&t).await;
            assert_eq!((r.status, code(&r).as_str()), (StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED"), "{path}");
        }
        assert_eq!(Call::new("GET", "/v2/alice/web/manifests/1.0").token(&alice).send(&t).await.status, StatusCode::OK);
    }

    async fn bad_input_gets_the_spec_codes(db: Db) {
        let t = test_app(db);
        let alice = user_with_token(&t, "alice", false).await;
        push(&t, &alice, "alice/web", "1.0").await;
        let r = Call::new("GET", "/v2/alice/web/blobs/sha256:nothex").token(&alice).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::BAD_REQUEST, "DIGEST_INVALID"));
        let r = Call::new("GET", format!("/v2/alice/web/blobs/{}", digest(b"nope"))).token(&alice).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"));
        let r = Call::new("GET", "/v2/alice/web/manifests/.bad").token(&alice).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"));
        let r = Call::new("GET", "/v2/Alice!/web/tags/list").token(&alice).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::BAD_REQUEST, "NAME_INVALID"));
        // A manifest naming a blob the repository does not have.
        let m = manifest().replace(&digest(LAYER), &digest(b"missing"));
        let r = Call::new("PUT", "/v2/alice/web/manifests/broken").token(&alice).body(m).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"));
        let r = Call::new("PUT", "/v2/alice/web/manifests/broken").token(&alice).body("not json").send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"));
        let big = format!(r#"{{"schemaVersion":2,"pad":"{}"}}"#, "x".repeat(4 * 1024 * 1024));
        let r = Call::new("PUT", "/v2/alice/web/manifests/big").token(&alice).body(big).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "SIZE_INVALID"));
        let r = Call::new("PUT", format!("/v2/alice/web/manifests/{}", digest(b"other"))).token(&alice).body(manifest()).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::BAD_REQUEST, "DIGEST_INVALID"));
        // Uploads: the wrong digest stores nothing; out of order is 416; unknown ids 404.
        let r = Call::new("POST", format!("/v2/alice/web/blobs/uploads/?digest={}", digest(b"a"))).token(&alice).body("b").send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::BAD_REQUEST, "DIGEST_INVALID"));
        let r = Call::new("POST", "/v2/alice/web/blobs/uploads/").token(&alice).send(&t).await;
        let loc = r.headers[header::LOCATION].to_str().expect("loc").to_string();
        let r = Call::new("PATCH", loc.clone()).token(&alice).header("content-range", "5-9").body("12345").send(&t).await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{}", r.body);
        assert_eq!(r.headers[header::RANGE], "0-0");
        let r = Call::new("PATCH", loc.clone()).token(&alice).body("12345").send(&t).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        let r = Call::new("PUT", format!("{loc}?digest={}", digest(b"not these bytes"))).token(&alice).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::BAD_REQUEST, "DIGEST_INVALID"));
        let r = Call::new("GET", format!("/v2/alice/web/blobs/{}", digest(b"12345"))).token(&alice).send(&t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "nothing half-stored");
        let r = Call::new("GET", loc).token(&alice).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"), "the failed upload is gone");
        // Content negotiation: an Accept that does not list the manifest's type.
        let r = Call::new("GET", "/v2/alice/web/manifests/1.0").token(&alice)
            .header("accept", "application/vnd.docker.distribution.manifest.v2+json").send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"));
        let r = Call::new("GET", "/v2/alice/web/manifests/1.0").token(&alice)
            .header("accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json").send(&t).await;
        assert_eq!(r.status, StatusCode::OK);
        // Someone who may only read cannot push.
        let bob = user_with_token(&t, "bobby", false).await;
        let r = Call::new("POST", "/v2/alice/web/blobs/uploads/").token(&bob).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::FORBIDDEN, "DENIED"));
        let r = Call::new("POST", "/v2/alice/new/blobs/uploads/").token(&bob).send(&t).await;
        assert_eq!((r.status, code(&r).as_str()), (StatusCode::FORBIDDEN, "DENIED"), "no repositories in someone else's namespace");
    }
}
