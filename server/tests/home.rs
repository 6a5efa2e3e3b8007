//! The signed-in home through the router, on SQLite and PostgreSQL: each
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
