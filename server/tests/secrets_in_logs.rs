//! No secret reaches the logs or an error message: passwords, session and
//! token secrets while signing in and creating tokens (captured at debug
//! level), and the password of a database URL that cannot be used.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use std::sync::{Arc, Mutex};

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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_and_errors() {
    // One process per test (nextest): this subscriber sees everything below.
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(move || sink.clone())
        .init();
    let t = app::testing::TestDb::new(app::db::Backend::Sqlite).await;
    let app = common::test_app(t.db.clone());
    let password = "Very-Secret-Passw0rd";
    let r = app
        .send(
            Request::post("/api/sign_up")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("name=alice&password={password}")))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r.headers[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_string();
    let session = cookie.split(';').next().unwrap_or("").to_string();
    let secret = session.split('=').nth(1).unwrap_or("").to_string();
    let r = app
        .send(
            Request::post("/api/create_token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &session)
                .header("sec-fetch-site", "same-origin")
                .body(Body::from("name=ci&scope=read&expires_in_days=1"))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = r.json()["secret"].as_str().unwrap_or("").to_string();
    assert!(token.starts_with("hubpat_"));
    // A failed sign-in with a wrong password, and a bad token.
    let r = app
        .send(
            Request::post("/api/sign_in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("name=alice&password=Wrong-Secret-Guess"))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .get(
            "/api/v1/namespaces/alice",
            Some("hubpat_NotARealTokenSecret"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A database URL with a password that cannot be used.
    for url in [
        "mysql://hub:Db-Secret-Pw@db.internal/hub",
        "postgres://hub:Db-Secret-Pw@127.0.0.1:5432/no_such_database_here",
    ] {
        let cli = server::cli::Cli::try_parse_from(["server", "--database-url", url, "migrate"])
            .expect("cli");
        let e = server::cli::run(cli).await.expect_err("cannot open");
        assert!(!e.contains("Db-Secret-Pw"), "{e}");
        tracing::error!("{e}");
    }
    let text = logs.text();
    assert!(text.len() > 100, "logs were captured: {text}");
    for s in [
        password,
        "Wrong-Secret-Guess",
        &secret,
        &token,
        "NotARealTokenSecret",
        "Db-Secret-Pw",
    ] {
        assert!(!text.contains(s), "“{s}” is in the logs");
    }
    t.cleanup().await;
}
