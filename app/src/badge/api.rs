//! The badge routes, with ETag / If-None-Match and a five-minute cache.

use crate::core::access::load_repo;
use crate::core::caller::Caller;
use crate::core::http::ApiRoutes;
use crate::core::perks;
use crate::core::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};

/// `GET /badge/{ns}/{repo}.svg` and `.json`.
pub fn routes() -> ApiRoutes {
    ApiRoutes::new().get("/badge/{ns}/{file}", badge)
}

/// `GET /badge/{ns}/{file}` where file is `{repo}.svg` or `{repo}.json`.
async fn badge(
    State(state): State<AppState>,
    Path((ns, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (repo, kind) = match file.rsplit_once('.') {
        Some((r, "svg")) => (r.to_string(), "svg"),
        Some((r, "json")) => (r.to_string(), "json"),
        _ => {
            return crate::error::AppError::not_found("Badges end in .svg or .json.")
                .into_response();
        }
    };
    let sponsored = match lookup(&state, &ns, &repo).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let (body, content_type) = if kind == "svg" {
        let (msg, color) = super::message(sponsored);
        (super::svg(super::LABEL, msg, color), "image/svg+xml")
    } else {
        (super::shields_json(sponsored), "application/json")
    };
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..16]
    );
    let mut res = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// Whether a public repository's namespace is sponsored now; unknown and
/// private repositories answer 404.
async fn lookup(state: &AppState, ns: &str, repo: &str) -> crate::error::AppResult<bool> {
    let anonymous = Caller::default();
    let mut tx = state.db.begin().await?;
    let r = load_repo(&mut tx, &anonymous, ns, repo).await?;
    let on = perks::of(state, &mut tx, r.ns.id()).await?.badge();
    tx.commit().await?;
    Ok(on)
}
