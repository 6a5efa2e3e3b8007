//! Promises of the core layer through the router, on SQLite and PostgreSQL:
//! private repository names never reach callers without read rights, stored
//! values that are not understood are errors (never a silent default), and a
//! program decision reaches every perk at once despite the perks cache.

mod common;

use axum::http::StatusCode;
use common::{TestApp, test_app};
use serde_json::{Value, json};

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn post(t: &TestApp, auth: &str, path: &str, body: Value) {
    let r = t.json("POST", path, Some(auth), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{path}: {}", r.body);
}

async fn exec(t: &TestApp, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&t.state.db.pool)
        .await
        .expect("sql");
}

/// Writes a value the schema's CHECK constraint refuses (as a newer version
/// or a hand edit might have): first proves the database refuses it, then
/// lifts the constraint (SQLite: `ignore_check_constraints` on one
/// connection; PostgreSQL: drops it) and writes it anyway.
async fn force(t: &TestApp, table: &str, column: &str, sql: &str) {
    use sqlx::Executor;
    let refused = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&t.state.db.pool)
        .await;
    assert!(refused.is_err(), "the schema refuses it too: {sql}");
    match t.state.db.backend {
        app::db::Backend::Sqlite => {
            let mut c = t.state.db.pool.acquire().await.expect("conn");
            c.execute("PRAGMA ignore_check_constraints = ON")
                .await
                .expect("pragma");
            c.execute(sqlx::AssertSqlSafe(sql.to_string()))
                .await
                .expect("forced write");
            c.execute("PRAGMA ignore_check_constraints = OFF")
                .await
                .expect("pragma");
        }
        app::db::Backend::Postgres => {
            exec(
                t,
                &format!("ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check"),
            )
            .await;
            exec(t, sql).await;
        }
    }
}

/// `scoutorg` with a public `open` and a private `secret-sauce`, both with
/// Scout on, owned by alice; bobby reads `secret-sauce` through a team.
async fn scout_org(t: &TestApp) -> (String, String, String) {
    let alice = common::user_with_token(t, "alice", false).await;
    let bobby = common::user_with_token(t, "bobby", false).await;
    let carol = common::user_with_token(t, "carol", false).await;
    post(t, &alice, "/api/v1/orgs", json!({"name": "scoutorg"})).await;
    post(
        t,
        &alice,
        "/api/v1/repositories",
        json!({"namespace": "scoutorg", "name": "open"}),
    )
    .await;
    post(
        t,
        &alice,
        "/api/v1/repositories",
        json!({"namespace": "scoutorg", "name": "secret-sauce", "is_private": true}),
    )
    .await;
    post(
        t,
        &alice,
        "/api/v1/orgs/scoutorg/teams",
        json!({"name": "readers"}),
    )
    .await;
    let r = t
        .json(
            "PUT",
            "/api/v1/orgs/scoutorg/teams/readers/members/bobby",
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = t
        .json(
            "PUT",
            "/api/v1/orgs/scoutorg/teams/readers/repositories/secret-sauce",
            Some(&alice),
            json!({"rights": "read"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // Outside the program the quota is 1, so the second is switched on in SQL.
    let r = t
        .json(
            "PUT",
            "/api/v1/repositories/scoutorg/open/scout",
            Some(&alice),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    exec(
        t,
        "UPDATE repositories SET scout_enabled = TRUE WHERE name = 'secret-sauce'",
    )
    .await;
    (alice, bobby, carol)
}

app::both_backends! {
    async fn private_repository_names_do_not_leak(db: Db) {
        let t = test_app(db);
        let (alice, bobby, carol) = scout_org(&t).await;
        let names = |r: &common::Resp| r.json()["enabled_repositories"].clone();
        // REST: anonymous and an outsider see the public name and the count only.
        for who in [None, Some(carol.as_str())] {
            let r = t.get("/api/v1/namespaces/scoutorg/scout", who).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(names(&r), json!(["open"]), "{who:?}");
            assert_eq!(r.json()["enabled_in_namespace"], 2);
            assert!(!r.body.contains("secret-sauce"), "{who:?}: {}", r.body);
        }
        // A team member with read, and the owner, see both.
        for who in [&bobby, &alice] {
            let r = t.get("/api/v1/namespaces/scoutorg/scout", Some(who)).await;
            assert_eq!(names(&r), json!(["open", "secret-sauce"]));
        }
        // The server function the program page uses.
        let r = t.server_fn("scout_overview", None, &[("namespace", "scoutorg")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(!r.body.contains("secret-sauce"), "{}", r.body);
        // Nowhere else either: program status, namespace page, program page, search.
        for path in [
            "/api/v1/namespaces/scoutorg/program",
            "/api/v1/namespaces/scoutorg",
            "/u/scoutorg/program",
            "/u/scoutorg",
            "/search?q=secret",
        ] {
            let r = t.get(path, Some(&carol)).await;
            assert!(!r.body.contains("secret-sauce"), "{path} leaks: {}", r.body);
        }
        let r = t.server_fn("program_overview", None, &[("namespace", "scoutorg")]).await;
        assert!(!r.body.contains("secret-sauce"), "{}", r.body);
    }

    async fn unknown_stored_values_are_errors_not_defaults(db: Db) {
        let t = test_app(db);
        let alice = common::user_with_token(&t, "alice", false).await;
        let staff = common::user_with_token(&t, "reviewer", true).await;
        post(&t, &alice, "/api/v1/orgs", json!({"name": "oddorg"})).await;
        post(&t, &alice, "/api/v1/repositories", json!({"namespace": "oddorg", "name": "app"})).await;
        let r = t.json("PUT", "/api/v1/repositories/oddorg/app/tags/1.0", Some(&alice), json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // A token whose stored scope nobody wrote: refused, never treated as "read".
        force(&t, "access_tokens", "scope", "UPDATE access_tokens SET scope = 'superuser' WHERE user_id = (SELECT id FROM users WHERE name = 'alice')").await;
        let r = t.get("/api/v1/repositories/oddorg/app", Some(&alice)).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
        assert_eq!(r.error_code(), "internal");
        assert!(!r.body.contains("superuser"), "no internals in the answer: {}", r.body);
        // An application whose stored status is unknown: not shown as "submitted".
        exec(&t, "UPDATE access_tokens SET scope = 'admin'").await;
        let form = json!({
            "project_name": "Odd", "website": "https://odd.example.org",
            "source_url": "https://github.com/odd/odd", "license": "MIT",
            "description": "An odd little project.", "attest_public": true,
            "attest_osd": true, "attest_noncommercial": true
        });
        post(&t, &alice, "/api/v1/namespaces/oddorg/program/applications", form).await;
        let r = t.get("/api/v1/program/queue", Some(&staff)).await;
        assert_eq!(r.json()["submitted"].as_array().map(Vec::len), Some(1), "{}", r.body);
        force(&t, "program_applications", "status", "UPDATE program_applications SET status = 'lost'").await;
        let r = t.get("/api/v1/program/queue", Some(&staff)).await;
        assert_eq!(r.json()["submitted"].as_array().map(Vec::len), Some(0), "{}", r.body);
        let r = t.get("/api/v1/namespaces/oddorg/program", Some(&alice)).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "owners' view reads it: {}", r.body);
        assert!(!r.body.contains("lost"), "{}", r.body);
        // A namespace row of an unknown kind.
        force(&t, "namespaces", "kind", "UPDATE namespaces SET kind = 'team' WHERE name = 'oddorg'").await;
        let r = t.get("/api/v1/namespaces/oddorg", None).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    }

    async fn decisions_reach_every_perk_through_the_cache(db: Db) {
        let t = test_app(db);
        let alice = common::user_with_token(&t, "alice", false).await;
        let staff = common::user_with_token(&t, "reviewer", true).await;
        post(&t, &alice, "/api/v1/orgs", json!({"name": "cacheorg"})).await;
        post(&t, &alice, "/api/v1/repositories", json!({"namespace": "cacheorg", "name": "app"})).await;
        let r = t.json("PUT", "/api/v1/repositories/cacheorg/app/tags/1.0", Some(&alice), json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::OK);
        let sponsored = |r: &common::Resp| r.json()["sponsored"].clone();
        // Warm the cache with "not sponsored" from every reader.
        assert_eq!(sponsored(&t.get("/api/v1/repositories/cacheorg/app", None).await), false);
        let badge = t.get("/badge/cacheorg/app.json", None).await;
        assert_eq!(badge.json()["message"], "not sponsored");
        let form = json!({
            "project_name": "Cache", "website": "https://cache.example.org",
            "source_url": "https://github.com/cache/cache", "license": "MIT",
            "description": "A project that caches.", "attest_public": true,
            "attest_osd": true, "attest_noncommercial": true
        });
        let r = t.json("POST", "/api/v1/namespaces/cacheorg/program/applications", Some(&alice), form).await;
        let id = r.json()["id"].as_i64().expect("id");
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // At once, not after the cache's lifetime.
        assert_eq!(sponsored(&t.get("/api/v1/repositories/cacheorg/app", None).await), true);
        assert_eq!(t.get("/badge/cacheorg/app.json", None).await.json()["message"], "sponsored OSS");
        let r = t.server_fn("search", None, &[("q", "app"), ("open_source_only", "true")]).await;
        assert_eq!(r.json()["total"], 1, "{}", r.body);
        // Expiry needs no invalidation: the status is derived from the clock.
        t.clock.set(common::T0.plus_days(365 + 14));
        assert_eq!(sponsored(&t.get("/api/v1/repositories/cacheorg/app", None).await), false);
    }
}
