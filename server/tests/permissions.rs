//! Who may do what, table-driven over anonymous / outsider / member without a
//! grant / read team / write team / admin team / owner, on a private and a
//! public repository, on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{TestApp, test_app, user_with_token};
use serde_json::json;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const WHO: [&str; 7] = [
    "anonymous",
    "outsider",
    "member",
    "reader",
    "writer",
    "admin",
    "owner",
];

async fn setup(t: &TestApp) -> Vec<Option<String>> {
    let owner = user_with_token(t, "owner", false).await;
    let staff = user_with_token(t, "reviewer", true).await;
    let mut tokens = vec![None];
    for name in ["outsider", "member", "reader", "writer", "admin"] {
        tokens.push(Some(user_with_token(t, name, false).await));
    }
    tokens.push(Some(owner.clone()));
    let o = Some(owner.as_str());
    t.json("POST", "/api/v1/orgs", o, json!({"name": "permorg"}))
        .await;
    for (repo, private) in [("secret", true), ("open", false)] {
        t.json(
            "POST",
            "/api/v1/repositories",
            o,
            json!({"namespace": "permorg", "name": repo, "is_private": private}),
        )
        .await;
        t.json(
            "PUT",
            &format!("/api/v1/repositories/permorg/{repo}/tags/1.0"),
            o,
            json!({"digest": DIGEST}),
        )
        .await;
    }
    for (team, member, rights) in [
        ("nogrant", "member", None),
        ("readers", "reader", Some("read")),
        ("writers", "writer", Some("write")),
        ("admins", "admin", Some("admin")),
    ] {
        t.json(
            "POST",
            "/api/v1/orgs/permorg/teams",
            o,
            json!({"name": team}),
        )
        .await;
        t.json(
            "PUT",
            &format!("/api/v1/orgs/permorg/teams/{team}/members/{member}"),
            o,
            json!({}),
        )
        .await;
        if let Some(r) = rights {
            for repo in ["secret", "open"] {
                let res = t
                    .json(
                        "PUT",
                        &format!("/api/v1/orgs/permorg/teams/{team}/repositories/{repo}"),
                        o,
                        json!({"rights": r}),
                    )
                    .await;
                assert_eq!(res.status.as_u16(), 204);
            }
        }
    }
    // Sponsored, so repository logos are allowed at all.
    let r = t.json("POST", "/api/v1/namespaces/permorg/program/applications", o, json!({
        "project_name": "Perm", "website": "https://perm.example.org", "source_url": "https://github.com/perm/perm",
        "license": "MIT", "description": "A project for permission tests", "attest_public": true, "attest_osd": true, "attest_noncommercial": true
    })).await;
    let id = r.json()["id"].as_i64().expect("application");
    t.json(
        "POST",
        &format!("/api/v1/program/applications/{id}/approve"),
        Some(&staff),
        json!({}),
    )
    .await;
    tokens
}

async fn status(
    t: &TestApp,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Body,
    content_type: &str,
) -> u16 {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type);
    if let Some(a) = auth {
        b = b.header("authorization", format!("Bearer {a}"));
    }
    t.send(b.body(body).expect("request")).await.status.as_u16()
}

app::both_backends! {
    async fn rights_table(db: Db) {
        let t = test_app(db);
        let tokens = setup(&t).await;
        let png = app::logo::fixtures::png(150, 150);
        // (action, repository, expected status for each of WHO)
        let table: [(&str, &str, [u16; 7]); 8] = [
            ("read", "secret", [404, 404, 404, 200, 200, 200, 200]),
            ("read", "open", [200, 200, 200, 200, 200, 200, 200]),
            ("tag", "secret", [401, 404, 404, 403, 200, 200, 200]),
            ("tag", "open", [401, 403, 403, 403, 200, 200, 200]),
            ("scout", "secret", [401, 404, 404, 403, 403, 200, 200]),
            ("scout", "open", [401, 403, 403, 403, 403, 200, 200]),
            ("logo", "secret", [401, 404, 404, 403, 403, 200, 200]),
            ("logo", "open", [401, 403, 403, 403, 403, 200, 200]),
        ];
        for (action, repo, expected) in table {
            for (i, who) in WHO.iter().enumerate() {
                let auth = tokens[i].as_deref();
                let base = format!("/api/v1/repositories/permorg/{repo}");
                let got = match action {
                    "read" => status(&t, "GET", &base, auth, Body::empty(), "application/json").await,
                    "tag" => status(&t, "PUT", &format!("{base}/tags/v{i}"), auth, Body::from(json!({"digest": DIGEST}).to_string()), "application/json").await,
                    "scout" => status(&t, "PUT", &format!("{base}/scout"), auth, Body::from(json!({"enabled": true}).to_string()), "application/json").await,
                    _ => status(&t, "PUT", &format!("{base}/logo"), auth, Body::from(png.clone()), "image/png").await,
                };
                assert_eq!(got, expected[i], "{action} on {repo} as {who}");
            }
        }
        // Managing the organization: owners only (an admin team is not an owner).
        for (i, who) in WHO.iter().enumerate() {
            let got = status(&t, "POST", "/api/v1/orgs/permorg/teams", tokens[i].as_deref(),
                Body::from(json!({"name": format!("team{i}")}).to_string()), "application/json").await;
            let want = match *who { "anonymous" => 401, "owner" => 201, _ => 403 };
            assert_eq!(got, want, "create team as {who}");
        }
    }
}
