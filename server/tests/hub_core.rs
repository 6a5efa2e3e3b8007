//! Hub core through the HTTP router, on SQLite and PostgreSQL: accounts,
//! organizations, teams, grants, repositories, tags, and the refusals.

mod common;

use axum::http::StatusCode;
use common::{TestApp, session_of, test_app};
use serde_json::json;

const PW: &str = "s3cret-password";
const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Signs up through the server function and returns `cookie:<session>`.
async fn sign_up(t: &TestApp, name: &str) -> String {
    let r = t
        .server_fn("sign_up", None, &[("name", name), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "sign_up {name}: {}", r.body);
    session_of(&r)
}

async fn count(t: &TestApp, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&t.state.db.pool)
        .await
        .expect("count");
    n
}

async fn token(t: &TestApp, auth: &str, scope: &str, days: &str) -> String {
    let r = t
        .server_fn(
            "create_token",
            Some(auth),
            &[("name", "ci"), ("scope", scope), ("expires_in_days", days)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.json()["secret"].as_str().unwrap_or("").to_string();
    assert!(secret.starts_with("hubpat_"), "{secret}");
    secret
}

app::both_backends! {
    async fn full_flow_sign_up_to_tag(db: Db) {
        let t = test_app(db);
        let alice = sign_up(&t, "alice").await;
        let bobby = sign_up(&t, "bobby").await;

        // Sign in again with the password; a new session works.
        let r = t.server_fn("sign_in", None, &[("name", "alice"), ("password", PW)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let alice2 = session_of(&r);
        let r = t.server_fn("whoami", Some(&alice2), &[]).await;
        assert_eq!(r.json()["name"], "alice");

        // Create an organization, a team, a repository.
        let r = t.json("POST", "/api/v1/orgs", Some(&alice), json!({"name": "fluentorg"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = t.json("POST", "/api/v1/orgs/fluentorg/teams", Some(&alice), json!({"name": "maintainers"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = t.json("POST", "/api/v1/repositories", Some(&alice), json!({
            "namespace": "fluentorg", "name": "fluent-bit", "description": "Logs", "is_private": true
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["is_private"], true);

        // Bobby cannot see the private repository yet: 404, not 403.
        let r = t.get("/api/v1/repositories/fluentorg/fluent-bit", Some(&bobby)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

        // Add bobby to the team, grant write; he can now push a tag.
        let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/maintainers/members/bobby", Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/maintainers/repositories/fluent-bit", Some(&alice), json!({"rights": "write"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = t.json("PUT", "/api/v1/repositories/fluentorg/fluent-bit/tags/4.0.3", Some(&bobby), json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // The repository shows the tag; the namespace counts two members.
        let r = t.get("/api/v1/repositories/fluentorg/fluent-bit", Some(&bobby)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let j = r.json();
        assert_eq!(j["tags"][0]["name"], "4.0.3");
        assert_eq!(j["tags"][0]["digest"], DIGEST);
        assert_eq!(j["namespace"], "fluentorg");
        for key in ["pull_count", "sponsored", "logo_url", "description", "is_private"] {
            assert!(j.get(key).is_some(), "missing {key}");
        }
        let r = t.get("/api/v1/namespaces/fluentorg", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["kind"], "org");
        assert_eq!(r.json()["members_count"], 2);
        // Anonymous sees no private repositories in the listing.
        assert_eq!(r.json()["repositories"].as_array().map(|a| a.len()), Some(0));
        let r = t.get("/api/v1/namespaces/alice", None).await;
        assert_eq!(r.json()["kind"], "user");

        // The same through server functions.
        let r = t.server_fn("create_repository", Some(&alice), &[
            ("namespace", "fluentorg"), ("name", "fluentd"), ("description", ""),
        ]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.server_fn("get_namespace", None, &[("name", "fluentorg")]).await;
        assert_eq!(r.json()["repositories"][0]["name"], "fluentd");
        let r = t.server_fn("list_teams", Some(&alice), &[("org", "fluentorg")]).await;
        assert_eq!(r.json()[0]["members"][0], "bobby");
        assert_eq!(r.json()[0]["grants"][0]["rights"], "write");

        // Sign out ends the session.
        let r = t.server_fn("sign_out", Some(&alice2), &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = t.server_fn("whoami", Some(&alice2), &[]).await;
        assert_eq!(r.body, "null");
    }

    async fn bad_names_and_duplicates(db: Db) {
        let t = test_app(db);
        let alice = sign_up(&t, "alice").await;
        let users = count(&t, "users").await;
        let namespaces = count(&t, "namespaces").await;

        for (name, code) in [("AB", 422), ("abc", 422), ("has-dash", 422), ("alice", 409)] {
            let r = t.json("POST", "/api/v1/orgs", Some(&alice), json!({"name": name})).await;
            assert_eq!(r.status.as_u16(), code, "{name}: {}", r.body);
            assert!(!r.json()["error"]["message"].as_str().unwrap_or("").is_empty());
        }
        let r = t.server_fn("sign_up", None, &[("name", "alice"), ("password", PW)]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(r.error_code(), "conflict");
        let r = t.server_fn("sign_up", None, &[("name", "newbie"), ("password", "short")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], "password");
        assert_eq!(count(&t, "users").await, users, "no partial user");
        assert_eq!(count(&t, "namespaces").await, namespaces, "no partial namespace");

        let r = t.json("POST", "/api/v1/orgs", Some(&alice), json!({"name": "acmecorp"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = t.json("POST", "/api/v1/orgs", Some(&alice), json!({"name": "acmecorp"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);

        for (name, code) in [("A", 422), ("-web", 422), ("web..app", 422), ("web", 201), ("web", 409)] {
            let r = t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "acmecorp", "name": name})).await;
            assert_eq!(r.status.as_u16(), code, "{name}: {}", r.body);
        }
        let r = t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "nosuchns", "name": "web"})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.get("/api/v1/namespaces/nosuchns", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "not_found");
        let r = t.get("/api/v1/repositories/acmecorp/nothere", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // Bad tags and digests.
        for (tag, digest, code) in [
            ("latest", "sha256:abc", 422),
            ("-bad", DIGEST, 422),
            ("latest", "md5:00", 422),
        ] {
            let r = t.json("PUT", &format!("/api/v1/repositories/acmecorp/web/tags/{tag}"), Some(&alice), json!({"digest": digest})).await;
            assert_eq!(r.status.as_u16(), code, "{tag} {digest}: {}", r.body);
        }
        assert_eq!(count(&t, "tags").await, 0);

        // Malformed bodies: 400 with the JSON error shape.
        let r = t.send(axum::http::Request::post("/api/v1/orgs")
            .header("content-type", "application/json")
            .header("sec-fetch-site", "same-origin")
            .header("cookie", alice.trim_start_matches("cookie:"))
            .body(axum::body::Body::from("{not json")).expect("req")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.error_code(), "bad_request");
        let r = t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "acmecorp"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "missing name: {}", r.body);
        let r = t.get("/api/v1/no/such/endpoint", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "not_found");
    }

    async fn forbidden_variants(db: Db) {
        let t = test_app(db);
        let alice = sign_up(&t, "alice").await;
        let bobby = sign_up(&t, "bobby").await;
        let carol = sign_up(&t, "carol").await;
        t.json("POST", "/api/v1/orgs", Some(&alice), json!({"name": "fluentorg"})).await;
        t.json("POST", "/api/v1/orgs/fluentorg/teams", Some(&alice), json!({"name": "readers"})).await;
        t.json("POST", "/api/v1/repositories", Some(&alice), json!({"namespace": "fluentorg", "name": "web"})).await;
        t.json("PUT", "/api/v1/orgs/fluentorg/teams/readers/members/bobby", Some(&alice), json!({})).await;
        let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/readers/repositories/web", Some(&alice), json!({"rights": "read"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);

        // Anonymous: 401 on every write.
        let r = t.json("POST", "/api/v1/orgs", None, json!({"name": "anonorg"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.error_code(), "unauthenticated");
        let r = t.json("PUT", "/api/v1/repositories/fluentorg/web/tags/latest", None, json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);

        // A read-only member cannot push tags.
        let r = t.json("PUT", "/api/v1/repositories/fluentorg/web/tags/latest", Some(&bobby), json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.json()["error"]["message"].as_str().unwrap_or("").contains("write"));
        // An outsider cannot push tags to a public repository either.
        let r = t.json("PUT", "/api/v1/repositories/fluentorg/web/tags/latest", Some(&carol), json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(count(&t, "tags").await, 0);

        // Non-owners cannot manage teams, members, grants or create repositories.
        for (who, label) in [(&bobby, "member"), (&carol, "outsider")] {
            let r = t.json("POST", "/api/v1/orgs/fluentorg/teams", Some(who), json!({"name": "mine"})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}: {}", r.body);
            let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/readers/members/carol", Some(who), json!({})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");
            let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/readers/repositories/web", Some(who), json!({"rights": "admin"})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");
            let r = t.json("POST", "/api/v1/repositories", Some(who), json!({"namespace": "fluentorg", "name": "mine"})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");
            let r = t.server_fn("list_teams", Some(who), &[("org", "fluentorg")]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}: {}", r.body);
        }
        assert_eq!(count(&t, "teams").await, 1);
        assert_eq!(count(&t, "team_members").await, 1);
        assert_eq!(count(&t, "repositories").await, 1);
        // Bad grant values and unknown team/user/repo.
        let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/readers/repositories/web", Some(&alice), json!({"rights": "owner"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/nosuch/members/carol", Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.json("PUT", "/api/v1/orgs/fluentorg/teams/readers/members/nosuchuser", Some(&alice), json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.json("POST", "/api/v1/orgs/alice/teams", Some(&alice), json!({"name": "team"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "personal namespace has no teams");
    }

    async fn tokens_scopes_expiry_and_revocation(db: Db) {
        let t = test_app(db);
        let alice = sign_up(&t, "alice").await;
        let write = token(&t, &alice, "write", "").await;
        let read = token(&t, &alice, "read", "").await;
        let short = token(&t, &alice, "admin", "1").await;

        let r = t.json("POST", "/api/v1/orgs", Some(&write), json!({"name": "tokenorg"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = t.json("POST", "/api/v1/repositories", Some(&write), json!({"namespace": "tokenorg", "name": "app"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = t.json("PUT", "/api/v1/repositories/tokenorg/app/tags/v1", Some(&write), json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // A read token reads but cannot write.
        let r = t.get("/api/v1/repositories/tokenorg/app", Some(&read)).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = t.json("PUT", "/api/v1/repositories/tokenorg/app/tags/v2", Some(&read), json!({"digest": DIGEST})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = t.json("POST", "/api/v1/orgs", Some(&read), json!({"name": "readorg"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A write token cannot manage tokens.
        let r = t.server_fn("list_tokens", Some(&write), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // Expired: move the clock two days.
        let r = t.get("/api/v1/repositories/tokenorg/app", Some(&short)).await;
        assert_eq!(r.status, StatusCode::OK);
        t.clock.advance_days(2);
        let r = t.get("/api/v1/repositories/tokenorg/app", Some(&short)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["error"]["message"].as_str().unwrap_or("").contains("expired"), "{}", r.body);

        // Revoked.
        let r = t.server_fn("list_tokens", Some(&alice), &[]).await;
        let tokens = r.json();
        assert_eq!(tokens.as_array().map(|a| a.len()), Some(3));
        let write_id = tokens.as_array().into_iter().flatten()
            .find(|x| x["scope"] == "write").map(|x| x["id"].to_string()).unwrap_or_default();
        assert!(tokens.as_array().into_iter().flatten().any(|x| !x["last_used_at"].is_null()));
        let r = t.server_fn("revoke_token", Some(&alice), &[("id", &write_id)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.get("/api/v1/repositories/tokenorg/app", Some(&write)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["error"]["message"].as_str().unwrap_or("").contains("revoked"), "{}", r.body);
        // Unknown and malformed tokens.
        let r = t.get("/api/v1/repositories/tokenorg/app", Some("hubpat_nope")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = t.send(axum::http::Request::get("/api/v1/namespaces/alice")
            .header("authorization", "Basic YTpi").body(axum::body::Body::empty()).expect("req")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // Revoking someone else's / unknown token: 404.
        let r = t.server_fn("revoke_token", Some(&alice), &[("id", "99999")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Bad token input.
        let r = t.server_fn("create_token", Some(&alice), &[("name", ""), ("scope", "write"), ("expires_in_days", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.server_fn("create_token", Some(&alice), &[("name", "x"), ("scope", "root"), ("expires_in_days", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn passwords_and_sign_in_throttle(db: Db) {
        let t = test_app(db);
        let alice = sign_up(&t, "alice").await;
        let r = t.server_fn("sign_in", None, &[("name", "alice"), ("password", "wrong-password")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = t.server_fn("sign_in", None, &[("name", "nobody"), ("password", "wrong-password")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);

        // Change password: the old one stops working.
        let r = t.server_fn("change_password", Some(&alice), &[("current_password", "nope-nope"), ("new_password", "another-password")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.server_fn("change_password", Some(&alice), &[("current_password", PW), ("new_password", "another-password")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.server_fn("sign_in", None, &[("name", "alice"), ("password", PW)]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = t.server_fn("sign_in", None, &[("name", "alice"), ("password", "another-password")]).await;
        assert_eq!(r.status, StatusCode::OK);

        // Throttle: after the burst, even the right password is refused with 429.
        let mut last = StatusCode::OK;
        for _ in 0..12 {
            last = t.server_fn("sign_in", None, &[("name", "alice"), ("password", "wrong-password")]).await.status;
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
        let r = t.server_fn("sign_in", None, &[("name", "alice"), ("password", "another-password")]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.error_code(), "rate_limited");
    }

    async fn demo_seed_and_pages(db: Db) {
        let t = test_app(db.clone());
        assert!(server::demo::seed(&db, common::T0).await.expect("seed"));
        assert!(!server::demo::seed(&db, common::T0).await.expect("second seed is a no-op"));
        assert!(count(&t, "repositories").await >= 12);
        let r = t.server_fn("sign_in", None, &[("name", "alice"), ("password", server::demo::DEMO_PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::OK);
        let alice = session_of(&r);
        for (path, needle) in [
            ("/u/fluentorg", "fluent-bit"),
            ("/r/fluentorg/fluent-bit", "4.0.3"),
            ("/signin", "Sign in"),
            ("/signup", "Create your account"),
        ] {
            let r = t.get(path, None).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert!(r.body.contains(needle), "{path} lacks {needle}");
        }
        // Private repositories are not rendered for anonymous visitors.
        let r = t.get("/u/fluentorg", None).await;
        assert!(!r.body.contains("fluent-benchmark"));
        let r = t.get("/u/fluentorg", Some(&alice)).await;
        assert!(r.body.contains("fluent-benchmark"));
        let r = t.get("/r/fluentorg/fluent-benchmark", None).await;
        assert!(r.body.contains("Repository not found"));
    }
}
