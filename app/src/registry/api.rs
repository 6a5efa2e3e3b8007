//! The `/v2/` endpoints of the OCI distribution spec and `GET /token`:
//! authenticate → load the repository through `core::access` → authorize
//! (read to pull, write to push) → act, answering the spec's statuses and
//! error bodies.

use super::auth::{self, registry_caller};
use super::store::{self, NewManifest};
use super::{MANIFEST_MAX, OCI_INDEX, OCI_MANIFEST, OciCode, Reference, TAGS_PAGE_MAX};
use crate::core::access::{self, RepoAccess, load_namespace, namespace_rights_of};
use crate::core::caller::{Caller, client_ip};
use crate::core::http::ApiRoutes;
use crate::core::metrics::PullLimit;
use crate::core::perks;
use crate::core::state::AppState;
use crate::domain::ids::RepoId;
use crate::domain::pulls::Action;
use crate::domain::{NamespaceName, RepoName, Rights};
use crate::error::AppError;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::collections::HashMap;

/// A refusal in the spec's error shape: `{"errors":[{"code","message"}]}`.
#[derive(Debug)]
pub struct OciError {
    pub code: OciCode,
    pub message: String,
    /// `WWW-Authenticate` for a 401.
    pub challenge: Option<String>,
    pub status: Option<StatusCode>,
    pub headers: Vec<(header::HeaderName, String)>,
}

impl OciError {
    pub fn new(code: OciCode, message: impl Into<String>) -> Self {
        OciError {
            code,
            message: message.into(),
            challenge: None,
            status: None,
            headers: Vec::new(),
        }
    }
    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "registry storage failed");
        let mut o = OciError::new(OciCode::Unsupported, AppError::internal().message);
        o.status = Some(StatusCode::INTERNAL_SERVER_ERROR);
        o
    }
}

impl From<sqlx::Error> for OciError {
    fn from(e: sqlx::Error) -> Self {
        OciError::internal(e)
    }
}

impl From<object_store::Error> for OciError {
    fn from(e: object_store::Error) -> Self {
        OciError::internal(e)
    }
}

impl From<AppError> for OciError {
    fn from(e: AppError) -> Self {
        let code = match e.status() {
            401 => OciCode::Unauthorized,
            403 => OciCode::Denied,
            404 => OciCode::NameUnknown,
            429 => OciCode::Toomanyrequests,
            500 => return OciError::internal(e.message),
            _ => OciCode::Unsupported,
        };
        let mut o = OciError::new(code, e.message.clone());
        o.status = StatusCode::from_u16(e.status()).ok();
        if let Some(s) = e
            .details
            .as_ref()
            .and_then(|d| d.get("retry_after"))
            .and_then(|v| v.as_u64())
        {
            o.headers.push((header::RETRY_AFTER, s.to_string()));
        }
        o
    }
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        let status = self
            .status
            .or_else(|| StatusCode::from_u16(self.code.status()).ok())
            .unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::json!({
            "errors": [{ "code": self.code, "message": self.message, "detail": null }]
        });
        let mut r = (status, body.to_string()).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, c);
        }
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
        r
    }
}

type OciResult<T> = Result<T, OciError>;

/// The `WWW-Authenticate` challenge that sends clients to `GET /token`.
fn challenge(state: &AppState, scope: Option<String>) -> String {
    let public = &state.settings.public_url;
    let service = crate::core::origin::origin_of(public)
        .split("://")
        .nth(1)
        .unwrap_or("hub")
        .to_string();
    match scope {
        Some(s) => format!(r#"Bearer realm="{public}/token",service="{service}",scope="{s}""#),
        None => format!(r#"Bearer realm="{public}/token",service="{service}""#),
    }
}

fn unauthorized(state: &AppState, scope: Option<String>, why: &str) -> OciError {
    let mut e = OciError::new(OciCode::Unauthorized, why);
    e.challenge = Some(challenge(state, scope));
    e
}

async fn caller_of(state: &AppState, parts: &Parts) -> OciResult<Caller> {
    let ip = client_ip(parts, &state.settings);
    registry_caller(state, &parts.headers, ip)
        .await
        .map_err(|e| {
            if e.status() == 401 {
                unauthorized(state, None, &e.message)
            } else {
                e.into()
            }
        })
}

/// The repository for `need` (read: pull, write: push). A push may create a
/// missing repository (public, as on Docker Hub) in a namespace the caller
/// may write. Anonymous callers get a 401 challenge, so clients log in and retry.
async fn repo_for(
    state: &AppState,
    caller: &Caller,
    ns: &str,
    name: &str,
    need: Rights,
) -> OciResult<RepoAccess> {
    let scope = format!(
        "repository:{ns}/{name}:{}",
        if need >= Rights::Write {
            "pull,push"
        } else {
            "pull"
        }
    );
    NamespaceName::parse(ns).map_err(|m| OciError::new(OciCode::NameInvalid, m))?;
    RepoName::parse(name).map_err(|m| OciError::new(OciCode::NameInvalid, m))?;
    let anonymous = caller.user.is_none();
    let mut tx = if need >= Rights::Write {
        state.db.begin_write().await?
    } else {
        state.db.begin().await?
    };
    let found = match access::load_repo(&mut tx, caller, ns, name).await {
        Ok(r) => Some(r),
        Err(e) if e.status() == 404 => None,
        Err(e) => return Err(e.into()),
    };
    let r = match found {
        Some(r) => r,
        None if need >= Rights::Write && !anonymous => {
            // Create on first push, in a namespace the caller may write.
            let nsrow = load_namespace(&mut tx, ns).await.map_err(|_| {
                OciError::new(
                    OciCode::NameUnknown,
                    format!("There is no namespace “{ns}”."),
                )
            })?;
            if access::repo_by_name(&mut tx, nsrow.id(), name)
                .await?
                .is_some()
            {
                // It exists but the caller cannot see it: as if it did not.
                return Err(OciError::new(
                    OciCode::NameUnknown,
                    format!("There is no repository “{ns}/{name}”."),
                ));
            }
            if namespace_rights_of(&mut tx, caller, &nsrow).await? < Rights::Write {
                return Err(OciError::new(
                    OciCode::Denied,
                    format!("You cannot create repositories in “{ns}”: only its owners can."),
                ));
            }
            crate::core::catalog::insert_repo(
                &mut tx,
                nsrow.id(),
                name,
                "",
                false,
                state.clock.now(),
            )
            .await?;
            access::load_repo(&mut tx, caller, ns, name).await?
        }
        None if anonymous => {
            return Err(unauthorized(state, Some(scope), "Authentication required."));
        }
        None => {
            return Err(OciError::new(
                OciCode::NameUnknown,
                format!("There is no repository “{ns}/{name}”."),
            ));
        }
    };
    tx.commit().await?;
    if r.rights < need {
        if anonymous {
            return Err(unauthorized(state, Some(scope), "Authentication required."));
        }
        return Err(OciError::new(
            OciCode::Denied,
            format!(
                "You have {} access to “{}”; this needs {need}.",
                r.rights,
                r.full_name()
            ),
        ));
    }
    Ok(r)
}

fn digest_header(h: &mut HeaderMap, digest: &str) {
    if let Ok(v) = HeaderValue::from_str(digest) {
        h.insert("docker-content-digest", v);
    }
}

fn location(h: &mut HeaderMap, path: &str) {
    if let Ok(v) = HeaderValue::from_str(path) {
        h.insert(header::LOCATION, v);
    }
}

fn parse_digest(raw: &str) -> OciResult<String> {
    crate::domain::Digest::parse(raw)
        .map(|d| d.to_string())
        .map_err(|m| OciError::new(OciCode::DigestInvalid, m))
}

// ---- base and token ----

async fn base(State(state): State<AppState>, req: Request) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    if caller.user.is_none() && !parts.headers.contains_key(header::AUTHORIZATION) {
        return Err(unauthorized(&state, None, "Authentication required."));
    }
    let mut r = (StatusCode::OK, "{}").into_response();
    r.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// `GET /token`: Basic credentials (or none, for anonymous pulls) in, a
/// short-lived bearer token out.
async fn token(State(state): State<AppState>, req: Request) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let now = state.clock.now();
    let expires = now.plus_millis(auth::TOKEN_SECONDS * 1000);
    let t = auth::issue(
        state.token_secret.as_ref(),
        caller.user_id(),
        caller.token_scope,
        expires,
    );
    let body = serde_json::json!({
        "token": t, "access_token": t, "expires_in": auth::TOKEN_SECONDS, "issued_at": now.rfc3339(),
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

// ---- blobs ----

async fn get_blob(
    State(state): State<AppState>,
    Path((ns, name, digest)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let digest = parse_digest(&digest)?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Read).await?;
    let mut tx = state.db.begin().await?;
    let size = store::repo_blob_size(&mut tx, r.repo.id(), &digest).await?;
    tx.commit().await?;
    let Some(size) = size else {
        return Err(OciError::new(
            OciCode::BlobUnknown,
            format!("No blob {digest} in {}.", r.full_name()),
        ));
    };
    let mut res = if parts.method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        let bytes = store::get_blob(state.blobs.as_ref(), &digest)
            .await?
            .ok_or_else(|| OciError::new(OciCode::BlobUnknown, format!("No blob {digest}.")))?;
        Response::new(Body::from(bytes))
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    digest_header(h, &digest);
    Ok(res)
}

/// 405 `UNSUPPORTED` when the operator turned deletes off.
fn deletes_allowed(state: &AppState) -> OciResult<()> {
    if state.settings.registry_deletes {
        return Ok(());
    }
    Err(OciError::new(
        OciCode::Unsupported,
        "Deletes are disabled on this registry (HUB_REGISTRY_DELETES=false).",
    ))
}

async fn delete_blob(
    State(state): State<AppState>,
    Path((ns, name, digest)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    deletes_allowed(&state)?;
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let digest = parse_digest(&digest)?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let mut tx = state.db.begin_write().await?;
    let gone = store::unlink_blob(&mut tx, r.repo.id(), &digest).await?;
    tx.commit().await?;
    if !gone {
        return Err(OciError::new(
            OciCode::BlobUnknown,
            format!("No blob {digest} in {}.", r.full_name()),
        ));
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

fn upload_response(status: StatusCode, ns: &str, name: &str, id: &str, size: i64) -> Response {
    let mut r = status.into_response();
    let h = r.headers_mut();
    location(h, &format!("/v2/{ns}/{name}/blobs/uploads/{id}"));
    if let Ok(v) = HeaderValue::from_str(&format!("0-{}", (size - 1).max(0))) {
        h.insert(header::RANGE, v);
    }
    if let Ok(v) = HeaderValue::from_str(id) {
        h.insert("docker-upload-uuid", v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    r
}

fn blob_created(ns: &str, name: &str, digest: &str) -> Response {
    let mut r = StatusCode::CREATED.into_response();
    let h = r.headers_mut();
    location(h, &format!("/v2/{ns}/{name}/blobs/{digest}"));
    digest_header(h, digest);
    r
}

/// Reads a request body, refusing past `max` bytes.
async fn read_body(body: Body, max: usize) -> OciResult<Bytes> {
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            OciError::new(
                OciCode::BlobUploadInvalid,
                format!("The upload was interrupted: {e}."),
            )
        })?;
        if out.len() + chunk.len() > max {
            let mut e = OciError::new(
                OciCode::SizeInvalid,
                format!("The body is larger than {max} bytes."),
            );
            e.status = Some(StatusCode::PAYLOAD_TOO_LARGE);
            return Err(e);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// The most one request body may carry to the registry.
const BODY_MAX: usize = 2 * 1024 * 1024 * 1024;

async fn start_upload(
    State(state): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> OciResult<Response> {
    let (parts, body) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let now = state.clock.now();
    // Cross-repository mount: link a blob the caller may read elsewhere.
    if let (Some(mount), Some(from)) = (q.get("mount"), q.get("from")) {
        let digest = parse_digest(mount)?;
        if let Some((from_ns, from_name)) = from.split_once('/') {
            let mut tx = state.db.begin_write().await?;
            let source = access::load_repo(&mut tx, &caller, from_ns, from_name)
                .await
                .ok();
            if let Some(src) = source
                && let Some(size) = store::repo_blob_size(&mut tx, src.repo.id(), &digest).await?
            {
                store::link_blob(&mut tx, r.repo.id(), &digest, size, now).await?;
                tx.commit().await?;
                return Ok(blob_created(&ns, &name, &digest));
            }
        }
    }
    // Monolithic upload: POST with ?digest= and the whole blob.
    if let Some(d) = q.get("digest") {
        let digest = parse_digest(d)?;
        let bytes = read_body(body, BODY_MAX).await?;
        if store::sha256_digest(&bytes) != digest {
            return Err(OciError::new(
                OciCode::DigestInvalid,
                "The content does not match the digest.",
            ));
        }
        let size = bytes.len() as i64;
        store::put_blob(state.blobs.as_ref(), &digest, bytes).await?;
        let mut tx = state.db.begin_write().await?;
        store::link_blob(&mut tx, r.repo.id(), &digest, size, now).await?;
        tx.commit().await?;
        return Ok(blob_created(&ns, &name, &digest));
    }
    let id = uuid_like();
    let mut tx = state.db.begin_write().await?;
    store::new_upload(&mut tx, r.repo.id(), &id, now).await?;
    tx.commit().await?;
    Ok(upload_response(StatusCode::ACCEPTED, &ns, &name, &id, 0))
}

fn uuid_like() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

async fn load_upload(state: &AppState, repo: RepoId, id: &str) -> OciResult<store::UploadRow> {
    let mut tx = state.db.begin().await?;
    let u = store::upload(&mut tx, repo, id).await?;
    tx.commit().await?;
    u.ok_or_else(|| {
        OciError::new(
            OciCode::BlobUploadUnknown,
            format!("There is no upload “{id}”."),
        )
    })
}

/// `Content-Range: <start>-<end>` (the spec's form, no unit).
fn content_range(h: &HeaderMap) -> Option<(i64, i64)> {
    let v = h.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let v = v
        .trim()
        .trim_start_matches("bytes ")
        .trim_start_matches("bytes=");
    let (a, b) = v.split_once('-')?;
    Some((
        a.trim().parse().ok()?,
        b.split('/').next()?.trim().parse().ok()?,
    ))
}

async fn append(
    state: &AppState,
    u: &store::UploadRow,
    headers: &HeaderMap,
    body: Body,
    ns: &str,
    name: &str,
) -> OciResult<i64> {
    let bytes = read_body(body, BODY_MAX).await?;
    if let Some((start, _end)) = content_range(headers)
        && start != u.size
    {
        let mut e = OciError::new(
            OciCode::BlobUploadInvalid,
            format!(
                "The chunk starts at {start}, but {} bytes have arrived.",
                u.size
            ),
        );
        e.status = Some(StatusCode::RANGE_NOT_SATISFIABLE);
        e.headers.push((
            header::LOCATION,
            format!("/v2/{ns}/{name}/blobs/uploads/{}", u.id),
        ));
        e.headers
            .push((header::RANGE, format!("0-{}", (u.size - 1).max(0))));
        return Err(e);
    }
    if bytes.is_empty() {
        return Ok(u.size);
    }
    let len = bytes.len() as i64;
    store::put_chunk(state.blobs.as_ref(), &u.id, u.size, bytes).await?;
    let mut tx = state.db.begin_write().await?;
    if !store::grow_upload(&mut tx, &u.id, u.size, u.size + len, state.clock.now()).await? {
        let mut e = OciError::new(
            OciCode::BlobUploadInvalid,
            "Another chunk arrived first; send from the current offset.",
        );
        e.status = Some(StatusCode::RANGE_NOT_SATISFIABLE);
        return Err(e);
    }
    tx.commit().await?;
    Ok(u.size + len)
}

async fn patch_upload(
    State(state): State<AppState>,
    Path((ns, name, id)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    let (parts, body) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let u = load_upload(&state, r.repo.id(), &id).await?;
    let size = append(&state, &u, &parts.headers, body, &ns, &name).await?;
    Ok(upload_response(StatusCode::ACCEPTED, &ns, &name, &id, size))
}

async fn put_upload(
    State(state): State<AppState>,
    Path((ns, name, id)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> OciResult<Response> {
    let (parts, body) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let u = load_upload(&state, r.repo.id(), &id).await?;
    let digest = parse_digest(q.get("digest").map(String::as_str).unwrap_or(""))?;
    append(&state, &u, &parts.headers, body, &ns, &name).await?;
    let outcome = store::assemble(state.blobs.as_ref(), &id, &digest).await?;
    let mut tx = state.db.begin_write().await?;
    store::end_upload(&mut tx, &id).await?;
    let size = match outcome {
        Ok(size) => size,
        Err(got) => {
            tx.commit().await?;
            return Err(OciError::new(
                OciCode::DigestInvalid,
                format!("The content's digest is {got}, not {digest}."),
            ));
        }
    };
    store::link_blob(&mut tx, r.repo.id(), &digest, size, state.clock.now()).await?;
    tx.commit().await?;
    Ok(blob_created(&ns, &name, &digest))
}

async fn get_upload(
    State(state): State<AppState>,
    Path((ns, name, id)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let u = load_upload(&state, r.repo.id(), &id).await?;
    Ok(upload_response(
        StatusCode::NO_CONTENT,
        &ns,
        &name,
        &id,
        u.size,
    ))
}

async fn delete_upload(
    State(state): State<AppState>,
    Path((ns, name, id)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let u = load_upload(&state, r.repo.id(), &id).await?;
    store::delete_upload_chunks(state.blobs.as_ref(), &u.id).await?;
    let mut tx = state.db.begin_write().await?;
    store::end_upload(&mut tx, &u.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- manifests ----

/// Content negotiation: no `Accept` (or `*/*`) takes anything; otherwise the
/// manifest's media type must be listed.
fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    let listed: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .filter(|t| !t.is_empty())
        .collect();
    listed.is_empty()
        || listed
            .iter()
            .any(|t| *t == "*/*" || *t == "application/*" || t.eq_ignore_ascii_case(media_type))
}

/// Resolves a manifest pull: from the hot cache for public repositories, else
/// through `core::access` and the database (then cached when public).
async fn resolve_pull(
    state: &AppState,
    caller: &Caller,
    ns: &str,
    name: &str,
    reference: &Reference,
    raw_reference: &str,
) -> OciResult<(super::cache::Resolved, bool)> {
    let instance = super::cache::instance(state.token_secret.as_ref());
    if caller.token_scope != Some(Rights::None)
        && let Some(hit) = super::cache::get(instance, ns, name, raw_reference)
    {
        return Ok((hit, false));
    }
    let r = repo_for(state, caller, ns, name, Rights::Read).await?;
    let unknown = || {
        OciError::new(
            OciCode::ManifestUnknown,
            format!("No manifest {reference:?} in {}.", r.full_name()),
        )
    };
    let mut tx = state.db.begin().await?;
    let digest = match reference {
        Reference::Digest(d) => Some(d.clone()),
        Reference::Tag(t) => store::tag_digest(&mut tx, r.repo.id(), t).await?,
    }
    .ok_or_else(unknown)?;
    let m = store::manifest(&mut tx, r.repo.id(), &digest)
        .await?
        .ok_or_else(unknown)?;
    tx.commit().await?;
    let bytes = store::get_blob(state.blobs.as_ref(), &digest)
        .await?
        .ok_or_else(unknown)?;
    let resolved = super::cache::Resolved {
        repo_id: r.repo.id,
        ns_id: r.ns.id,
        digest,
        media_type: m.media_type,
        size: m.size,
        bytes,
    };
    if !r.repo.is_private {
        super::cache::put(instance, ns, name, raw_reference, resolved.clone());
    }
    Ok((resolved, r.repo.is_private))
}

async fn get_manifest(
    State(state): State<AppState>,
    Path((ns, name, raw_reference)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    // A name that cannot be a tag names no manifest: 404, as for any unknown one.
    let reference = Reference::parse(&raw_reference).map_err(|(c, m)| match c {
        OciCode::DigestInvalid => OciError::new(c, m),
        _ => OciError::new(OciCode::ManifestUnknown, m),
    })?;
    let (m, is_private) =
        resolve_pull(&state, &caller, &ns, &name, &reference, &raw_reference).await?;
    if !accepts(&parts.headers, &m.media_type) {
        return Err(OciError::new(
            OciCode::ManifestUnknown,
            format!(
                "The manifest is a {}, which this request's Accept header does not list.",
                m.media_type
            ),
        ));
    }
    let ns_id = crate::domain::ids::NamespaceId(m.ns_id);
    let head = parts.method == Method::HEAD;
    // Rate limits: sponsored public repositories are exempt (and say so);
    // everyone else spends one pull per manifest GET, HEAD only peeks.
    let perks_now = match perks::cached(&state, ns_id) {
        Some(p) => p,
        None => {
            let mut tx = state.db.begin().await?;
            let p = perks::of(&state, &mut tx, ns_id).await?;
            tx.commit().await?;
            p
        }
    };
    let exempt = !is_private && perks_now.unlimited_pulls();
    if exempt && !head {
        state.metrics.pull_limit(PullLimit::Exempt);
    }
    let limit_headers = if exempt {
        vec![(
            "ratelimit-policy",
            r#"unlimited; reason="sponsored-oss""#.to_string(),
        )]
    } else {
        let (key, source, limit) = match (&caller.user, caller.ip) {
            (Some(u), _) => (
                format!("user:{}", u.id.0),
                u.id.0.to_string(),
                state.settings.pull_limit_authenticated,
            ),
            (None, Some(ip)) => {
                let k = super::pull_key(ip);
                (format!("ip:{k}"), k, state.settings.pull_limit_anonymous)
            }
            (None, None) => (
                "ip:unknown".into(),
                "unknown".into(),
                state.settings.pull_limit_anonymous,
            ),
        };
        let window = state.settings.pull_window;
        let d = state
            .limits
            .pulls
            .decide(&key, state.clock.now().0, limit, window, !head)
            .await?;
        if !head {
            state.metrics.pull_limit(if d.allowed {
                PullLimit::Allowed
            } else {
                PullLimit::Limited
            });
        }
        let headers = vec![
            (
                "ratelimit-limit",
                format!("{};w={}", d.limit, d.window_secs),
            ),
            (
                "ratelimit-remaining",
                format!("{};w={}", d.remaining, d.window_secs),
            ),
            ("docker-ratelimit-source", source),
        ];
        if !d.allowed && !head {
            let mut e = OciError::new(
                OciCode::Toomanyrequests,
                if caller.user.is_some() {
                    format!(
                        "You have reached your pull rate limit ({} pulls per {} hours). Wait, or ask the publisher to join the Sponsored Open Source program.",
                        d.limit,
                        d.window_secs / 3600
                    )
                } else {
                    format!(
                        "You have reached the anonymous pull rate limit ({} pulls per {} hours). Sign in (docker login) for a higher limit, or wait.",
                        d.limit,
                        d.window_secs / 3600
                    )
                },
            );
            e.headers
                .push((header::RETRY_AFTER, d.retry_after_secs.to_string()));
            for (k, v) in headers {
                if let Ok(name) = header::HeaderName::from_bytes(k.as_bytes()) {
                    e.headers.push((name, v));
                }
            }
            return Err(e);
        }
        headers
    };
    // The pull count and the tag's last pull follow from the event, written
    // in batches off the request path (core::events).
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(500)
        .collect();
    let action = Action::of_request(head, matches!(reference, Reference::Tag(_)));
    state.metrics.pull(action);
    state.events.push(crate::core::events::PullEvent {
        at: state.clock.now(),
        namespace: ns_id,
        repository: RepoId(m.repo_id),
        source_id: None,
        reference: raw_reference.clone(),
        tag: match &reference {
            Reference::Tag(t) => Some(t.clone()),
            Reference::Digest(_) => None,
        },
        digest: m.digest.clone(),
        action,
        http_method: if head { "HEAD" } else { "GET" },
        country: String::new(),
        host: String::new(),
        user_agent,
        ip: caller.ip,
        authenticated: caller.user.is_some(),
    });
    let mut res = if head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(m.bytes.clone()))
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(m.size));
    if let Ok(v) = HeaderValue::from_str(&m.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    digest_header(h, &m.digest);
    for (k, v) in limit_headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    Ok(res)
}

async fn put_manifest(
    State(state): State<AppState>,
    Path((ns, name, reference)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    let (parts, body) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let reference = Reference::parse(&reference).map_err(|(c, m)| OciError::new(c, m))?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let bytes = read_body(body, MANIFEST_MAX).await.map_err(|mut e| {
        if e.status == Some(StatusCode::PAYLOAD_TOO_LARGE) {
            e.code = OciCode::SizeInvalid;
            e.message = format!("A manifest is at most {MANIFEST_MAX} bytes.");
        }
        e
    })?;
    let refs =
        super::manifest_refs(&bytes).map_err(|m| OciError::new(OciCode::ManifestInvalid, m))?;
    let digest = store::sha256_digest(&bytes);
    if let Reference::Digest(d) = &reference
        && *d != digest
    {
        return Err(OciError::new(
            OciCode::DigestInvalid,
            format!("The manifest's digest is {digest}, not {d}."),
        ));
    }
    let media_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
        .filter(|v| !v.is_empty())
        .or(refs.media_type.clone())
        .unwrap_or_else(|| OCI_MANIFEST.to_string());
    let now = state.clock.now();
    store::put_blob(state.blobs.as_ref(), &digest, bytes.clone()).await?;
    let mut tx = state.db.begin_write().await?;
    for b in &refs.blobs {
        if store::repo_blob_size(&mut tx, r.repo.id(), b)
            .await?
            .is_none()
        {
            return Err(OciError::new(
                OciCode::ManifestBlobUnknown,
                format!("The manifest references blob {b}, which this repository does not have."),
            ));
        }
    }
    for m in &refs.manifests {
        if store::manifest(&mut tx, r.repo.id(), m).await?.is_none() {
            return Err(OciError::new(
                OciCode::ManifestBlobUnknown,
                format!("The index references manifest {m}, which this repository does not have."),
            ));
        }
    }
    let all_refs: Vec<String> = refs
        .blobs
        .iter()
        .chain(refs.manifests.iter())
        .cloned()
        .collect();
    store::put_manifest(
        &mut tx,
        r.repo.id(),
        NewManifest {
            digest: &digest,
            media_type: &media_type,
            size: bytes.len() as i64,
            artifact_type: refs.artifact_type.as_deref(),
            subject: refs.subject.as_deref(),
            refs: &all_refs,
            total_size: bytes.len() as i64 + refs.content_size,
            platforms: (!refs.platforms.is_empty()).then(|| refs.platforms.join(",")),
        },
        now,
    )
    .await?;
    if let Reference::Tag(t) = &reference {
        crate::core::catalog::upsert_tag(&mut tx, r.repo.id(), t, &digest, now).await?;
    }
    tx.commit().await?;
    super::cache::forget(
        super::cache::instance(state.token_secret.as_ref()),
        &ns,
        &name,
    );
    let mut res = StatusCode::CREATED.into_response();
    let h = res.headers_mut();
    location(h, &format!("/v2/{ns}/{name}/manifests/{digest}"));
    digest_header(h, &digest);
    if let Some(s) = refs
        .subject
        .as_deref()
        .and_then(|s| HeaderValue::from_str(s).ok())
    {
        h.insert("oci-subject", s);
    }
    Ok(res)
}

async fn delete_manifest(
    State(state): State<AppState>,
    Path((ns, name, reference)): Path<(String, String, String)>,
    req: Request,
) -> OciResult<Response> {
    deletes_allowed(&state)?;
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let reference = Reference::parse(&reference).map_err(|(c, m)| OciError::new(c, m))?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Write).await?;
    let mut tx = state.db.begin_write().await?;
    let gone = match &reference {
        Reference::Digest(d) => store::delete_manifest(&mut tx, r.repo.id(), d).await?,
        Reference::Tag(t) => store::delete_tag(&mut tx, r.repo.id(), t).await?,
    };
    tx.commit().await?;
    super::cache::forget(
        super::cache::instance(state.token_secret.as_ref()),
        &ns,
        &name,
    );
    if !gone {
        return Err(OciError::new(
            OciCode::ManifestUnknown,
            format!("No manifest {reference:?} in {}.", r.full_name()),
        ));
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

// ---- listing ----

async fn tags_list(
    State(state): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Read).await?;
    let n = q
        .get("n")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(TAGS_PAGE_MAX)
        .min(TAGS_PAGE_MAX);
    let last = q.get("last").map(String::as_str);
    let mut tx = state.db.begin().await?;
    let mut tags = store::tag_page(&mut tx, r.repo.id(), last, n as i64 + 1).await?;
    tx.commit().await?;
    let more = tags.len() > n;
    tags.truncate(n);
    let body = serde_json::json!({ "name": format!("{ns}/{name}"), "tags": tags });
    let mut res = (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if more && let Some(l) = tags.last() {
        let link = format!(r#"</v2/{ns}/{name}/tags/list?n={n}&last={l}>; rel="next""#);
        if let Ok(v) = HeaderValue::from_str(&link) {
            res.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(res)
}

async fn referrers(
    State(state): State<AppState>,
    Path((ns, name, digest)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> OciResult<Response> {
    let (parts, _) = req.into_parts();
    let caller = caller_of(&state, &parts).await?;
    let digest = parse_digest(&digest)?;
    let r = repo_for(&state, &caller, &ns, &name, Rights::Read).await?;
    let mut tx = state.db.begin().await?;
    let rows = store::referrers(&mut tx, r.repo.id(), &digest).await?;
    tx.commit().await?;
    let filter = q.get("artifactType");
    let mut manifests = Vec::new();
    for m in rows {
        if filter.is_some_and(|f| m.artifact_type.as_deref() != Some(f.as_str())) {
            continue;
        }
        let annotations = store::get_blob(state.blobs.as_ref(), &m.digest)
            .await?
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("annotations").cloned());
        let mut d =
            serde_json::json!({ "mediaType": m.media_type, "digest": m.digest, "size": m.size });
        if let Some(a) = &m.artifact_type {
            d["artifactType"] = serde_json::json!(a);
        }
        if let Some(a) = annotations {
            d["annotations"] = a;
        }
        manifests.push(d);
    }
    let body =
        serde_json::json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
    let mut res = ([(header::CONTENT_TYPE, OCI_INDEX)], body.to_string()).into_response();
    if filter.is_some() {
        res.headers_mut().insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(res)
}

/// `/v2/…` and `/token`.
pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .get("/v2/", base)
        .get("/v2", base)
        .get("/token", token)
        .get("/v2/{ns}/{repo}/blobs/{digest}", get_blob)
        .delete("/v2/{ns}/{repo}/blobs/{digest}", delete_blob)
        .post("/v2/{ns}/{repo}/blobs/uploads/", start_upload)
        .post("/v2/{ns}/{repo}/blobs/uploads", start_upload)
        .get("/v2/{ns}/{repo}/blobs/uploads/{id}", get_upload)
        .patch("/v2/{ns}/{repo}/blobs/uploads/{id}", patch_upload)
        .put("/v2/{ns}/{repo}/blobs/uploads/{id}", put_upload)
        .delete("/v2/{ns}/{repo}/blobs/uploads/{id}", delete_upload)
        .get("/v2/{ns}/{repo}/manifests/{reference}", get_manifest)
        .put("/v2/{ns}/{repo}/manifests/{reference}", put_manifest)
        .delete("/v2/{ns}/{repo}/manifests/{reference}", delete_manifest)
        .get("/v2/{ns}/{repo}/tags/list", tags_list)
        .get("/v2/{ns}/{repo}/referrers/{digest}", referrers)
}
