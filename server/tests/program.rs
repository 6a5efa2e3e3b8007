//! The Sponsored Open Source program end to end through the router, on
//! SQLite and PostgreSQL: apply, review, membership, reminders, renewal,
//! expiry, badges, search and the Scout quota.

mod common;

use app::domain::Timestamp;
use app::domain::clock::{Clock, DAY_MS};
use axum::http::StatusCode;
use common::{T0, TestApp, test_app};
use serde_json::{Value, json};

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn user(t: &TestApp, name: &str, staff: bool) -> String {
    common::user_with_token(t, name, staff).await
}

async fn org_with_repo(t: &TestApp, owner: &str, org: &str, repo: &str) {
    let r = t
        .json("POST", "/api/v1/orgs", Some(owner), json!({"name": org}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = t
        .json(
            "POST",
            "/api/v1/repositories",
            Some(owner),
            json!({"namespace": org, "name": repo}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = t
        .json(
            "PUT",
            &format!("/api/v1/repositories/{org}/{repo}/tags/1.0.0"),
            Some(owner),
            json!({"digest": DIGEST}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

fn form() -> Value {
    json!({
        "project_name": "Fluent Bit",
        "website": "https://fluentbit.io",
        "source_url": "https://github.com/fluent/fluent-bit",
        "license": "MIT OR Apache-2.0",
        "description": "Fast and lightweight logs and metrics processor",
        "attest_public": true,
        "attest_osd": true,
        "attest_noncommercial": true
    })
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&t.state.db.pool)
        .await
        .expect("count");
    n
}

async fn reminders(t: &TestApp) -> usize {
    app::program::jobs::run_reminders(&t.state.db, t.clock.now(), &t.state.settings.program)
        .await
        .expect("job")
}

async fn badge_message(t: &TestApp) -> String {
    let r = t.get("/badge/fluentorg/fluent-bit.json", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["message"].as_str().unwrap_or("").to_string()
}

app::both_backends! {
    async fn apply_review_renew_expire(db: Db) {
        let t = test_app(db);
        let alice = user(&t, "alice", false).await;
        let bobby = user(&t, "bobby", false).await;
        let staff = user(&t, "reviewer", true).await;
        org_with_repo(&t, &alice, "fluentorg", "fluent-bit").await;
        let base = "/api/v1/namespaces/fluentorg/program";

        // Apply: 201 with the checklist.
        let r = t.json("POST", &format!("{base}/applications"), Some(&alice), form()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.json()["id"].as_i64().expect("id");
        assert_eq!(r.json()["status"], "submitted");
        assert!(r.json()["checklist"].as_array().is_some_and(|c| c.len() == 4 && c.iter().all(|c| c["passed"] == true)));
        // One open application per namespace.
        let r = t.json("POST", &format!("{base}/applications"), Some(&alice), form()).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM program_applications").await, 1);

        // Request changes (a message is required) → resubmit.
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/request-changes"), Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/request-changes"), Some(&staff),
            json!({"reason": "Please link the main repository."})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["status"], "changes_requested");
        let r = t.get(base, Some(&alice)).await;
        assert_eq!(r.json()["open_application"]["status"], "changes_requested");
        assert!(r.body.contains("Please link the main repository."), "applicant sees the message");
        let mut f = form();
        f["source_url"] = json!("https://github.com/fluent/fluent-bit-main");
        let r = t.json("POST", &format!("{base}/applications"), Some(&alice), f).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["id"].as_i64(), Some(id), "resubmission edits the same application");
        assert_eq!(r.json()["status"], "submitted");

        // Only staff approve.
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.get("/api/v1/program/queue", Some(&bobby)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.get("/api/v1/program/queue", Some(&staff)).await;
        assert_eq!(r.json()["submitted"][0]["id"].as_i64(), Some(id));
        assert_eq!(badge_message(&t).await, "not sponsored");
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "decided twice");
        let r = t.json("POST", "/api/v1/program/applications/99999/approve", Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // Badge on: repository JSON, namespace JSON, SVG and JSON badges.
        let expires = T0.plus_years(1);
        let r = t.get("/api/v1/repositories/fluentorg/fluent-bit", None).await;
        assert_eq!(r.json()["sponsored"], true);
        assert_eq!(r.json()["sponsored_until"], expires.rfc3339());
        let r = t.get("/api/v1/namespaces/fluentorg", None).await;
        assert_eq!(r.json()["program"]["status"], "active");
        assert_eq!(badge_message(&t).await, "sponsored OSS");
        let svg = t.get("/badge/fluentorg/fluent-bit.svg", None).await;
        assert_eq!(svg.headers["content-type"], "image/svg+xml");
        assert!(svg.body.contains("sponsored OSS"));
        assert_eq!(svg.headers["cache-control"], "max-age=300");
        // Too early to renew.
        let r = t.json("POST", &format!("{base}/renew"), Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("too early"), "{}", r.body);

        // +320 days: renewal due, the 45-day reminder goes out once.
        t.clock.set(T0.plus_days(320));
        let r = t.get(base, Some(&alice)).await;
        assert_eq!(r.json()["status"], "renewal_due");
        assert_eq!(reminders(&t).await, 1);
        assert_eq!(reminders(&t).await, 0, "a rerun sends nothing");
        t.clock.set(T0.plus_days(336));
        assert_eq!(reminders(&t).await, 1, "30-day reminder");
        assert_eq!(reminders(&t).await, 0);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM reminder_sends").await, 2);
        let r = t.server_fn("notifications", Some(&alice), &[]).await;
        let unread = r.json()["unread"].as_i64().unwrap_or(0);
        assert_eq!(unread, 4, "changes requested + approval + two reminders: {}", r.body);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL").await, 4);
        let r = t.server_fn("notifications", Some(&bobby), &[]).await;
        assert_eq!(r.json()["unread"].as_i64(), Some(0), "non-owners get nothing");

        // Renew: a renewal application; approval extends from the old expiry.
        let r = t.json("POST", &format!("{base}/renew"), Some(&bobby), json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.json("POST", &format!("{base}/renew"), Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["is_renewal"], true);
        let rid = r.json()["id"].as_i64().expect("id");
        let r = t.get("/api/v1/program/queue", Some(&staff)).await;
        assert_eq!(r.json()["submitted"][0]["is_renewal"], true);
        let r = t.json("POST", &format!("/api/v1/program/applications/{rid}/approve"), Some(&staff), json!({"reason": "Still active."})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let new_expires = expires.plus_years(1);
        let r = t.get(base, Some(&alice)).await;
        assert_eq!(r.json()["expires_at"], new_expires.rfc3339());
        assert_eq!(r.json()["starts_at"], T0.rfc3339(), "no gap, no lost days");
        assert_eq!(r.json()["status"], "active");

        // Past expiry: grace keeps perks on; after grace everything is off.
        t.clock.set(Timestamp(new_expires.0 + DAY_MS));
        assert_eq!(badge_message(&t).await, "sponsored OSS", "grace keeps the badge");
        assert_eq!(t.get(base, None).await.json()["status"], "grace");
        assert_eq!(reminders(&t).await, 1, "grace notice (skipped stages stamped)");
        assert_eq!(reminders(&t).await, 0);
        t.clock.set(Timestamp(new_expires.0 + 14 * DAY_MS));
        assert_eq!(t.get(base, None).await.json()["status"], "expired");
        assert_eq!(badge_message(&t).await, "not sponsored");
        let r = t.get("/api/v1/repositories/fluentorg/fluent-bit", None).await;
        assert_eq!(r.json()["sponsored"], false);
        assert!(r.json()["sponsored_until"].is_null());
        let r = t.json("POST", &format!("{base}/renew"), Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("apply again"), "{}", r.body);

        // The audit log records who, when, what and why.
        let r = t.server_fn("audit_log", Some(&staff), &[("namespace", "fluentorg")]).await;
        let actions: Vec<String> = r.json().as_array().into_iter().flatten()
            .filter_map(|e| e["action"].as_str().map(String::from)).collect();
        for a in ["submitted", "changes_requested", "resubmitted", "approved", "renewal_submitted", "reminder_sent"] {
            assert!(actions.iter().any(|x| x == a), "audit lacks {a}: {actions:?}");
        }
        let r = t.server_fn("audit_log", Some(&bobby), &[("namespace", "fluentorg")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    async fn application_refusals(db: Db) {
        let t = test_app(db);
        let alice = user(&t, "alice", false).await;
        let bobby = user(&t, "bobby", false).await;
        org_with_repo(&t, &alice, "fluentorg", "fluent-bit").await;
        let url = "/api/v1/namespaces/fluentorg/program/applications";

        // Not an owner.
        let r = t.json("POST", url, Some(&bobby), form()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.json("POST", url, None, form()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // License that does not parse; a non-OSI license; a missing attestation.
        for (license, needle) in [("MIT OR", "not a valid SPDX"), ("BUSL-1.1", "BUSL-1.1"), ("MIT OR SSPL-1.0", "SSPL-1.0")] {
            let mut f = form();
            f["license"] = json!(license);
            let r = t.json("POST", url, Some(&alice), f).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{license}");
            assert!(r.body.contains(needle), "{license}: {}", r.body);
            let checks = &r.json()["error"]["details"]["checks"];
            assert_eq!(checks[1]["id"], "osi_license");
            assert_eq!(checks[1]["passed"], false);
        }
        let mut f = form();
        f["attest_noncommercial"] = json!(false);
        let r = t.json("POST", url, Some(&alice), f).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("commercialization"), "{}", r.body);
        let mut f = form();
        f["website"] = json!("not a url");
        let r = t.json("POST", url, Some(&alice), f).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["error"]["field"], "website");
        // Personal namespaces are not sponsored; unknown namespaces are 404.
        let r = t.json("POST", "/api/v1/namespaces/alice/program/applications", Some(&alice), form()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.json("POST", "/api/v1/namespaces/nosuchorg/program/applications", Some(&alice), form()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // A namespace without public repositories is refused.
        t.json("POST", "/api/v1/orgs", Some(&alice), json!({"name": "secretorg"})).await;
        t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "secretorg", "name": "hidden", "is_private": true})).await;
        let r = t.json("POST", "/api/v1/namespaces/secretorg/program/applications", Some(&alice), form()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("no public repository"), "{}", r.body);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM program_applications").await, 0, "nothing half-written");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log").await, 0);
        // Renewing without a membership.
        let r = t.json("POST", "/api/v1/namespaces/fluentorg/program/renew", Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    }

    async fn stale_activity_needs_override_reason(db: Db) {
        let t = test_app(db);
        let alice = user(&t, "alice", false).await;
        let staff = user(&t, "reviewer", true).await;
        org_with_repo(&t, &alice, "oldorg", "legacy").await;
        t.clock.set(T0.plus_days(200));
        let r = t.json("POST", "/api/v1/namespaces/oldorg/program/applications", Some(&alice), form()).await;
        assert_eq!(r.status, StatusCode::CREATED, "activity does not block submission: {}", r.body);
        assert_eq!(r.json()["checklist"][2]["passed"], false);
        let id = r.json()["id"].as_i64().expect("id");
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff),
            json!({"reason": "Stable project; maintained, rarely released."})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.server_fn("audit_log", Some(&staff), &[("namespace", "oldorg")]).await;
        assert!(r.body.contains("approved_with_override") && r.body.contains("rarely released"), "{}", r.body);
    }

    async fn search_ranks_sponsored_first_and_filters(db: Db) {
        let t = test_app(db);
        let alice = user(&t, "alice", false).await;
        let staff = user(&t, "reviewer", true).await;
        org_with_repo(&t, &alice, "zzsponsored", "logger").await;
        org_with_repo(&t, &alice, "aaplain", "logger").await;
        let r = t.json("POST", "/api/v1/namespaces/zzsponsored/program/applications", Some(&alice), form()).await;
        let id = r.json()["id"].as_i64().expect("id");
        t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;

        let r = t.server_fn("search", None, &[("q", "logger")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let names: Vec<String> = r.json()["results"].as_array().into_iter().flatten()
            .map(|h| format!("{}/{}", h["namespace"].as_str().unwrap_or(""), h["name"].as_str().unwrap_or(""))).collect();
        assert_eq!(names, vec!["zzsponsored/logger", "aaplain/logger"]);
        let r = t.server_fn("search", None, &[("q", "logger"), ("open_source_only", "true")]).await;
        assert_eq!(r.json()["total"], 1);
        assert_eq!(r.json()["results"][0]["sponsored"], true);
        // The page itself, with the filter in the URL (both spellings).
        for url in ["/search?q=logger&image_filter=open_source", "/search?q=logger&badges=open_source"] {
            let r = t.get(url, None).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.body.contains("zzsponsored/logger") && !r.body.contains("aaplain/logger"), "{url}");
            assert!(r.body.contains("Sponsored OSS"));
        }
        // Wildcards in the query are literal.
        let r = t.server_fn("search", None, &[("q", "%")]).await;
        assert_eq!(r.json()["total"], 0);
    }

    async fn badge_caching_and_refusals(db: Db) {
        let t = test_app(db);
        let alice = user(&t, "alice", false).await;
        org_with_repo(&t, &alice, "fluentorg", "fluent-bit").await;
        let r = t.get("/badge/fluentorg/fluent-bit.svg", None).await;
        let etag = r.headers["etag"].to_str().unwrap_or("").to_string();
        assert!(etag.starts_with('"'));
        let again = t.send(axum::http::Request::get("/badge/fluentorg/fluent-bit.svg")
            .header("if-none-match", &etag).body(axum::body::Body::empty()).expect("req")).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        let j = t.get("/badge/fluentorg/fluent-bit.json", None).await;
        assert_eq!(j.json()["schemaVersion"], 1);
        assert_eq!(j.json()["label"], "iEchor");
        assert!(j.json()["color"].is_string());
        t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "fluentorg", "name": "secret", "is_private": true})).await;
        for url in ["/badge/fluentorg/secret.svg", "/badge/fluentorg/nope.svg", "/badge/nosuch/repo.json", "/badge/fluentorg/fluent-bit.png"] {
            assert_eq!(t.get(url, None).await.status, StatusCode::NOT_FOUND, "{url}");
        }
    }

    async fn scout_quota_and_rights(db: Db) {
        let t = test_app(db);
        let alice = user(&t, "alice", false).await;
        let bobby = user(&t, "bobby", false).await;
        org_with_repo(&t, &alice, "plainorg", "one").await;
        t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "plainorg", "name": "two"})).await;
        let on = json!({"enabled": true});
        let r = t.json("PUT", "/api/v1/repositories/plainorg/one/scout", Some(&alice), on.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["limit"], 1);
        let r = t.json("PUT", "/api/v1/repositories/plainorg/two/scout", Some(&alice), on.clone()).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("1 of 1"), "{}", r.body);
        // Someone else's repository: 403 (public) or 404 (private).
        let r = t.json("PUT", "/api/v1/repositories/plainorg/two/scout", Some(&bobby), on.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "plainorg", "name": "hidden", "is_private": true})).await;
        let r = t.json("PUT", "/api/v1/repositories/plainorg/hidden/scout", Some(&bobby), on.clone()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.json("PUT", "/api/v1/repositories/plainorg/two/scout", Some(&alice), json!({"enabled": "yes"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // Disabling frees the slot.
        let r = t.json("PUT", "/api/v1/repositories/plainorg/one/scout", Some(&alice), json!({"enabled": false})).await;
        assert_eq!(r.json()["enabled_in_namespace"], 0);
        let r = t.json("PUT", "/api/v1/repositories/plainorg/two/scout", Some(&alice), on).await;
        assert_eq!(r.status, StatusCode::OK);
    }

    async fn scout_concurrent_enables_at_the_limit(db: Db) {
        let t = test_app(db.clone());
        let alice = user(&t, "alice", false).await;
        let staff = user(&t, "reviewer", true).await;
        org_with_repo(&t, &alice, "bigorg", "repo0").await;
        let r = t.json("POST", "/api/v1/namespaces/bigorg/program/applications", Some(&alice), form()).await;
        let id = r.json()["id"].as_i64().expect("id");
        let r = t.json("POST", &format!("/api/v1/program/applications/{id}/approve"), Some(&staff), json!({})).await;
        assert_eq!(r.status, StatusCode::OK);
        // 101 repositories, 99 of them already enabled.
        let mut tx = db.begin().await.expect("tx");
        let ns = app::core::access::namespace_by_name(&mut tx, "bigorg").await.expect("q").expect("ns");
        for i in 1..=100 {
            let rid = app::core::catalog::insert_repo(&mut tx, ns.id(), &format!("repo{i}"), "", false, T0).await.expect("repo");
            if i < 100 {
                app::scout::store::set(&mut tx, rid, true).await.expect("scout");
            }
        }
        tx.commit().await.expect("commit");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM repositories WHERE scout_enabled = TRUE").await, 99);
        let on = json!({"enabled": true});
        let (a, b) = tokio::join!(
            t.json("PUT", "/api/v1/repositories/bigorg/repo0/scout", Some(&alice), on.clone()),
            t.json("PUT", "/api/v1/repositories/bigorg/repo100/scout", Some(&alice), on.clone()),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
        let refused = if a.status == StatusCode::CONFLICT { &a } else { &b };
        assert!(refused.body.contains("100 of 100"), "{}", refused.body);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM repositories WHERE scout_enabled = TRUE").await, 100);
    }

    async fn demo_program_states(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, T0).await.expect("seed");
        for (ns, status) in [("fluentorg", "active"), ("openlens", "renewal_due")] {
            let r = t.get(&format!("/api/v1/namespaces/{ns}/program"), None).await;
            assert_eq!(r.json()["status"], status, "{ns}");
        }
        let r = t.server_fn("sign_in", None, &[("name", "reviewer"), ("password", server::demo::DEMO_PASSWORD)]).await;
        let c = r.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("hub_session=")).unwrap_or("").split(';').next().unwrap_or("").to_string();
        let r = t.get("/api/v1/program/queue", Some(&format!("cookie:{c}"))).await;
        assert_eq!(r.json()["submitted"][0]["namespace"], "tinyproj");
        let r = t.get("/u/openlens", None).await;
        assert!(r.body.contains("renew-banner"), "renewal-due banner on the namespace page");
    }
}
