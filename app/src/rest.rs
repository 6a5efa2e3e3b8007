//! REST API v1 for automation: JSON in and out, bearer token or session.
//! Each handler parses, then calls the same service function the server
//! functions use; no rule is written twice.

use crate::account::auth::{Caller, caller_from_headers, client_ip};
use crate::error::{AppError, AppResult};
use crate::repo::RepoDetail;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ip = client_ip(parts);
        caller_from_headers(state, &parts.headers, ip).await
    }
}

/// Parses a JSON body, answering 400 with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> AppResult<T> {
    if body.is_empty() {
        return Err(AppError::bad_request("Send a JSON body."));
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("The JSON body could not be read: {e}.")))
}

/// The `/api/v1` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orgs", post(create_org))
        .route("/api/v1/orgs/{org}/teams", post(create_team))
        .route(
            "/api/v1/orgs/{org}/teams/{team}/members/{user}",
            put(add_member).delete(remove_member),
        )
        .route(
            "/api/v1/orgs/{org}/teams/{team}/repositories/{repo}",
            put(set_grant),
        )
        .route("/api/v1/namespaces/{ns}", get(get_namespace))
        .route("/api/v1/repositories", post(create_repository))
        .route("/api/v1/repositories/{ns}/{repo}", get(get_repository))
        .route("/api/v1/repositories/{ns}/{repo}/tags/{tag}", put(put_tag))
        .route("/api/v1/namespaces/{ns}/program", get(program_status))
        .route("/api/v1/namespaces/{ns}/program/applications", post(apply))
        .route("/api/v1/namespaces/{ns}/program/renew", post(renew))
        .route("/api/v1/program/queue", get(queue))
        .route("/api/v1/program/applications/{id}/{action}", post(decide))
        .route("/api/v1/repositories/{ns}/{repo}/scout", put(set_scout))
        .route(
            "/api/v1/repositories/{ns}/{repo}/logo",
            put(put_repo_logo).delete(delete_repo_logo),
        )
        .route(
            "/api/v1/namespaces/{ns}/logo",
            put(put_org_logo).delete(delete_org_logo),
        )
        .route("/api/v1", get(not_found))
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
}

async fn not_found() -> AppError {
    AppError::not_found("There is no such API endpoint; see docs/API.md for the list.")
}

#[derive(serde::Deserialize)]
struct NameBody {
    name: String,
}

async fn create_org(State(s): State<AppState>, caller: Caller, body: Bytes) -> AppResult<Response> {
    let b: NameBody = parse_json(&body)?;
    let name = crate::org::api::create_org(&s, &caller, &b.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": name, "kind": "org"})),
    )
        .into_response())
}

async fn create_team(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let b: NameBody = parse_json(&body)?;
    crate::org::api::create_team(&s, &caller, &org, &b.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"org": org, "name": b.name.trim()})),
    )
        .into_response())
}

async fn add_member(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, team, user)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    crate::org::api::add_team_member(&s, &caller, &org, &team, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, team, user)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    crate::org::api::remove_team_member(&s, &caller, &org, &team, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
struct GrantBody {
    rights: String,
}

async fn set_grant(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, team, repo)): Path<(String, String, String)>,
    body: Bytes,
) -> AppResult<StatusCode> {
    let b: GrantBody = parse_json(&body)?;
    crate::org::api::set_team_grant(&s, &caller, &org, &team, &repo, &b.rights).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_namespace(
    State(s): State<AppState>,
    caller: Caller,
    Path(ns): Path<String>,
) -> AppResult<Json<Value>> {
    let n = crate::org::api::get_namespace(&s, &caller, &ns).await?;
    Ok(Json(json!({
        "name": n.name,
        "kind": n.kind.as_str(),
        "created_at": n.created_at.rfc3339(),
        "members_count": n.members_count,
        "owners": n.owners,
        "repositories": n.repositories.iter().map(|r| json!({
            "name": r.name,
            "description": r.description,
            "is_private": r.is_private,
            "pull_count": r.pull_count,
            "tag_count": r.tag_count,
        })).collect::<Vec<_>>(),
        "program": n.membership.map(|m| json!({
            "status": m.status.as_str(),
            "starts_at": m.starts_at.rfc3339(),
            "expires_at": m.expires_at.rfc3339(),
        })),
    })))
}

fn repo_json(r: &RepoDetail) -> Value {
    json!({
        "namespace": r.namespace,
        "name": r.name,
        "description": r.description,
        "is_private": r.is_private,
        "created_at": r.created_at.rfc3339(),
        "tags": r.tags.iter().map(|t| json!({
            "name": t.name,
            "digest": t.digest,
            "pushed_at": t.pushed_at.rfc3339(),
        })).collect::<Vec<_>>(),
        "pull_count": r.pull_count,
        "sponsored": r.sponsored,
        "sponsored_until": r.sponsored_until.map(|t| t.rfc3339()),
        "scout_enabled": r.scout_enabled,
        "logo_url": r.logo.as_ref().map(|l| l.url.clone()),
    })
}

async fn create_repository(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> AppResult<Response> {
    let input: crate::repo::api::NewRepo = parse_json(&body)?;
    let r = crate::repo::api::create_repository(&s, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(repo_json(&r))).into_response())
}

async fn get_repository(
    State(s): State<AppState>,
    caller: Caller,
    Path((ns, repo)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let r = crate::repo::api::get_repository(&s, &caller, &ns, &repo).await?;
    Ok(Json(repo_json(&r)))
}

#[derive(serde::Deserialize)]
struct DigestBody {
    digest: String,
}

async fn put_tag(
    State(s): State<AppState>,
    caller: Caller,
    Path((ns, repo, tag)): Path<(String, String, String)>,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let b: DigestBody = parse_json(&body)?;
    let t = crate::repo::api::put_tag(&s, &caller, &ns, &repo, &tag, &b.digest).await?;
    Ok(Json(json!({
        "name": t.name,
        "digest": t.digest,
        "pushed_at": t.pushed_at.rfc3339(),
    })))
}

fn application_json(a: &crate::program::Application) -> Value {
    json!({
        "id": a.id,
        "namespace": a.namespace,
        "is_renewal": a.is_renewal,
        "status": a.status.as_str(),
        "project_name": a.form.project_name,
        "website": a.form.website,
        "source_url": a.form.source_url,
        "license": a.form.license,
        "description": a.form.description,
        "submitted_by": a.submitted_by,
        "created_at": a.created_at.rfc3339(),
        "messages": a.messages.iter().map(|m| json!({
            "at": m.at.rfc3339(), "actor": m.actor, "action": m.action, "detail": m.detail,
        })).collect::<Vec<_>>(),
    })
}

async fn program_status(
    State(s): State<AppState>,
    caller: Caller,
    Path(ns): Path<String>,
) -> AppResult<Json<Value>> {
    let o = crate::program::api::overview(&s, &caller, &ns).await?;
    Ok(Json(json!({
        "namespace": o.namespace,
        "status": o.membership.map(|m| m.status.as_str()),
        "starts_at": o.membership.map(|m| m.starts_at.rfc3339()),
        "expires_at": o.membership.map(|m| m.expires_at.rfc3339()),
        "renewal_opens_at": o.membership.map(|m| m.renewal_opens_at.rfc3339()),
        "grace_ends_at": o.membership.map(|m| m.grace_ends_at.rfc3339()),
        "open_application": o.open_application.as_ref().map(application_json),
        "scout_enabled": o.scout_enabled,
        "scout_limit": o.scout_limit,
    })))
}

async fn apply(
    State(s): State<AppState>,
    caller: Caller,
    Path(ns): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form: crate::program::ApplicationForm = parse_json(&body)?;
    let (a, checks) = crate::program::api::submit_application(&s, &caller, &ns, &form).await?;
    let mut j = application_json(&a);
    j["checklist"] = json!(checks);
    Ok((StatusCode::CREATED, Json(j)).into_response())
}

async fn renew(
    State(s): State<AppState>,
    caller: Caller,
    Path(ns): Path<String>,
) -> AppResult<Response> {
    let (a, checks) = crate::program::api::renew(&s, &caller, &ns).await?;
    let mut j = application_json(&a);
    j["checklist"] = json!(checks);
    Ok((StatusCode::CREATED, Json(j)).into_response())
}

async fn queue(State(s): State<AppState>, caller: Caller) -> AppResult<Json<Value>> {
    let (items, waiting) = crate::program::api::queue(&s, &caller).await?;
    Ok(Json(json!({
        "submitted": items.iter().map(|i| {
            let mut j = application_json(&i.application);
            j["age_days"] = json!(i.age_days);
            j["checklist"] = json!(i.checks);
            j
        }).collect::<Vec<_>>(),
        "changes_requested": waiting.iter().map(application_json).collect::<Vec<_>>(),
    })))
}

#[derive(serde::Deserialize, Default)]
struct ReasonBody {
    #[serde(default)]
    reason: String,
}

async fn decide(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Json<Value>> {
    use crate::program::api::Decision;
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::not_found(format!("There is no application “{id}”.")))?;
    let decision = match action.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        "request-changes" => Decision::RequestChanges,
        _ => return Err(not_found().await),
    };
    let b: ReasonBody = if body.is_empty() {
        ReasonBody::default()
    } else {
        parse_json(&body)?
    };
    let a = crate::program::api::decide(&s, &caller, id, decision, &b.reason).await?;
    Ok(Json(application_json(&a)))
}

#[derive(serde::Deserialize)]
struct EnabledBody {
    enabled: bool,
}

async fn set_scout(
    State(s): State<AppState>,
    caller: Caller,
    Path((ns, repo)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let b: EnabledBody = parse_json(&body)?;
    let (enabled, count, limit) =
        crate::program::api::set_scout(&s, &caller, &ns, &repo, b.enabled).await?;
    Ok(Json(
        json!({"enabled": enabled, "enabled_in_namespace": count, "limit": limit}),
    ))
}

async fn upload_raw(
    s: &AppState,
    caller: &Caller,
    ns: &str,
    repo: Option<&str>,
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
) -> AppResult<Json<Value>> {
    use crate::logo::api::{authorize, check_content_length, read_limited, set_logo};
    // Authorization first; then the declared length; then the counted stream.
    let target = authorize(s, caller, ns, repo).await?;
    check_content_length(headers, 0)?;
    let bytes = read_limited(body.into_data_stream()).await?;
    let info = set_logo(s, caller, &target, bytes).await?;
    Ok(Json(json!({"logo_url": info.url, "source": info.source})))
}

async fn put_repo_logo(
    State(s): State<AppState>,
    caller: Caller,
    Path((ns, repo)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> AppResult<Json<Value>> {
    upload_raw(&s, &caller, &ns, Some(&repo), &headers, body).await
}

async fn put_org_logo(
    State(s): State<AppState>,
    caller: Caller,
    Path(ns): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> AppResult<Json<Value>> {
    upload_raw(&s, &caller, &ns, None, &headers, body).await
}

async fn delete_repo_logo(
    State(s): State<AppState>,
    caller: Caller,
    Path((ns, repo)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let target = crate::logo::api::authorize(&s, &caller, &ns, Some(&repo)).await?;
    let info = crate::logo::api::clear_logo(&s, &caller, &target).await?;
    Ok(Json(json!({"logo_url": info.url, "source": info.source})))
}

async fn delete_org_logo(
    State(s): State<AppState>,
    caller: Caller,
    Path(ns): Path<String>,
) -> AppResult<Json<Value>> {
    let target = crate::logo::api::authorize(&s, &caller, &ns, None).await?;
    let info = crate::logo::api::clear_logo(&s, &caller, &target).await?;
    Ok(Json(json!({"logo_url": info.url, "source": info.source})))
}
