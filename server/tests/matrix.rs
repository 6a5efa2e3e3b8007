//! The authorization matrix: every server function and every REST route,
//! called as anonymous, outsider, member without a grant, read, write, admin,
//! owner and staff, on a public and on a private repository, on SQLite and
//! PostgreSQL. The table below must name every registered server function and
//! route: a new endpoint without a row fails this test, so none ships
//! unchecked. "Allowed" means the rights check let the call through (the
//! answer may still be a business refusal such as 409 or 422, never 5xx);
//! "refused" is the exact status: 401 anonymous, 403 not allowed, 404 for a
//! private repository the caller cannot read. The operator's endpoints
//! (`/healthz`, `/readyz`, `/metrics`) have rows too.

mod common;

use app::domain::clock::Clock;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Resp, TestApp, test_app, user_with_token};
use serde_json::json;
use std::collections::BTreeSet;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Outsider,
    Member,
    Reader,
    Writer,
    Admin,
    Owner,
    Staff,
}

const EVERYONE: [Who; 8] = [
    Who::Anonymous,
    Who::Outsider,
    Who::Member,
    Who::Reader,
    Who::Writer,
    Who::Admin,
    Who::Owner,
    Who::Staff,
];

impl Who {
    fn name(self) -> &'static str {
        match self {
            Who::Anonymous => "anon",
            Who::Outsider => "outsider",
            Who::Member => "member",
            Who::Reader => "reader",
            Who::Writer => "writer",
            Who::Admin => "adminu",
            Who::Owner => "olivia",
            Who::Staff => "staffer",
        }
    }
    /// Rank on the repositories through teams (owner: admin).
    fn repo_rights(self) -> u8 {
        match self {
            Who::Reader => 1,
            Who::Writer => 2,
            Who::Admin | Who::Owner => 3,
            _ => 0,
        }
    }
}

/// Who may do it.
#[derive(Clone, Copy, Debug)]
enum Policy {
    /// Everyone, anonymous included.
    Anyone,
    /// Any signed-in user (their own account, or something anyone may create).
    SignedIn,
    /// Owners of the organization.
    Owner,
    /// Program reviewers.
    Staff,
    /// Owners and reviewers.
    OwnerOrStaff,
    /// Read on the repository (public: everyone).
    RepoRead,
    /// Write on the repository.
    RepoWrite,
    /// Admin on the repository.
    RepoAdmin,
    /// Public repositories only, for everyone (badges).
    PublicOnly,
    /// Members of the (sponsored) organization: owners and team members.
    Member,
    /// Members who may read the repository (404 for a private one they cannot).
    MemberRepoRead,
    /// An access token with the `ingest` scope (the matrix's tokens are admin).
    IngestToken,
    /// Registry read: like `RepoRead`, but anonymous callers of a private
    /// repository get the 401 challenge (so clients log in and retry).
    RegistryRead,
    /// The operator's metrics: the metrics token, or a direct loopback
    /// connection. The matrix configures no token and its requests come from
    /// no address, so everyone is refused (403), users' tokens included.
    Operator,
}

/// One endpoint: how to call it, and who may.
struct Row {
    /// `POST /api/<name>` for server functions, or a REST method and path.
    method: Method,
    /// The registered path (with `{placeholders}` for REST).
    route: &'static str,
    /// The path called (`{repo}`, `{who}` and `{app}` are filled in).
    call: &'static str,
    kind: Kind,
    /// The body (`{repo}`, `{who}`, `{app}` filled in).
    body: &'static str,
    policy: Policy,
    /// Called once on the public and once on the private repository.
    per_repo: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Form,
    Json,
    Raw,
    Multipart,
    /// An OCI image manifest naming the prepared blob.
    Manifest,
    None,
}

const fn sf(name: &'static str, body: &'static str, policy: Policy, per_repo: bool) -> Row {
    Row {
        method: Method::POST,
        route: name,
        call: name,
        kind: Kind::Form,
        body,
        policy,
        per_repo,
    }
}

fn rest(
    method: Method,
    route: &'static str,
    call: &'static str,
    kind: Kind,
    body: &'static str,
    policy: Policy,
    per_repo: bool,
) -> Row {
    Row {
        method,
        route,
        call,
        kind,
        body,
        policy,
        per_repo,
    }
}

fn table() -> Vec<Row> {
    use Kind::*;
    use Policy::*;
    let mut t = vec![
        // Accounts
        sf("/api/whoami", "", Anyone, false),
        sf(
            "/api/sign_up",
            "name=new{who}&password=a-long-password",
            Anyone,
            false,
        ),
        sf(
            "/api/sign_in",
            "name=olivia&password=s3cret-password",
            Anyone,
            false,
        ),
        sf("/api/sign_out", "", Anyone, false),
        sf(
            "/api/change_password",
            "current_password=wrong-password&new_password=another-long-one",
            SignedIn,
            false,
        ),
        sf(
            "/api/create_token",
            "name=t{who}&scope=read&expires_in_days=1",
            SignedIn,
            false,
        ),
        sf("/api/list_tokens", "", SignedIn, false),
        sf("/api/revoke_token", "id=999999", SignedIn, false),
        sf("/api/notifications", "", SignedIn, false),
        sf("/api/mark_notifications_read", "", SignedIn, false),
        sf("/api/hub_stats", "", Anyone, false),
        sf("/api/name_available", "name=freename{who}", Anyone, false),
        sf("/api/my_home", "", Anyone, false),
        // Organizations and teams
        sf("/api/create_org", "name=org{who}", SignedIn, false),
        sf("/api/get_namespace", "name=matrixorg", Anyone, false),
        sf("/api/my_namespaces", "", SignedIn, false),
        sf("/api/add_owner", "org=matrixorg&user=olivia", Owner, false),
        sf("/api/list_teams", "org=matrixorg", Owner, false),
        sf(
            "/api/create_team",
            "org=matrixorg&team=t{who}",
            Owner,
            false,
        ),
        sf(
            "/api/delete_team",
            "org=matrixorg&team=t{who}",
            Owner,
            false,
        ),
        sf(
            "/api/add_team_member",
            "org=matrixorg&team=nogrant&user=member",
            Owner,
            false,
        ),
        sf(
            "/api/remove_team_member",
            "org=matrixorg&team=spare&user=outsider",
            Owner,
            false,
        ),
        sf(
            "/api/set_team_grant",
            "org=matrixorg&team=nogrant&repository=pub&rights=none",
            Owner,
            false,
        ),
        // Repositories
        sf(
            "/api/create_repository",
            "namespace=matrixorg&name=r{who}&description=x",
            Owner,
            false,
        ),
        sf(
            "/api/get_repository",
            "namespace=matrixorg&name={repo}",
            RepoRead,
            true,
        ),
        sf(
            "/api/put_tag",
            "namespace=matrixorg&name={repo}&tag=t{who}&digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            RepoWrite,
            true,
        ),
        sf(
            "/api/set_overview",
            "namespace=matrixorg&name={repo}&overview=Hello",
            RepoWrite,
            true,
        ),
        sf(
            "/api/set_scout",
            "namespace=matrixorg&repository={repo}&enabled=false",
            RepoAdmin,
            true,
        ),
        sf("/api/scout_overview", "namespace=matrixorg", Anyone, false),
        // The page shows everyone why they may not see insights; data only to members.
        sf("/api/insights", "namespace=matrixorg", Anyone, false),
        // Logos
        Row {
            method: Method::POST,
            route: "/api/upload_logo",
            call: "/api/upload_logo",
            kind: Multipart,
            body: "",
            policy: RepoAdmin,
            per_repo: true,
        },
        sf(
            "/api/clear_logo",
            "namespace=matrixorg&repository={repo}",
            RepoAdmin,
            true,
        ),
        sf(
            "/api/get_logo",
            "namespace=matrixorg&repository={repo}",
            RepoRead,
            true,
        ),
        // Program
        sf("/api/program_rules", "", Anyone, false),
        sf(
            "/api/program_overview",
            "namespace=matrixorg",
            Anyone,
            false,
        ),
        sf(
            "/api/submit_application",
            "namespace=matrixorg&form[project_name]=M&form[website]=https://m.example.org&form[source_url]=https://github.com/m/m&form[license]=MIT&form[description]=A+matrix+project.&form[attest_public]=true&form[attest_osd]=true&form[attest_noncommercial]=true",
            Owner,
            false,
        ),
        sf("/api/renew_membership", "namespace=matrixorg", Owner, false),
        sf("/api/review_queue", "", Staff, false),
        sf(
            "/api/decide_application",
            "id={app}&decision=request_changes&reason=Please+add+docs",
            Staff,
            false,
        ),
        sf("/api/audit_log", "namespace=matrixorg", OwnerOrStaff, false),
        sf("/api/search", "q=pub", Anyone, false),
    ];
    t.extend([
        rest(Method::POST, "/api/v1/orgs", "/api/v1/orgs", Json, r#"{"name":"rest{who}"}"#, SignedIn, false),
        rest(Method::POST, "/api/v1/orgs/{org}/teams", "/api/v1/orgs/matrixorg/teams", Json, r#"{"name":"r{who}"}"#, Owner, false),
        rest(Method::PUT, "/api/v1/orgs/{org}/teams/{team}/members/{user}", "/api/v1/orgs/matrixorg/teams/spare/members/outsider", None, "", Owner, false),
        rest(Method::DELETE, "/api/v1/orgs/{org}/teams/{team}/members/{user}", "/api/v1/orgs/matrixorg/teams/spare/members/outsider", None, "", Owner, false),
        rest(Method::PUT, "/api/v1/orgs/{org}/teams/{team}/repositories/{repo}", "/api/v1/orgs/matrixorg/teams/spare/repositories/pub", Json, r#"{"rights":"read"}"#, Owner, false),
        rest(Method::GET, "/api/v1/namespaces/{ns}", "/api/v1/namespaces/matrixorg", None, "", Anyone, false),
        rest(Method::POST, "/api/v1/repositories", "/api/v1/repositories", Json, r#"{"namespace":"matrixorg","name":"rr{who}"}"#, Owner, false),
        rest(Method::GET, "/api/v1/repositories/{ns}/{repo}", "/api/v1/repositories/matrixorg/{repo}", None, "", RepoRead, true),
        rest(Method::PUT, "/api/v1/repositories/{ns}/{repo}/tags/{tag}", "/api/v1/repositories/matrixorg/{repo}/tags/r{who}", Json, r#"{"digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}"#, RepoWrite, true),
        rest(Method::PUT, "/api/v1/repositories/{ns}/{repo}/overview", "/api/v1/repositories/matrixorg/{repo}/overview", Json, r##"{"overview":"# Hello"}"##, RepoWrite, true),
        rest(Method::PUT, "/api/v1/repositories/{ns}/{repo}/scout", "/api/v1/repositories/matrixorg/{repo}/scout", Json, r#"{"enabled":false}"#, RepoAdmin, true),
        rest(Method::GET, "/api/v1/namespaces/{ns}/scout", "/api/v1/namespaces/matrixorg/scout", None, "", Anyone, false),
        // Insights
        rest(Method::GET, "/api/v1/namespaces/{ns}/pulls", "/api/v1/namespaces/matrixorg/pulls", None, "", Member, false),
        rest(Method::GET, "/api/v1/namespaces/{ns}/pulls/export", "/api/v1/namespaces/matrixorg/pulls/export?view=raw", None, "", Member, false),
        rest(Method::GET, "/api/v1/namespaces/{ns}/repositories/{repo}/pulls", "/api/v1/namespaces/matrixorg/repositories/{repo}/pulls", None, "", MemberRepoRead, true),
        rest(Method::POST, "/api/v1/events", "/api/v1/events", Raw, "", IngestToken, false),
        rest(Method::POST, "/api/v1/events/distribution", "/api/v1/events/distribution", Raw, "", IngestToken, false),
        rest(Method::PUT, "/api/v1/repositories/{ns}/{repo}/logo", "/api/v1/repositories/matrixorg/{repo}/logo", Raw, "", RepoAdmin, true),
        rest(Method::DELETE, "/api/v1/repositories/{ns}/{repo}/logo", "/api/v1/repositories/matrixorg/{repo}/logo", None, "", RepoAdmin, true),
        rest(Method::PUT, "/api/v1/namespaces/{ns}/logo", "/api/v1/namespaces/matrixorg/logo", Raw, "", Owner, false),
        rest(Method::DELETE, "/api/v1/namespaces/{ns}/logo", "/api/v1/namespaces/matrixorg/logo", None, "", Owner, false),
        rest(Method::GET, "/logos/{file}", "/logos/{logo}", None, "", Anyone, false),
        rest(Method::GET, "/badge/{ns}/{file}", "/badge/matrixorg/{repo}.svg", None, "", PublicOnly, true),
        rest(Method::GET, "/api/v1/namespaces/{ns}/program", "/api/v1/namespaces/matrixorg/program", None, "", Anyone, false),
        rest(Method::POST, "/api/v1/namespaces/{ns}/program/applications", "/api/v1/namespaces/matrixorg/program/applications", Json, r#"{"project_name":"M","website":"https://m.example.org","source_url":"https://github.com/m/m","license":"MIT","description":"A matrix project.","attest_public":true,"attest_osd":true,"attest_noncommercial":true}"#, Owner, false),
        rest(Method::POST, "/api/v1/namespaces/{ns}/program/renew", "/api/v1/namespaces/matrixorg/program/renew", None, "", Owner, false),
        rest(Method::GET, "/api/v1/program/queue", "/api/v1/program/queue", None, "", Staff, false),
        rest(Method::POST, "/api/v1/program/applications/{id}/{action}", "/api/v1/program/applications/{app}/request-changes", Json, r#"{"reason":"Please add docs"}"#, Staff, false),
        // The registry
        rest(Method::GET, "/v2/", "/v2/", None, "", SignedIn, false),
        rest(Method::GET, "/v2", "/v2", None, "", SignedIn, false),
        rest(Method::GET, "/token", "/token?service=hub&scope=repository:matrixorg/pub:pull", None, "", Anyone, false),
        rest(Method::GET, "/v2/{ns}/{repo}/blobs/{digest}", "/v2/matrixorg/{repo}/blobs/{blob}", None, "", RegistryRead, true),
        rest(Method::DELETE, "/v2/{ns}/{repo}/blobs/{digest}", "/v2/matrixorg/{repo}/blobs/{blob}", None, "", RepoWrite, true),
        rest(Method::POST, "/v2/{ns}/{repo}/blobs/uploads/", "/v2/matrixorg/{repo}/blobs/uploads/", None, "", RepoWrite, true),
        rest(Method::POST, "/v2/{ns}/{repo}/blobs/uploads", "/v2/matrixorg/{repo}/blobs/uploads", None, "", RepoWrite, true),
        rest(Method::GET, "/v2/{ns}/{repo}/blobs/uploads/{id}", "/v2/matrixorg/{repo}/blobs/uploads/{upload}", None, "", RepoWrite, true),
        rest(Method::PATCH, "/v2/{ns}/{repo}/blobs/uploads/{id}", "/v2/matrixorg/{repo}/blobs/uploads/{upload}", Raw, "", RepoWrite, true),
        rest(Method::PUT, "/v2/{ns}/{repo}/blobs/uploads/{id}", "/v2/matrixorg/{repo}/blobs/uploads/{upload}?digest=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", None, "", RepoWrite, true),
        rest(Method::DELETE, "/v2/{ns}/{repo}/blobs/uploads/{id}", "/v2/matrixorg/{repo}/blobs/uploads/{upload}", None, "", RepoWrite, true),
        rest(Method::GET, "/v2/{ns}/{repo}/manifests/{reference}", "/v2/matrixorg/{repo}/manifests/v1", None, "", RegistryRead, true),
        rest(Method::PUT, "/v2/{ns}/{repo}/manifests/{reference}", "/v2/matrixorg/{repo}/manifests/v{who}", Manifest, "", RepoWrite, true),
        rest(Method::DELETE, "/v2/{ns}/{repo}/manifests/{reference}", "/v2/matrixorg/{repo}/manifests/{manifest}", None, "", RepoWrite, true),
        rest(Method::GET, "/v2/{ns}/{repo}/tags/list", "/v2/matrixorg/{repo}/tags/list", None, "", RegistryRead, true),
        rest(Method::GET, "/v2/{ns}/{repo}/referrers/{digest}", "/v2/matrixorg/{repo}/referrers/{manifest}", None, "", RegistryRead, true),
        // The operator's endpoints
        rest(Method::GET, "/healthz", "/healthz", None, "", Anyone, false),
        rest(Method::GET, "/readyz", "/readyz", None, "", Anyone, false),
        rest(Method::GET, "/metrics", "/metrics", None, "", Operator, false),
    ]);
    t
}

/// What a caller should get: `None` = allowed, `Some(status)` = refused so.
fn expected(policy: Policy, who: Who, private: bool) -> Option<u16> {
    let signed_in = who != Who::Anonymous;
    let r = who.repo_rights();
    match policy {
        Policy::Anyone => None,
        Policy::SignedIn => (!signed_in).then_some(401),
        Policy::Owner => match who {
            Who::Anonymous => Some(401),
            Who::Owner => None,
            _ => Some(403),
        },
        Policy::Staff => match who {
            Who::Anonymous => Some(401),
            Who::Staff => None,
            _ => Some(403),
        },
        Policy::OwnerOrStaff => match who {
            Who::Anonymous => Some(401),
            Who::Owner | Who::Staff => None,
            _ => Some(403),
        },
        Policy::RepoRead => (private && r < 1).then_some(404),
        Policy::RepoWrite | Policy::RepoAdmin => {
            let need = if matches!(policy, Policy::RepoWrite) {
                2
            } else {
                3
            };
            if !signed_in {
                Some(401)
            } else if private && r < 1 {
                Some(404)
            } else if r < need {
                Some(403)
            } else {
                None
            }
        }
        Policy::PublicOnly => private.then_some(404),
        Policy::Member | Policy::MemberRepoRead => match who {
            _ if matches!(policy, Policy::MemberRepoRead) && private && r < 1 => Some(404),
            Who::Anonymous => Some(401),
            Who::Outsider | Who::Staff => Some(403),
            _ => None,
        },
        Policy::IngestToken => Some(if signed_in { 403 } else { 401 }),
        Policy::RegistryRead => match (private, who) {
            (false, _) => None,
            (true, Who::Anonymous) => Some(401),
            (true, _) if r < 1 => Some(404),
            _ => None,
        },
        Policy::Operator => Some(403),
    }
}

async fn setup(t: &TestApp) -> (Vec<(Who, Option<String>)>, i64) {
    let mut tokens = Vec::new();
    for who in EVERYONE {
        let token = match who {
            Who::Anonymous => None,
            w => Some(user_with_token(t, w.name(), w == Who::Staff).await),
        };
        tokens.push((who, token));
    }
    let owner = tokens
        .iter()
        .find(|(w, _)| *w == Who::Owner)
        .and_then(|(_, t)| t.clone())
        .expect("owner");
    let staff = tokens
        .iter()
        .find(|(w, _)| *w == Who::Staff)
        .and_then(|(_, t)| t.clone())
        .expect("staff");
    let o = Some(owner.as_str());
    let ok = |r: Resp, what: &str| assert!(r.status.is_success(), "setup {what}: {}", r.body);
    ok(
        t.json("POST", "/api/v1/orgs", o, json!({"name": "matrixorg"}))
            .await,
        "org",
    );
    for (repo, private) in [("pub", false), ("priv", true)] {
        let b = json!({"namespace": "matrixorg", "name": repo, "is_private": private});
        ok(t.json("POST", "/api/v1/repositories", o, b).await, repo);
        let path = format!("/api/v1/repositories/matrixorg/{repo}/tags/1.0");
        ok(
            t.json("PUT", &path, o, json!({"digest": DIGEST})).await,
            "tag",
        );
    }
    for (team, member, rights) in [
        ("nogrant", Who::Member, None),
        ("readers", Who::Reader, Some("read")),
        ("writers", Who::Writer, Some("write")),
        ("admins", Who::Admin, Some("admin")),
        ("spare", Who::Outsider, None),
    ] {
        ok(
            t.json(
                "POST",
                "/api/v1/orgs/matrixorg/teams",
                o,
                json!({"name": team}),
            )
            .await,
            team,
        );
        if team != "spare" {
            let path = format!(
                "/api/v1/orgs/matrixorg/teams/{team}/members/{}",
                member.name()
            );
            ok(t.json("PUT", &path, o, json!({})).await, "member");
        }
        if let Some(rights) = rights {
            for repo in ["pub", "priv"] {
                let path = format!("/api/v1/orgs/matrixorg/teams/{team}/repositories/{repo}");
                ok(
                    t.json("PUT", &path, o, json!({"rights": rights})).await,
                    "grant",
                );
            }
        }
    }
    // Sponsored, so logos are allowed; then an open application to decide.
    let form = json!({"project_name": "Matrix", "website": "https://m.example.org",
        "source_url": "https://github.com/m/m", "license": "MIT", "description": "A matrix project.",
        "attest_public": true, "attest_osd": true, "attest_noncommercial": true});
    let r = t
        .json(
            "POST",
            "/api/v1/namespaces/matrixorg/program/applications",
            o,
            form.clone(),
        )
        .await;
    let id = r.json()["id"].as_i64().expect("id");
    let path = format!("/api/v1/program/applications/{id}/approve");
    ok(
        t.json("POST", &path, Some(&staff), json!({})).await,
        "approve",
    );
    ok(
        t.json("POST", "/api/v1/orgs", o, json!({"name": "applyorg"}))
            .await,
        "org2",
    );
    let b = json!({"namespace": "applyorg", "name": "app"});
    ok(t.json("POST", "/api/v1/repositories", o, b).await, "repo2");
    let path = "/api/v1/repositories/applyorg/app/tags/1.0";
    ok(
        t.json("PUT", path, o, json!({"digest": DIGEST})).await,
        "tag2",
    );
    let r = t
        .json(
            "POST",
            "/api/v1/namespaces/applyorg/program/applications",
            o,
            form,
        )
        .await;
    let app = r.json()["id"].as_i64().expect("id");
    (tokens, app)
}

const BLOB: &[u8] = b"a layer of the matrix";

fn blob_digest() -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(BLOB)))
}

fn manifest_json() -> String {
    let d = blob_digest();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{d}","size":{n}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{d}","size":{n}}}]}}"#,
        n = BLOB.len()
    )
}

/// As the owner: the blob, a manifest tagged `v1` and a fresh upload in
/// `repo`; returns the upload id and the manifest digest.
async fn registry_prep(t: &TestApp, owner: &str, repo: &str) -> (String, String) {
    let bearer = format!("Bearer {owner}");
    let r = t
        .send(
            Request::post(format!(
                "/v2/matrixorg/{repo}/blobs/uploads/?digest={}",
                blob_digest()
            ))
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::from(BLOB))
            .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "prep blob: {}", r.body);
    let r = t
        .send(
            Request::put(format!("/v2/matrixorg/{repo}/manifests/v1"))
                .header(header::AUTHORIZATION, &bearer)
                .header(
                    header::CONTENT_TYPE,
                    "application/vnd.oci.image.manifest.v1+json",
                )
                .body(Body::from(manifest_json()))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "prep manifest: {}", r.body);
    let manifest = r.headers["docker-content-digest"]
        .to_str()
        .expect("digest")
        .to_string();
    let r = t
        .send(
            Request::post(format!("/v2/matrixorg/{repo}/blobs/uploads/"))
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "prep upload: {}", r.body);
    let id = r.headers[header::LOCATION]
        .to_str()
        .expect("loc")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    (id, manifest)
}

fn multipart(repo: &str, png: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in [
        ("namespace", "matrixorg".as_bytes()),
        ("repository", repo.as_bytes()),
        ("file", png),
    ] {
        b.extend_from_slice(b"--XYZ\r\n");
        let file = if name == "file" {
            "; filename=\"l.png\"\r\nContent-Type: image/png"
        } else {
            ""
        };
        b.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        b.extend_from_slice(value);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"--XYZ--\r\n");
    b
}

async fn call(
    t: &TestApp,
    row: &Row,
    token: Option<&str>,
    fill: &dyn Fn(&str) -> String,
    repo: &str,
) -> Resp {
    let png = app::logo::fixtures::png(150, 150);
    let mut b = Request::builder()
        .method(row.method.clone())
        .uri(fill(row.call));
    if let Some(tk) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {tk}"));
    }
    let body = match row.kind {
        Kind::Form => {
            b = b
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json");
            Body::from(fill(row.body))
        }
        Kind::Json => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from(fill(row.body))
        }
        Kind::Raw => Body::from(png),
        Kind::Manifest => {
            b = b.header(
                header::CONTENT_TYPE,
                "application/vnd.oci.image.manifest.v1+json",
            );
            Body::from(manifest_json())
        }
        Kind::Multipart => {
            b = b.header(header::CONTENT_TYPE, "multipart/form-data; boundary=XYZ");
            Body::from(multipart(repo, &png))
        }
        Kind::None => Body::empty(),
    };
    t.send(b.body(body).expect("request")).await
}

app::both_backends! {
    async fn every_endpoint_checks_rights(db: Db) {
        let t = test_app(db);
        let rows = table();
        // Every registered server function and route has a row.
        let listed: BTreeSet<(String, String)> =
            rows.iter().map(|r| (r.method.to_string(), r.route.to_string())).collect();
        let mut registered: BTreeSet<(String, String)> = leptos::server_fn::axum::server_fn_paths()
            .map(|(p, m)| (m.to_string(), p.to_string()))
            .collect();
        registered.extend(app::api().table.iter().map(|(m, p)| (m.to_string(), p.to_string())));
        registered.extend(server::routes::ops().table.iter().map(|(m, p)| (m.to_string(), p.to_string())));
        let missing: Vec<_> = registered.difference(&listed).collect();
        assert!(missing.is_empty(), "endpoints without a row in the authorization matrix: {missing:?}");
        let stale: Vec<_> = listed.difference(&registered).collect();
        assert!(stale.is_empty(), "rows for endpoints that do not exist: {stale:?}");

        let (tokens, app_id) = setup(&t).await;
        let owner = tokens.iter().find(|(w, _)| *w == Who::Owner).and_then(|(_, t)| t.clone()).expect("owner");
        let mut failures = Vec::new();
        for row in &rows {
            // An hour per row, so per-account limits (logo uploads) refill.
            t.clock.set(app::domain::Timestamp(t.clock.now().0 + 3_600_000));
            let needs_logo = row.call.contains("logo");
            let repos: &[(&str, bool)] = if row.per_repo { &[("pub", false), ("priv", true)] } else { &[("pub", false)] };
            for (repo, private) in repos {
                for (who, token) in &tokens {
                    // Things the call needs to find (a logo to clear or serve).
                    let mut logo = String::new();
                    if needs_logo {
                    let r = call(&t, &Row { method: Method::PUT, route: "", call: "/api/v1/repositories/matrixorg/{repo}/logo", kind: Kind::Raw, body: "", policy: Policy::Anyone, per_repo: true },
                        Some(&owner), &|s: &str| s.replace("{repo}", repo), repo).await;
                    assert_eq!(r.status, StatusCode::OK, "logo setup: {}", r.body);
                    logo = r.json()["logo_url"].as_str().and_then(|u| u.split("/logos/").nth(1)).unwrap_or("").to_string();
                    }
                    let (upload, manifest) = if row.call.starts_with("/v2/matrixorg") {
                        registry_prep(&t, &owner, repo).await
                    } else {
                        (String::new(), String::new())
                    };
                    let blob = blob_digest();
                    let fill = |s: &str| s.replace("{repo}", repo).replace("{who}", who.name()).replace("{app}", &app_id.to_string())
                        .replace("{logo}", &logo).replace("{blob}", &blob).replace("{upload}", &upload).replace("{manifest}", &manifest);
                    let res = call(&t, row, token.as_deref(), &fill, repo).await;
                    let status = res.status.as_u16();
                    let want = expected(row.policy, *who, *private);
                    let ok = match want {
                        Some(code) => status == code,
                        None => status < 500 && status != 401 && status != 403 && (status != 404 || !row.per_repo),
                    };
                    if !ok {
                        failures.push(format!("{} {} as {:?} on {repo}: got {status}, want {}: {}",
                            row.method, fill(row.call), who, want.map_or("allowed".to_string(), |c| c.to_string()),
                            res.body.chars().take(160).collect::<String>()));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} wrong answers:\n{}", failures.len(), failures.join("\n"));
    }
}
