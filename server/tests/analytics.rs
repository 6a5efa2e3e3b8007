//! Insights and analytics on SQLite and PostgreSQL: ingestion (the shared
//! write path, NDJSON and JSON arrays, Distribution envelopes), rollups equal
//! to the raw events for random spans, retries counted once, bad batches that
//! store nothing, the access rules, exports that match the dashboard, and
//! retention.

mod common;

use app::analytics::synthetic::{self, Target};
use app::core::events::{PullEvent, ingest};
use app::domain::Timestamp;
use app::domain::clock::{Clock, DAY_MS};
use app::domain::ids::{NamespaceId, RepoId};
use app::domain::pulls::{day_of_millis, format_day};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Resp, TestApp, test_app, user_with_token};
use rand::{Rng, SeedableRng};
use serde_json::json;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

struct Hub {
    t: TestApp,
    alice: String,
    ingest: String,
    staff: String,
    bob: String,
    ns: NamespaceId,
    repos: Vec<RepoId>,
}

async fn ingest_token(t: &TestApp, user: &str) -> String {
    let mut tx = t.state.db.begin().await.expect("tx");
    let id = app::core::access::load_user(&mut tx, user)
        .await
        .expect("user");
    tx.commit().await.expect("commit");
    let caller = app::core::caller::Caller::acting_as(app::core::caller::AuthUser {
        id,
        name: user.into(),
        is_staff: false,
    });
    app::account::api::create_token(&t.state, &caller, "ingest", "ingest", None)
        .await
        .expect("token")
        .secret
}

/// alice owns the sponsored org `fluentorg` with two repositories.
async fn hub(db: app::db::Db) -> Hub {
    let t = test_app(db);
    let alice = user_with_token(&t, "alice", false).await;
    let staff = user_with_token(&t, "reviewer", true).await;
    let bob = user_with_token(&t, "bobby", false).await;
    let r = t
        .json(
            "POST",
            "/api/v1/orgs",
            Some(&alice),
            json!({"name": "fluentorg"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut repos = Vec::new();
    for name in ["fluent-bit", "fluentd"] {
        let r = t
            .json(
                "POST",
                "/api/v1/repositories",
                Some(&alice),
                json!({"namespace": "fluentorg", "name": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM repositories WHERE name = $1")
            .bind(name)
            .fetch_one(&t.state.db.pool)
            .await
            .expect("repo id");
        repos.push(RepoId(id));
    }
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
    let id = r.json()["id"].as_i64().expect("application id");
    let r = t
        .json(
            "POST",
            &format!("/api/v1/program/applications/{id}/approve"),
            Some(&staff),
            json!({"reason": "Active upstream project."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ns: (i64,) = sqlx::query_as("SELECT id FROM namespaces WHERE name = 'fluentorg'")
        .fetch_one(&t.state.db.pool)
        .await
        .expect("ns");
    let ingest = ingest_token(&t, "alice").await;
    Hub {
        t,
        alice,
        ingest,
        staff,
        bob,
        ns: NamespaceId(ns.0),
        repos,
    }
}

fn targets(h: &Hub) -> Vec<Target> {
    h.repos
        .iter()
        .map(|r| Target {
            namespace: h.ns,
            repository: *r,
            tags: vec![
                ("latest".into(), D1.into()),
                ("1.0".into(), D1.into()),
                ("0.9".into(), D2.into()),
            ],
        })
        .collect()
}

async fn post(
    t: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: String,
) -> Resp {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, content_type);
    if let Some(tok) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    t.send(b.body(Body::from(body)).expect("request")).await
}

fn line(id: &str, repo: &str, ts: Timestamp, action: &str) -> String {
    let (method, tag) = match action {
        "version_check" => ("HEAD", r#""tag":"latest","#),
        "pull_by_digest" => ("GET", ""),
        _ => ("GET", r#""tag":"latest","#),
    };
    format!(
        r#"{{"id":"{id}","timestamp":"{}","namespace":"fluentorg","repository":"{repo}","reference":"latest",{tag}"digest":"{D1}","action":"{action}","http_method":"{method}","country":"DE","host":"aws","user_agent":"containerd/1.7.22","authenticated":true,"ip":"192.0.2.{}"}}"#,
        ts.rfc3339(),
        id.len()
    )
}

async fn scalar(t: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&t.state.db.pool)
        .await
        .expect(sql);
    n
}

async fn raw_count(t: &TestApp) -> i64 {
    scalar(t, "SELECT COUNT(*) FROM pull_events").await
}

app::both_backends! {
    async fn rollups_equal_the_raw_events_for_random_spans(db: Db) {
        let h = hub(db).await;
        let now = h.t.clock.now();
        let mut events = synthetic::events(&targets(&h), now, 90, 60, 11);
        // Half come with sender ids, as the API's do.
        for (i, e) in events.iter_mut().enumerate().filter(|(i, _)| i % 2 == 0) {
            e.source_id = Some(format!("ev-{i}"));
        }
        let total = events.len() as i64;
        for chunk in events.chunks(1500) {
            let r = ingest(&h.t.state.db, &h.t.state.geo, chunk).await.expect("ingest");
            assert_eq!(r.stored, chunk.len());
        }
        // A retried batch is counted once.
        let with_ids: Vec<PullEvent> = events.iter().filter(|e| e.source_id.is_some()).take(500).cloned().collect();
        let r = ingest(&h.t.state.db, &h.t.state.geo, &with_ids).await.expect("retry");
        assert_eq!((r.stored, r.duplicates), (0, 500));
        assert_eq!(raw_count(&h.t).await, total);
        // Every rollup equals the raw counts, for random spans and each action.
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let today = day_of_millis(now.0);
        for _ in 0..12 {
            let a = rng.random_range(today - 95..=today);
            let b = rng.random_range(a..=today);
            for action in ["pull_by_tag", "pull_by_digest", "version_check"] {
                let raw = scalar(&h.t, &format!(
                    "SELECT COUNT(*) FROM pull_events WHERE action = '{action}' AND at >= {} AND at < {}",
                    a * DAY_MS, (b + 1) * DAY_MS)).await;
                for table in ["pull_rollups", "pull_daily"] {
                    let rolled = scalar(&h.t, &format!(
                        "SELECT CAST(COALESCE(SUM(pulls), 0) AS BIGINT) FROM {table} WHERE action = '{action}' AND day BETWEEN {a} AND {b}")).await;
                    assert_eq!(rolled, raw, "{table} {action} {a}..{b}");
                }
                for dim in ["country", "host", "tool"] {
                    let rolled = scalar(&h.t, &format!(
                        "SELECT CAST(COALESCE(SUM(pulls), 0) AS BIGINT) FROM pull_breakdowns WHERE dimension = '{dim}' AND action = '{action}' AND day BETWEEN {a} AND {b}")).await;
                    assert_eq!(rolled, raw, "{dim} {action} {a}..{b}");
                }
            }
            // The JSON API's totals are the raw counts too.
            let r = h.t.get(&format!("/api/v1/namespaces/fluentorg/pulls?from={}&to={}&group_by=country&granularity=week",
                format_day(a), format_day(b)), Some(&h.alice)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let raw = scalar(&h.t, &format!("SELECT COUNT(*) FROM pull_events WHERE at >= {} AND at < {}", a * DAY_MS, (b + 1) * DAY_MS)).await;
            let t = &r.json()["totals"];
            let sum = t["pulls_by_tag"].as_i64().unwrap_or(-1) + t["pulls_by_digest"].as_i64().unwrap_or(-1) + t["version_checks"].as_i64().unwrap_or(-1);
            assert_eq!(sum, raw, "API totals {a}..{b}");
            let points: i64 = r.json()["points"].as_array().expect("points").iter()
                .map(|p| p["pulls_by_tag"].as_i64().unwrap_or(0) + p["pulls_by_digest"].as_i64().unwrap_or(0) + p["version_checks"].as_i64().unwrap_or(0))
                .sum();
            assert_eq!(points, raw, "API points {a}..{b}");
        }
        // Lifetime pull counts are GETs; raw rows never hold an address.
        let gets = scalar(&h.t, "SELECT COUNT(*) FROM pull_events WHERE http_method = 'GET'").await;
        assert_eq!(scalar(&h.t, "SELECT CAST(SUM(pull_count) AS BIGINT) FROM repositories").await, gets);
        assert!(scalar(&h.t, "SELECT COUNT(*) FROM pull_uniques").await > 0);
        assert!(scalar(&h.t, "SELECT COUNT(*) FROM pull_events WHERE tool = 'docker'").await > 0);
    }

    async fn the_events_api_takes_ndjson_arrays_and_distribution_envelopes(db: Db) {
        let h = hub(db).await;
        let now = h.t.clock.now();
        let body = [
            line("a1", "fluent-bit", now.plus_millis(-1000), "pull_by_tag"),
            line("a2", "fluent-bit", now.plus_millis(-900), "version_check"),
            line("a3", "fluentd", now.plus_millis(-800), "pull_by_digest"),
        ]
        .join("\n");
        let r = post(&h.t, "/api/v1/events", Some(&h.ingest), "application/x-ndjson", body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!((r.json()["stored"].as_i64(), r.json()["duplicates"].as_i64()), (Some(3), Some(0)));
        // The same batch again (a sender's retry) is counted once.
        let r = post(&h.t, "/api/v1/events", Some(&h.ingest), "application/x-ndjson", body).await;
        assert_eq!((r.json()["stored"].as_i64(), r.json()["duplicates"].as_i64()), (Some(0), Some(3)));
        // An event is its id and its timestamp (docs/API.md): a retry resends
        // both; the same id at another time is another event.
        let again = line("a1", "fluent-bit", now.plus_millis(-60_000), "pull_by_tag");
        let r = post(&h.t, "/api/v1/events", Some(&h.ingest), "application/x-ndjson", again).await;
        assert_eq!((r.json()["stored"].as_i64(), r.json()["duplicates"].as_i64()), (Some(1), Some(0)), "{}", r.body);
        let arr = format!("[{}]", line("b1", "fluentd", now.plus_millis(-10), "pull_by_tag"));
        let r = post(&h.t, "/api/v1/events", Some(&h.ingest), "application/json", arr).await;
        assert_eq!(r.json()["stored"].as_i64(), Some(1), "{}", r.body);
        assert_eq!(raw_count(&h.t).await, 5);
        let row: (String, String, String, String) = sqlx::query_as(
            "SELECT country, host, tool, tool_version FROM pull_events WHERE source_id = 'a1'")
            .fetch_one(&h.t.state.db.pool).await.expect("row");
        assert_eq!(row, ("DE".into(), "aws".into(), "containerd".into(), "1.7.22".into()));
        // A Distribution registry's notifications: manifest GET and HEAD count,
        // a blob fetch does not, an unknown repository is skipped.
        let env = json!({"events": [
            {"id": "d-1", "timestamp": now.plus_millis(-5).rfc3339(), "action": "pull",
             "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D2, "repository": "fluentorg/fluentd", "tag": "1.0"},
             "request": {"addr": "198.51.100.7:4444", "method": "GET", "useragent": "docker/27.3.1 go/go1.22.7"}, "actor": {"name": "ci"}},
            {"id": "d-2", "timestamp": now.plus_millis(-4).rfc3339(), "action": "pull",
             "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D2, "repository": "fluentorg/fluentd", "tag": "1.0"},
             "request": {"addr": "198.51.100.7:4444", "method": "HEAD", "useragent": "containerd/1.7.22"}},
            {"id": "d-3", "timestamp": now.plus_millis(-3).rfc3339(), "action": "pull",
             "target": {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2, "repository": "fluentorg/fluentd"},
             "request": {"addr": "198.51.100.7:4444", "method": "GET"}},
            {"id": "d-4", "timestamp": now.plus_millis(-2).rfc3339(), "action": "pull",
             "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D2, "repository": "elsewhere/thing", "tag": "1"},
             "request": {"addr": "198.51.100.7:4444", "method": "GET"}}
        ]});
        let r = post(&h.t, "/api/v1/events/distribution", Some(&h.ingest),
            "application/vnd.docker.distribution.events.v1+json", env.to_string()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json(), json!({"received": 4, "stored": 2, "duplicates": 0, "not_pulls": 1, "skipped": 1}));
        assert_eq!(scalar(&h.t, "SELECT COUNT(*) FROM pull_events WHERE action = 'version_check'").await, 2);
        assert_eq!(raw_count(&h.t).await, 7);
    }

    async fn bad_batches_are_refused_whole_with_the_right_status(db: Db) {
        let h = hub(db).await;
        let now = h.t.clock.now();
        let good = line("g1", "fluent-bit", now, "pull_by_tag");
        let cases: Vec<(String, &str, Option<&str>, StatusCode, &str)> = vec![
            (format!("{good}\n{{oops"), "application/x-ndjson", Some(&h.ingest), StatusCode::UNPROCESSABLE_ENTITY, "Line 2:"),
            (format!("{good}\n{}", line("g2", "fluent-bit", now, "pull_by_tag").replace("pull_by_tag", "pull_everything")), "application/x-ndjson", Some(&h.ingest), StatusCode::UNPROCESSABLE_ENTITY, "is not an action"),
            (format!("{good}\n{}", line("g3", "fluent-bit", now.plus_days(2), "pull_by_tag")), "application/x-ndjson", Some(&h.ingest), StatusCode::UNPROCESSABLE_ENTITY, "in the future"),
            (format!("{good}\n{}", line("g4", "nope", now, "pull_by_tag")), "application/x-ndjson", Some(&h.ingest), StatusCode::UNPROCESSABLE_ENTITY, "no repository “fluentorg/nope”"),
            (good.clone(), "text/plain", Some(&h.ingest), StatusCode::UNSUPPORTED_MEDIA_TYPE, "NDJSON"),
            (good.clone(), "application/x-ndjson", Some(&h.alice), StatusCode::FORBIDDEN, "ingest"),
            (good.clone(), "application/x-ndjson", None, StatusCode::UNAUTHORIZED, ""),
            ((0..10_001).map(|i| line(&format!("n{i}"), "fluent-bit", now, "pull_by_tag")).collect::<Vec<_>>().join("\n"),
                "application/x-ndjson", Some(&h.ingest), StatusCode::PAYLOAD_TOO_LARGE, "at most 10000 events"),
            ("x".repeat(9 * 1024 * 1024), "application/x-ndjson", Some(&h.ingest), StatusCode::PAYLOAD_TOO_LARGE, "bytes"),
        ];
        for (body, ct, token, status, want) in cases {
            let r = post(&h.t, "/api/v1/events", token, ct, body).await;
            assert_eq!(r.status, status, "{want}: {}", r.body);
            assert!(r.body.contains(want), "{want}: {}", r.body);
            assert_eq!(raw_count(&h.t).await, 0, "nothing stored after “{want}”");
        }
        // Another publisher's ingest token cannot send fluentorg's events.
        let bobs = ingest_token(&h.t, "bobby").await;
        let r = post(&h.t, "/api/v1/events", Some(&bobs), "application/x-ndjson", good.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.body.contains("does not own “fluentorg”"), "{}", r.body);
        // An ingest token does nothing else.
        let r = h.t.get("/api/v1/namespaces/fluentorg/pulls", Some(&h.ingest)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = h.t.json("POST", "/api/v1/repositories", Some(&h.ingest), json!({"namespace": "fluentorg", "name": "newrepo"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(raw_count(&h.t).await, 0);
        let _ = &h.staff;
    }

    async fn only_members_of_sponsored_namespaces_see_insights(db: Db) {
        let h = hub(db).await;
        let events = synthetic::events(&targets(&h), h.t.clock.now(), 10, 30, 3);
        ingest(&h.t.state.db, &h.t.state.geo, &events).await.expect("ingest");
        let path = "/api/v1/namespaces/fluentorg/pulls?span=30d";
        assert_eq!(h.t.get(path, Some(&h.alice)).await.status, StatusCode::OK);
        let r = h.t.get(path, Some(&h.bob)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("members only"), "{}", r.body);
        assert_eq!(h.t.get(path, None).await.status, StatusCode::UNAUTHORIZED);
        let r = h.t.get("/api/v1/namespaces/fluentorg/pulls/export?view=raw&span=7d", Some(&h.bob)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "exports of another namespace");
        // A namespace that was never sponsored.
        let r = h.t.get("/api/v1/namespaces/alice/pulls", Some(&h.alice)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("not sponsored"), "{}", r.body);
        // Spans that make no sense.
        for (q, want) in [("from=2025-12-20&to=2025-12-01", "before it starts"), ("from=2020-01-01", "longest is"),
                          ("span=3w", "not a time span"), ("granularity=hour", "granularity"), ("group_by=planet", "cannot group")] {
            let r = h.t.get(&format!("/api/v1/namespaces/fluentorg/pulls?{q}"), Some(&h.alice)).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {}", r.body);
            assert!(r.body.contains(want), "{q}: {}", r.body);
        }
        let r = h.t.get("/api/v1/namespaces/fluentorg/repositories/nope/pulls", Some(&h.alice)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // After the term and the grace period: the perk lapsed, the data is kept.
        h.t.clock.set(Timestamp(h.t.clock.now().0 + 500 * DAY_MS));
        let r = h.t.get(path, Some(&h.alice)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("ended on") && r.body.contains("renew"), "{}", r.body);
        assert!(raw_count(&h.t).await > 0);
    }

    async fn the_dashboard_draws_the_busiest_tags_and_sums_the_rest(db: Db) {
        let h = hub(db).await;
        let many: Vec<Target> = h.repos.iter().map(|r| Target {
            namespace: h.ns,
            repository: *r,
            tags: (0..10).map(|i| (format!("1.{i}"), format!("sha256:{:064x}", r.0 * 100 + i))).collect(),
        }).collect();
        let events = synthetic::events(&many, h.t.clock.now(), 20, 200, 4);
        ingest(&h.t.state.db, &h.t.state.geo, &events).await.expect("ingest");
        let r = h.t.server_fn("insights", Some(&h.alice), &[("namespace", "fluentorg"), ("span", "30d")]).await;
        let d: app::analytics::Insights = serde_json::from_str(&r.body).expect("insights");
        // 2 repositories × 10 tags (+ pulls by digest): the 12 busiest and one "everything else".
        assert_eq!(d.by_tag.keys.len(), 13, "{:?}", d.by_tag.keys);
        assert!(d.by_tag.keys.iter().any(|k| k == app::analytics::OTHER_KEY));
        assert_eq!(d.by_digest.keys.len(), 13);
        assert_eq!(d.totals().total() as i64, raw_count(&h.t).await);
        let digest_total: u64 = d.by_digest.cells.iter().map(|c| c.3).sum();
        assert_eq!(digest_total as i64, raw_count(&h.t).await);
    }

    async fn exports_match_the_dashboard_and_retention_keeps_rollups(db: Db) {
        let h = hub(db).await;
        let now = h.t.clock.now();
        let events = synthetic::events(&targets(&h), now, 40, 40, 9);
        ingest(&h.t.state.db, &h.t.state.geo, &events).await.expect("ingest");
        let (from, to) = (format_day(day_of_millis(now.0) - 29), format_day(day_of_millis(now.0)));
        // The dashboard's numbers (the server function the page calls).
        let r = h.t.server_fn("insights", Some(&h.alice), &[("namespace", "fluentorg"), ("span", "30d")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let d: app::analytics::Insights = serde_json::from_str(&r.body).expect("insights");
        assert_eq!(d.gate, app::analytics::Gate::Open);
        let totals = d.totals();
        assert!(totals.total() > 0);
        // Summary: per day × repository; its columns add up to the dashboard's totals.
        let r = h.t.get(&format!("/api/v1/namespaces/fluentorg/pulls/export?view=summary&from={from}&to={to}"), Some(&h.alice)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert!(r.headers[header::CONTENT_DISPOSITION].to_str().unwrap_or("")
            .contains(&format!("fluentorg-pulls-summary-{from}_{to}.csv")));
        let mut lines = r.body.lines();
        assert_eq!(lines.next(), Some("period_start,period_end,namespace,repository,unique_ips,pulls_by_tag,pulls_by_digest,version_checks"));
        let (mut t, mut dg, mut v) = (0u64, 0u64, 0u64);
        for l in lines {
            let f: Vec<&str> = l.split(',').collect();
            t += f[5].parse::<u64>().expect("n");
            dg += f[6].parse::<u64>().expect("n");
            v += f[7].parse::<u64>().expect("n");
        }
        assert_eq!((t, dg, v), (totals.pulls_by_tag, totals.pulls_by_digest, totals.version_checks));
        let r = h.t.get(&format!("/api/v1/namespaces/fluentorg/pulls/export?view=summary&level=tag&granularity=month&from={from}&to={to}"), Some(&h.alice)).await;
        assert!(r.body.starts_with("period_start,period_end,namespace,repository,tag,unique_ips,"), "{}", r.body);
        // Raw: one row per event in the span, Docker's columns.
        let r = h.t.get(&format!("/api/v1/namespaces/fluentorg/pulls/export?view=raw&from={from}&to={to}"), Some(&h.alice)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut lines = r.body.lines();
        assert_eq!(lines.next(), Some("timestamp,action_day,namespace,repository,reference,tag,digest,action,http_method,country,host,user_agent_tool,user_agent_version"));
        assert_eq!(lines.count() as u64, totals.total());
        let r = h.t.get("/api/v1/namespaces/fluentorg/pulls/export?view=xml", Some(&h.alice)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Retention: raw events past it go, rollups stay; the raw export refuses that span.
        h.t.clock.set(Timestamp(now.0 + 380 * DAY_MS));
        let before = raw_count(&h.t).await;
        let deleted = app::analytics::jobs::prune(&h.t.state).await.expect("prune");
        assert!(deleted > 0 && (deleted as i64) < before, "{deleted} of {before}");
        let rolled = scalar(&h.t, "SELECT CAST(SUM(pulls) AS BIGINT) FROM pull_daily").await;
        assert_eq!(rolled, events.len() as i64, "rollups are kept");
        let r = h.t.get(&format!("/api/v1/namespaces/fluentorg/pulls/export?view=raw&from={from}&to={to}"), Some(&h.alice)).await;
        assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::FORBIDDEN, "{}", r.body);
    }
}

type Cells = std::collections::BTreeMap<(i64, i64, String, String), i64>;

/// The dashboard's busiest-`k` series recomputed from the raw events: keys
/// ranked by pulls (then key, then repository), their daily series per
/// action, and the rest summed per day and action under repository 0.
async fn top_from_raw(t: &TestApp, a: i64, b: i64, column: &str, k: usize) -> Cells {
    let span = format!("at >= {} AND at < {}", a * DAY_MS, (b + 1) * DAY_MS);
    let mut ranked: Vec<(i64, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT repository_id, COALESCE({column}, '') AS k, COUNT(*) FROM pull_events WHERE {span} GROUP BY repository_id, k"
    )))
    .fetch_all(&t.state.db.pool)
    .await
    .expect("ranking");
    ranked.sort_by(|x, y| {
        y.2.cmp(&x.2)
            .then_with(|| x.1.cmp(&y.1))
            .then_with(|| x.0.cmp(&y.0))
    });
    let all = ranked.len() <= k;
    let top: std::collections::HashSet<(i64, String)> =
        ranked.into_iter().take(k).map(|r| (r.0, r.1)).collect();
    let rows: Vec<(i64, i64, String, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT repository_id, at / {DAY_MS} AS d, COALESCE({column}, '') AS k, action, COUNT(*) FROM pull_events
         WHERE {span} GROUP BY repository_id, d, k, action"
    )))
    .fetch_all(&t.state.db.pool)
    .await
    .expect("series");
    let mut out = Cells::new();
    for (repo, day, key, action, n) in rows {
        if top.contains(&(repo, key.clone())) {
            *out.entry((repo, day, key, action)).or_default() += n;
        } else if !all {
            *out.entry((0, day, String::new(), action)).or_default() += n;
        }
    }
    out
}

fn cells(rows: Vec<app::analytics::store::DayRow>) -> Cells {
    let mut out = Cells::new();
    for r in rows {
        *out.entry((r.repository_id, r.day, r.key, r.action.as_str().to_string()))
            .or_default() += r.pulls;
    }
    out.retain(|_, n| *n != 0);
    out
}

app::both_backends! {
    async fn namespace_rollups_answer_as_the_raw_events_do(db: Db) {
        use app::analytics::store::{self, Scope};
        use app::domain::pulls::{GroupBy, Span};
        let h = hub(db).await;
        let now = h.t.clock.now();
        let events = synthetic::events(&targets(&h), now, 60, 40, 17);
        for chunk in events.chunks(700) {
            ingest(&h.t.state.db, &h.t.state.geo, chunk).await.expect("ingest");
        }
        let repos: Vec<i64> = h.repos.iter().map(|r| r.0).collect();
        let whole = Scope::Namespace { id: h.ns.0, repositories: repos.clone(), all: true };
        let some = Scope::Namespace { id: h.ns.0, repositories: repos.clone(), all: false };
        let first = Scope::Namespace { id: h.ns.0, repositories: vec![repos[0]], all: false };
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let today = day_of_millis(now.0);
        // Random spans, so whole weeks and edge days of every shape occur.
        for i in 0..10 {
            let a = rng.random_range(today - 62..=today);
            let b = if i == 0 { today } else { rng.random_range(a..=today) };
            let span = Span { from: a, to: b };
            for (by, column) in [(GroupBy::Tag, "tag"), (GroupBy::Digest, "digest")] {
                // The ranking's totals (whole weeks plus edge days) are exact.
                let raw: Vec<(i64, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT repository_id, COALESCE({column}, '') AS k, COUNT(*) FROM pull_events
                     WHERE at >= {} AND at < {} GROUP BY repository_id, k", a * DAY_MS, (b + 1) * DAY_MS)))
                    .fetch_all(&h.t.state.db.pool).await.expect("raw totals");
                let raw: std::collections::HashMap<(i64, String), i64> =
                    raw.into_iter().map(|(r, k, n)| ((r, k), n)).collect();
                let mut tx = h.t.state.db.begin().await.expect("tx");
                let mut totals = store::key_totals(&mut tx, h.ns.0, &repos, true, span, column).await.expect("totals");
                tx.commit().await.expect("commit");
                totals.retain(|_, n| *n != 0);
                assert_eq!(totals, raw, "key totals, {column}, {a}..{b}");
                for k in [3, 100] {
                    let oracle = top_from_raw(&h.t, a, b, column, k).await;
                    let mut tx = h.t.state.db.begin().await.expect("tx");
                    let w = store::daily_top(&mut tx, &whole, span, by, k).await.expect("whole");
                    let s = store::daily_top(&mut tx, &some, span, by, k).await.expect("some");
                    tx.commit().await.expect("commit");
                    assert_eq!(cells(w), oracle, "namespace rollups, {column}, k={k}, {a}..{b}");
                    assert_eq!(cells(s), oracle, "per-repository rollups, {column}, k={k}, {a}..{b}");
                }
            }
            // Breakdowns and unique addresses: the namespace's rows equal the
            // per-repository ones summed, and one repository's are its own.
            let mut tx = h.t.state.db.begin().await.expect("tx");
            let sum = |rows: Vec<store::BreakdownRow>| {
                let mut m: std::collections::BTreeMap<_, i64> = std::collections::BTreeMap::new();
                for r in rows {
                    *m.entry((r.dimension, r.value, r.action.as_str().to_string())).or_default() += r.pulls;
                }
                m
            };
            let w = sum(store::breakdowns(&mut tx, &whole, span).await.expect("b"));
            let s = sum(store::breakdowns(&mut tx, &some, span).await.expect("b"));
            assert_eq!(w, s, "breakdowns {a}..{b}");
            let raw_countries = scalar(&h.t, &format!(
                "SELECT COUNT(*) FROM pull_events WHERE at >= {} AND at < {}", a * DAY_MS, (b + 1) * DAY_MS)).await;
            let countries: i64 = w.iter().filter(|(k, _)| k.0 == "country").map(|(_, n)| *n).sum();
            assert_eq!(countries, raw_countries, "breakdown totals {a}..{b}");
            let addresses = |rows: Vec<store::UniqueRow>| rows.iter().map(|u| u.addresses).sum::<i64>();
            let w = addresses(store::uniques(&mut tx, &whole, span, None).await.expect("u"));
            let f = addresses(store::uniques(&mut tx, &first, span, None).await.expect("u"));
            let r0 = addresses(store::uniques(&mut tx, &Scope::Repository(repos[0]), span, None).await.expect("u"));
            tx.commit().await.expect("commit");
            let distinct = scalar(&h.t, &format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM (SELECT COUNT(DISTINCT ip_hash) AS n FROM pull_uniques
                 WHERE day BETWEEN {a} AND {b} GROUP BY repository_id, day) AS x")).await;
            assert_eq!(w, distinct, "unique addresses {a}..{b}");
            assert_eq!(f, r0, "one repository's unique addresses {a}..{b}");
        }
    }
}
