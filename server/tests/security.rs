//! Security promises through the router, on SQLite and PostgreSQL (see
//! docs/SECURITY.md): no cross-site writes, hardened headers and cookies, the
//! JSON error shape for every refusal, limits that hold behind a proxy,
//! bounded input, no 5xx under concurrent writes, token and staff rules.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::{Resp, TestApp, test_app};
use serde_json::json;
use std::net::SocketAddr;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn count(t: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&t.state.db.pool)
        .await
        .expect("count");
    n
}

/// Signs up `name` through the page's server function; returns the cookie pair.
async fn session(t: &TestApp, name: &str) -> String {
    let r = t
        .send(
            Request::post("/api/sign_up")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(format!("name={name}&password=a-long-password")))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = r.headers[header::SET_COOKIE].to_str().expect("cookie");
    c.split(';').next().unwrap_or("").to_string()
}

fn post_form(path: &str, cookie: &str, body: &str) -> axum::http::request::Builder {
    let _ = body;
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
}

fn from(ip: [u8; 4]) -> ConnectInfo<SocketAddr> {
    ConnectInfo(SocketAddr::from((ip, 40000)))
}

async fn sign_in(
    t: &TestApp,
    name: &str,
    password: &str,
    peer: [u8; 4],
    xff: Option<&str>,
) -> Resp {
    let mut b = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(x) = xff {
        b = b.header("x-forwarded-for", x);
    }
    let mut req = b
        .body(Body::from(format!("name={name}&password={password}")))
        .expect("req");
    req.extensions_mut().insert(from(peer));
    t.send(req).await
}

app::both_backends! {
    async fn cross_site_writes_are_refused(db: Db) {
        let t = test_app(db);
        let cookie = session(&t, "alice").await;
        let before = count(&t, "SELECT COUNT(*) FROM namespaces").await;
        // A form another site posts, riding on alice's cookie.
        let r = t.send(post_form("/api/create_org", &cookie, "")
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::from("name=evilorg")).expect("req")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(r.error_code(), "forbidden");
        assert!(r.body.contains("Cross-site"), "{}", r.body);
        // A `text/plain` fetch from another origin (an older browser: Origin only).
        let r = t.send(Request::post("/api/create_org")
            .header(header::CONTENT_TYPE, "text/plain")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::from("name=evilorg2")).expect("req")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        // A sibling site (same-site is not same-origin), and REST with the cookie.
        let r = t.send(Request::post("/api/v1/orgs")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &cookie)
            .header("sec-fetch-site", "same-site")
            .body(Body::from(r#"{"name":"evilorg3"}"#)).expect("req")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        // A cookie with no signal at all (a script replaying it): refused too.
        let r = t.send(post_form("/api/create_org", &cookie, "").body(Body::from("name=evilorg4")).expect("req")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM namespaces").await, before, "nothing created");
        // The hub's own page: Sec-Fetch-Site same-origin, or Origin / Referer on the public URL.
        for (h, v) in [("sec-fetch-site", "same-origin"), ("origin", "http://127.0.0.1:3000"), ("referer", "http://127.0.0.1:3000/settings")] {
            let name = format!("okorg{}", h.len());
            let r = t.send(post_form("/api/create_org", &cookie, "").header(h, v).header(header::ACCEPT, "application/json")
                .body(Body::from(format!("name={name}"))).expect("req")).await;
            assert_eq!(r.status, StatusCode::OK, "{h}: {}", r.body);
        }
        // Login CSRF: another site cannot sign a browser in.
        let r = t.send(Request::post("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .body(Body::from("name=alice&password=a-long-password")).expect("req")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(!r.headers.contains_key(header::SET_COOKIE));
        // A token is exempt (another site cannot attach one).
        let token = common::user_with_token(&t, "bobby", false).await;
        let r = t.send(Request::post("/api/v1/orgs")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("sec-fetch-site", "cross-site")
            .body(Body::from(r#"{"name":"tokenorg"}"#)).expect("req")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    async fn rest_writes_need_json_and_every_refusal_is_json(db: Db) {
        let t = test_app(db);
        let token = common::user_with_token(&t, "alice", false).await;
        let bearer = format!("Bearer {token}");
        let r = t.send(Request::post("/api/v1/orgs")
            .header(header::AUTHORIZATION, &bearer)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(r#"{"name":"plainorg"}"#)).expect("req")).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
        assert_eq!(r.error_code(), "unsupported_media_type");
        // 3 MB of JSON: 413 in the JSON shape.
        let big = format!(r#"{{"name":"{}"}}"#, "a".repeat(3 << 20));
        let r = t.send(Request::post("/api/v1/orgs")
            .header(header::AUTHORIZATION, &bearer)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(big)).expect("req")).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &r.body[..r.body.len().min(200)]);
        assert_eq!(r.error_code(), "payload_too_large");
        // axum's own rejections: a wrong method, a path that does not decode.
        let r = t.send(Request::delete("/api/v1/orgs").header(header::AUTHORIZATION, &bearer).body(Body::empty()).expect("req")).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.error_code(), "not_found", "{}", r.body);
        let r = t.get("/api/v1/repositories/%FF%FE/x", None).await;
        assert!(r.status.is_client_error(), "{}", r.status);
        assert!(!r.error_code().is_empty(), "JSON error: {}", r.body);
        // A server-function body over 64 KiB: 413, JSON.
        let r = t.send(Request::post("/api/search")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("q={}", "x".repeat(70 * 1024)))).expect("req")).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &r.body[..r.body.len().min(200)]);
        assert_eq!(r.error_code(), "payload_too_large");
    }

    async fn pages_and_answers_carry_security_headers(db: Db) {
        let t = test_app(db);
        let r = t.get("/", None).await;
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp").to_string();
        let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap_or("");
        assert!(scripts.contains("'nonce-") && scripts.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(!scripts.contains("unsafe-inline") && !scripts.contains("'unsafe-eval'"), "{csp}");
        for d in ["frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"] {
            assert!(csp.contains(d), "{d} in {csp}");
        }
        // The nonce in the header is the one on the page's scripts.
        let nonce = scripts.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).unwrap_or("");
        assert!(nonce.len() >= 16 && r.body.contains(&format!("nonce=\"{nonce}\"")), "{nonce}");
        for res in [&r, &t.get("/api/v1/namespaces/nobody", None).await, &t.get("/badge/a/b.svg", None).await] {
            assert_eq!(res.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(res.headers[header::REFERRER_POLICY], "strict-origin-when-cross-origin");
            assert!(!res.headers.contains_key(header::STRICT_TRANSPORT_SECURITY), "no HSTS over http");
        }
        let r2 = t.get("/", None).await;
        assert_ne!(r2.headers[header::CONTENT_SECURITY_POLICY], r.headers[header::CONTENT_SECURITY_POLICY], "a fresh nonce per page");
    }

    async fn https_public_url_hardens_the_cookie(db: Db) {
        let mut t = test_app(db);
        let mut settings = (*t.state.settings).clone();
        settings.public_url = "https://hub.example.org".into();
        t.state.settings = std::sync::Arc::new(settings);
        t.router = server::router(t.state.clone());
        let r = t.send(Request::post("/api/sign_up")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "https://hub.example.org")
            .body(Body::from("name=alice&password=a-long-password")).expect("req")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let c = r.headers[header::SET_COOKIE].to_str().expect("cookie").to_string();
        assert!(c.starts_with("__Host-hub_session="), "{c}");
        assert!(c.contains("Secure") && c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"), "{c}");
        assert!(!c.contains("Domain"), "{c}");
        // The hub reads it back under that name.
        let pair = c.split(';').next().unwrap_or("");
        let r = t.send(Request::post("/api/whoami").header(header::COOKIE, pair)
            .header("sec-fetch-site", "same-origin").body(Body::empty()).expect("req")).await;
        assert_eq!(r.json()["name"], "alice", "{}", r.body);
        assert!(t.get("/", None).await.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }

    async fn sign_in_limits_hold_behind_a_proxy_and_cannot_lock_out(db: Db) {
        let mut t = test_app(db);
        let mut settings = (*t.state.settings).clone();
        settings.trusted_proxies = vec!["10.0.0.0/8".parse().expect("net")];
        t.state.settings = std::sync::Arc::new(settings);
        t.router = server::router(t.state.clone());
        common::user_with_token(&t, "reviewer", true).await;
        // 40 wrong passwords for the reviewer from one address (behind the proxy)…
        let mut limited = 0;
        for _ in 0..40 {
            let r = sign_in(&t, "reviewer", "wrong-password", [10, 0, 0, 1], Some("203.0.113.7")).await;
            if r.status == StatusCode::TOO_MANY_REQUESTS { limited += 1; }
        }
        assert!(limited > 0, "the attacker's address is throttled");
        // …do not lock the reviewer out from elsewhere, through the same proxy.
        let r = sign_in(&t, "reviewer", "s3cret-password", [10, 0, 0, 1], Some("198.51.100.9")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // Without the proxy's word, a forged header is ignored: the peer is the key.
        for _ in 0..35 {
            sign_in(&t, "nobody1", "x-password", [192, 0, 2, 1], Some("203.0.113.99")).await;
        }
        let r = sign_in(&t, "nobody2", "x-password", [192, 0, 2, 1], Some("198.51.100.1")).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert!(r.headers.contains_key(header::RETRY_AFTER), "Retry-After is sent");
        // A name that is not a valid name never becomes a key.
        let r = sign_in(&t, &"x".repeat(500), "x-password", [192, 0, 2, 2], None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }

    async fn sign_up_is_throttled_before_anything_is_created(db: Db) {
        let t = test_app(db);
        let mut refused = 0;
        for i in 0..8 {
            let mut req = Request::post("/api/sign_up")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(format!("name=newuser{i}&password=a-long-password"))).expect("req");
            req.extensions_mut().insert(from([203, 0, 113, 5]));
            let r = t.send(req).await;
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                refused += 1;
                assert!(r.body.contains("new accounts"), "{}", r.body);
            } else {
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            }
        }
        assert_eq!(refused, 3);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM users").await, 5, "a refused sign-up creates nothing");
    }

    async fn oversized_form_fields_are_refused_early(db: Db) {
        let t = test_app(db);
        let cookie = session(&t, "alice").await;
        // A 100 MB `namespace` field, declared: refused before reading.
        let r = t.send(Request::post("/api/upload_logo")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XYZ")
            .header(header::CONTENT_LENGTH, (100u64 << 20).to_string())
            .header(header::COOKIE, &cookie).header("sec-fetch-site", "same-origin")
            .body(Body::from("--XYZ\r\n")).expect("req")).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        // Chunked (no length): 8 MB streamed in 64 KiB chunks; stopped at the limit.
        let head = "--XYZ\r\nContent-Disposition: form-data; name=\"namespace\"\r\n\r\n";
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = std::iter::once(Ok(head.as_bytes().to_vec()))
            .chain((0..128).map(|_| Ok(vec![b'a'; 64 * 1024])))
            .collect();
        let r = t.send(Request::post("/api/upload_logo")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XYZ")
            .header(header::COOKIE, &cookie).header("sec-fetch-site", "same-origin")
            .body(Body::from_stream(futures::stream::iter(chunks))).expect("req")).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        // A small body whose text field alone is over 256 bytes.
        let body = format!("--XYZ\r\nContent-Disposition: form-data; name=\"namespace\"\r\n\r\n{}\r\n--XYZ--\r\n", "n".repeat(1000));
        let r = t.send(Request::post("/api/upload_logo")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XYZ")
            .header(header::COOKIE, &cookie).header("sec-fetch-site", "same-origin")
            .body(Body::from(body)).expect("req")).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        assert!(r.body.contains("namespace"), "{}", r.body);
    }

    async fn concurrent_writers_never_get_a_5xx(db: Db) {
        let t = test_app(db);
        let token = common::user_with_token(&t, "alice", false).await;
        let r = t.json("POST", "/api/v1/orgs", Some(&token), json!({"name": "busyorg"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = t.json("POST", "/api/v1/repositories", Some(&token), json!({"namespace": "busyorg", "name": "app"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let t = std::sync::Arc::new(t);
        let run = |label: &'static str, make: Box<dyn Fn(usize) -> (String, String, serde_json::Value) + Send + Sync>| {
            let t = t.clone();
            let token = token.clone();
            async move {
                let make = std::sync::Arc::new(make);
                let tasks: Vec<_> = (0..32).map(|i| {
                    let (t, token, make) = (t.clone(), token.clone(), make.clone());
                    tokio::spawn(async move {
                        let (method, path, body) = make(i);
                        t.json(&method, &path, Some(&token), body).await.status
                    })
                }).collect();
                let mut statuses = Vec::new();
                for task in tasks { statuses.push(task.await.expect("task")); }
                assert!(statuses.iter().all(|s| !s.is_server_error()), "{label}: {statuses:?}");
                statuses
            }
        };
        // Tag writes (each touches the token's last use, then writes).
        let s = run("tags", Box::new(|i| ("PUT".into(), format!("/api/v1/repositories/busyorg/app/tags/v{i}"), json!({"digest": DIGEST})))).await;
        assert!(s.iter().all(|s| *s == StatusCode::OK), "{s:?}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM tags").await, 32);
        // The same team 32 times: one 201, the rest 409.
        let s = run("teams", Box::new(|_| ("POST".into(), "/api/v1/orgs/busyorg/teams".into(), json!({"name": "racers"})))).await;
        assert_eq!(s.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{s:?}");
        assert_eq!(s.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 31, "{s:?}");
        // Repositories, distinct and all the same name.
        let s = run("repos", Box::new(|i| ("POST".into(), "/api/v1/repositories".into(), json!({"namespace": "busyorg", "name": format!("r{i}")})))).await;
        assert!(s.iter().all(|s| *s == StatusCode::CREATED), "{s:?}");
        let s = run("same repo", Box::new(|_| ("POST".into(), "/api/v1/repositories".into(), json!({"namespace": "busyorg", "name": "dup"})))).await;
        assert_eq!(s.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{s:?}");
        // Organizations (under the per-user limit) and one name claimed 32 times.
        let s = run("orgs", Box::new(|i| ("POST".into(), "/api/v1/orgs".into(), json!({"name": format!("busyorg{i}")})))).await;
        assert_eq!(s.iter().filter(|s| **s == StatusCode::CREATED).count(), 19, "20 per user, one already owned: {s:?}");
        assert!(s.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{s:?}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM org_owners").await, 20);
    }

    async fn tokens_do_not_outlive_their_maker_and_passwords_can_revoke_them(db: Db) {
        let t = test_app(db);
        let cookie = session(&t, "alice").await;
        let mk = |days: &str| format!("name=t{days}&scope=admin&expires_in_days={days}");
        let r = t.send(post_form("/api/create_token", &cookie, "").header("sec-fetch-site", "same-origin")
            .body(Body::from(mk("30"))).expect("req")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let short = r.json()["secret"].as_str().expect("secret").to_string();
        for (days, ok) in [("60", false), ("", false), ("10", true)] {
            let r = t.send(Request::post("/api/create_token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, format!("Bearer {short}"))
                .body(Body::from(mk(days))).expect("req")).await;
            if ok {
                assert_eq!(r.status, StatusCode::OK, "{days}: {}", r.body);
            } else {
                assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{days}: {}", r.body);
                assert_eq!(r.json()["error"]["field"], "expires_in_days");
            }
        }
        // Changing the password with revoke_tokens=true revokes every token.
        let r = t.send(post_form("/api/change_password", &cookie, "").header("sec-fetch-site", "same-origin")
            .body(Body::from("current_password=a-long-password&new_password=another-long-one&revoke_tokens=true")).expect("req")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.get("/api/v1/namespaces/alice", Some(&short)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        assert!(r.body.contains("revoked"), "{}", r.body);
    }

    async fn reviewers_cannot_decide_their_own_namespace(db: Db) {
        let t = test_app(db);
        let staff = common::user_with_token(&t, "reviewer", true).await;
        let other = common::user_with_token(&t, "judge", true).await;
        for (m, p, b) in [
            ("POST", "/api/v1/orgs", json!({"name": "revorg"})),
            ("POST", "/api/v1/repositories", json!({"namespace": "revorg", "name": "app"})),
            ("PUT", "/api/v1/repositories/revorg/app/tags/1.0", json!({"digest": DIGEST})),
        ] {
            let r = t.json(m, p, Some(&staff), b).await;
            assert!(r.status.is_success(), "{p}: {}", r.body);
        }
        let form = json!({"project_name": "Rev", "website": "https://rev.example.org", "source_url": "https://github.com/rev/rev",
            "license": "MIT", "description": "The reviewer's own project.", "attest_public": true, "attest_osd": true, "attest_noncommercial": true});
        let r = t.json("POST", "/api/v1/namespaces/revorg/program/applications", Some(&staff), form).await;
        let id = r.json()["id"].as_i64().expect("id");
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM memberships").await, 0);
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&other), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "another reviewer may: {}", r.body);
    }
}

#[test]
fn database_urls_are_redacted() {
    let r = server::cli::redact("postgres://hub:s3cr3t-pw@db.internal:5432/hub");
    assert!(!r.contains("s3cr3t-pw") && r.contains("db.internal"), "{r}");
    let r = server::cli::redact("mysql://u:hunter2@x/y");
    assert!(!r.contains("hunter2"), "{r}");
    let e = app::db::DbError::UnsupportedUrl("mysql".into()).to_string();
    assert!(e.contains("mysql") && !e.contains("hunter2"), "{e}");
}
