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
    common::session_of(&r)
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

app::both_backends! {
    async fn search_counts_filters_and_pages_in_the_database(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, common::T0).await.expect("seed");
        // 5,100 public repositories in an unsponsored organization and 30 in
        // the sponsored fluentorg, all matching "bulk" (more than the old
        // 5,000-row cap).
        let mut tx = db.begin().await.expect("tx");
        let owner = app::account::store::insert_user(&mut tx, "bulkowner", "x", false, common::T0).await.expect("user");
        let mass = app::org::store::insert_org(&mut tx, "massorg", owner, common::T0).await.expect("org");
        for i in 0..5_100 {
            app::core::catalog::insert_repo(&mut tx, mass, &format!("bulk-{i:04}"), "a bulk repository", false, common::T0).await.expect("repo");
        }
        let (fluent,): (i64,) = sqlx::query_as("SELECT id FROM namespaces WHERE name = 'fluentorg'").fetch_one(&mut *tx).await.expect("ns");
        for i in 0..30 {
            app::core::catalog::insert_repo(&mut tx, app::domain::ids::NamespaceId(fluent), &format!("bulk-s{i:02}"), "sponsored bulk", false, common::T0).await.expect("repo");
        }
        tx.commit().await.expect("commit");

        let r = t.server_fn("search", None, &[("q", "bulk")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let j = r.json();
        assert_eq!(j["total"], 5_130, "{}", &r.body[..200.min(r.body.len())]);
        assert_eq!(j["pages"], 257);
        // Equal relevance: sponsored first.
        assert_eq!(j["results"][0]["namespace"], "fluentorg");
        assert_eq!(j["results"][0]["sponsored"], true);
        // The last page holds the remainder; a page past the end shows the last.
        let r = t.server_fn("search", None, &[("q", "bulk"), ("page", "257")]).await;
        assert_eq!(r.json()["results"].as_array().map(Vec::len), Some(10));
        let r = t.server_fn("search", None, &[("q", "bulk"), ("page", "999")]).await;
        assert_eq!(r.json()["page"], 257);
        assert_eq!(r.json()["results"].as_array().map(Vec::len), Some(10));
        // The Sponsored OSS filter applies in the query: right total, right pages.
        let r = t.server_fn("search", None, &[("q", "bulk"), ("open_source_only", "true"), ("page", "2")]).await;
        let j = r.json();
        assert_eq!(j["total"], 30, "{}", r.body);
        assert_eq!(j["pages"], 2);
        assert_eq!(j["results"].as_array().map(Vec::len), Some(10));
        assert!(j["results"].as_array().expect("list").iter().all(|h| h["sponsored"] == true));
        // An exact name comes first.
        let r = t.server_fn("search", None, &[("q", "bulk-4242")]).await;
        assert_eq!(r.json()["results"][0]["name"], "bulk-4242", "{}", r.body);
    }
}

app::both_backends! {
    async fn search_orders_hits_by_the_ranking_rule(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, common::T0).await.expect("seed");
        let mut tx = db.begin().await.expect("tx");
        let owner = app::account::store::insert_user(&mut tx, "rankowner", "x", false, common::T0).await.expect("user");
        let org = app::org::store::insert_org(&mut tx, "rankorg", owner, common::T0).await.expect("org");
        for (name, desc) in [("tools", "ships logs to Fluent Bit"), ("my-fluent-helper", "helps fluent users"), ("fluent", "the exact name")] {
            app::core::catalog::insert_repo(&mut tx, org, name, desc, false, common::T0).await.expect("repo");
        }
        tx.commit().await.expect("commit");
        let r = t.server_fn("search", None, &[("q", "fluent")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let hits: Vec<app::domain::RepoSummary> = serde_json::from_value(r.json()["results"].clone()).expect("results");
        let full = |h: &[app::domain::RepoSummary]| h.iter().map(|h| format!("{}/{}", h.namespace, h.name)).collect::<Vec<_>>();
        // The database orders as the rule in `search::rank` does.
        let mut ranked = hits.clone();
        app::search::rank("fluent", &mut ranked);
        assert_eq!(full(&hits), full(&ranked));
        // The exact name first, then the sponsored organization's repositories
        // by pulls (fluent-operator's description naming Fluent Bit does not
        // lift it over the far more pulled fluent-bit), then the rest.
        let order = full(&hits);
        assert_eq!(order[0], "rankorg/fluent", "{order:?}");
        assert_eq!(order[1], "fluentorg/fluent-bit", "{order:?}");
        let sponsored: Vec<i64> = hits.iter().filter(|h| h.namespace == "fluentorg").map(|h| h.pull_count).collect();
        assert!(sponsored.windows(2).all(|w| w[0] >= w[1]), "{sponsored:?}");
        assert_eq!(order.last().map(String::as_str), Some("rankorg/tools"), "{order:?}");
    }
}

app::both_backends! {
    async fn search_through_the_index_finds_what_a_scan_finds(db: Db) {
        let t = test_app(db.clone());
        server::demo::seed(&db, common::T0).await.expect("seed");
        let mut tx = db.begin().await.expect("tx");
        let owner = app::account::store::insert_user(&mut tx, "idxowner", "x", false, common::T0).await.expect("user");
        let ns = app::org::store::insert_org(&mut tx, "indexorg", owner, common::T0).await.expect("org");
        let repos = [
            ("speedy", "50% faster than before", false),
            ("percent", "has x%y inside", false),
            ("quote", "it's fine", false),
            ("quoted", "say \"quoted\" words", false),
            ("bindings", "C++ Bindings for the Logger", false),
            ("gruss", "grüße aus köln", false),
            ("under_score", "snake_case names", false),
            ("hidden-logger", "a private logger", true),
            ("mixed", "Mixed CASE Description", false),
            ("slashed", "see indexorg/speedy for the fast one", false),
        ];
        for (name, description, private) in repos {
            app::core::catalog::insert_repo(&mut tx, ns, name, description, private, common::T0).await.expect("repo");
        }
        tx.commit().await.expect("commit");
        // A description changed later is found by its new words only.
        sqlx::query("UPDATE repositories SET description = 'renamed words now' WHERE name = 'speedy'")
            .execute(&db.pool).await.expect("update");

        // The oracle: every public repository whose name, description or
        // namespace contains the query, ignoring ASCII case.
        let all: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT r.name, r.description, n.name FROM repositories r JOIN namespaces n ON n.id = r.namespace_id WHERE r.is_private = FALSE",
        )
        .fetch_all(&db.pool).await.expect("all");
        for q in [
            "logger", "LOGGER", "bindings for", "x%y", "50%", "renamed", "faster", "it's", "\"quoted\"",
            "c++", "grü", "köln", "e_c", "_", "%", "ed", "indexorg", "dexo", "mixed case", "nothing-like-this",
            "\"", "'; DROP TABLE repositories; --", "a*b", "NEAR(x y)", "fluent",
            // A '/' makes the ranking compare full names ("ns/name").
            "indexorg/speedy", "g/s",
        ] {
            let needle = q.to_ascii_lowercase();
            let mut want: Vec<String> = all
                .iter()
                .filter(|(name, description, ns)| {
                    [name, description, ns].iter().any(|s| s.to_ascii_lowercase().contains(&needle))
                })
                .map(|(name, _, ns)| format!("{ns}/{name}"))
                .collect();
            want.sort();
            let r = t.server_fn("search", None, &[("q", q)]).await;
            assert_eq!(r.status, StatusCode::OK, "{q:?}: {}", r.body);
            let j = r.json();
            assert_eq!(j["total"], want.len(), "{q:?}: want {want:?}, got {}", r.body);
            if want.len() <= 10 {
                let mut got: Vec<String> = j["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .map(|h| format!("{}/{}", h["namespace"].as_str().unwrap_or(""), h["name"].as_str().unwrap_or("")))
                    .collect();
                got.sort();
                assert_eq!(got, want, "{q:?}");
            }
        }
    }
}
