//! The signed-in home and repository overviews through the router, on SQLite
//! and PostgreSQL. The home: each
//! namespace with its program status, the review queue for staff, nothing
//! for anonymous visitors.

mod common;

use axum::http::StatusCode;
use common::{TestApp, test_app};

async fn demo_session(t: &TestApp, name: &str) -> String {
    let r = t
        .server_fn(
            "sign_in",
            None,
            &[("name", name), ("password", "demo-password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "sign_in {name}: {}", r.body);
    let c = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hub_session="))
        .expect("session cookie");
    format!("cookie:{}", c.split(';').next().unwrap_or(""))
}

app::both_backends! {
    async fn home_lists_namespaces_with_their_program_status(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, common::T0).await.expect("seed");
        let r = t.server_fn("my_home", None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.json().is_null(), "anonymous: {}", r.body);

        let carol = demo_session(&t, "carol").await;
        let r = t.server_fn("my_home", Some(&carol), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let home = r.json();
        assert_eq!(home["user"], "carol");
        assert!(home["review_waiting"].is_null());
        let names: Vec<&str> = home["namespaces"].as_array().expect("list").iter().filter_map(|n| n["name"].as_str()).collect();
        // Personal namespace first, then organizations by name.
        assert_eq!(names, ["carol", "acmecorp", "openlens"], "{}", r.body);
        let openlens = &home["namespaces"][2];
        assert_eq!(openlens["membership"]["status"], "renewal_due", "{}", r.body);
        assert_eq!(openlens["repositories"], 2);
        assert!(home["namespaces"][1]["membership"].is_null());

        let reviewer = demo_session(&t, "reviewer").await;
        let r = t.server_fn("my_home", Some(&reviewer), &[]).await;
        assert_eq!(r.json()["review_waiting"], 1, "{}", r.body);

        // bobby's tinyproj shows its application waiting for review.
        let bobby = demo_session(&t, "bobby").await;
        let r = t.server_fn("my_home", Some(&bobby), &[]).await;
        let tiny = r.json()["namespaces"].as_array().expect("list").iter().find(|n| n["name"] == "tinyproj").cloned().expect("tinyproj");
        assert_eq!(tiny["open_application"][0], "submitted", "{}", r.body);
    }
}

app::both_backends! {
    async fn overviews_are_sanitized_checked_and_need_write(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, common::T0).await.expect("seed");
        let alice = demo_session(&t, "alice").await;
        let md = "# Fluent Bit\n\nRun it: `docker run fluent/fluent-bit`\n\n<script>alert(1)</script>";
        let r = t.server_fn("set_overview", Some(&alice), &[("namespace", "fluentorg"), ("name", "fluent-bit"), ("overview", md)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let html = r.json()["overview_html"].as_str().unwrap_or("").to_string();
        assert!(html.contains("<h1>Fluent Bit</h1>") && html.contains("<code>docker run fluent/fluent-bit</code>"), "{html}");
        assert!(!html.contains("script"), "{html}");
        // Everyone reads it, rendered on the server.
        let page = t.get("/r/fluentorg/fluent-bit", None).await;
        assert!(page.body.contains("<h1>Fluent Bit</h1>"), "page lacks the overview");
        // Too long: 422 on the field, nothing stored.
        let long = "a".repeat(app::repo::OVERVIEW_MAX + 1);
        let r = t.server_fn("set_overview", Some(&alice), &[("namespace", "fluentorg"), ("name", "fluent-bit"), ("overview", &long)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], "overview");
        let r = t.server_fn("get_repository", None, &[("namespace", "fluentorg"), ("name", "fluent-bit")]).await;
        assert_eq!(r.json()["overview"], md);
        // carol has no rights on fluentorg's repositories.
        let carol = demo_session(&t, "carol").await;
        let r = t.server_fn("set_overview", Some(&carol), &[("namespace", "fluentorg"), ("name", "fluent-bit"), ("overview", "mine now")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
}
