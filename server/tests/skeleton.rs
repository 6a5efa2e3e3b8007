//! The walking skeleton through the router: health, a server function, the
//! error shape, and the server-rendered page.

mod common;

use axum::http::StatusCode;
use common::test_app;

app::both_backends! {
    async fn healthz_reports_ok(db: Db) {
        let t = test_app(db);
        let r = t.get("/healthz", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["status"], "ok");
    }

    async fn hub_stats_server_fn_reads_the_database(db: Db) {
        let t = test_app(db.clone());
        let r = t.server_fn("hub_stats", None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["namespaces"], 0);
        server::demo::seed(&db, common::T0).await.expect("seed");
        let r = t.server_fn("hub_stats", None, &[]).await;
        assert!(r.json()["namespaces"].as_i64().unwrap_or(0) >= 2, "{}", r.body);
    }

    async fn name_availability_answers_invalid_taken_or_available(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, common::T0).await.expect("seed");
        for (name, verdict) in [("fluentorg", "taken"), ("alice", "taken"), ("freename1", "available"), ("AB", "invalid")] {
            let r = t.server_fn("name_available", None, &[("name", name)]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.json()["verdict"], verdict, "{name}: {}", r.body);
        }
        let r = t.server_fn("name_available", None, &[("name", "AB")]).await;
        assert!(r.json()["message"].as_str().unwrap_or("").contains("lowercase"), "{}", r.body);
    }

    async fn unknown_server_fn_is_a_clear_400(db: Db) {
        let t = test_app(db);
        let r = t.server_fn("no_such_function", None, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }

    async fn home_page_is_server_rendered(db: Db) {
        let t = test_app(db);
        let r = t.get("/", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Sponsored Open Source program"), "{}", r.body);
        assert!(r.body.contains("hub-stats"));
        let r = t.get("/definitely/not/here", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    async fn missing_and_hidden_pages_answer_404(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, common::T0).await.expect("seed");
        for path in ["/u/doesnotexist", "/r/fluentorg/nope", "/r/fluentorg/fluent-benchmark"] {
            let r = t.get(path, None).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert!(r.body.contains("not found"), "{path}: still a page that says so");
        }
        for path in ["/u/fluentorg", "/r/fluentorg/fluent-bit"] {
            assert_eq!(t.get(path, None).await.status, StatusCode::OK, "{path}");
        }
    }
}
