//! Logo actions: upload (multipart server function and raw REST body), clear,
//! serve. Authorization comes first, before the image body is read; the body
//! is counted as it streams and refused with 413 past the limit.

use super::LogoInfo;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::process::{Processed, process};
    use super::super::{LogoFacts, LogoInfo, MAX_BYTES, Refusal, store};
    use crate::core::access::{
        NsRow, RepoRow, caller_owns, load_namespace, load_repo, repo_rights, require, require_owner,
    };
    use crate::core::audit::{self, Record};
    use crate::core::caller::Caller;
    use crate::core::http::ApiRoutes;
    use crate::core::limits::LimitedAction;
    use crate::core::perks;
    use crate::core::state::AppState;
    use crate::db::Tx;
    use crate::domain::{NamespaceKind, Rights};
    use crate::error::{AppError, AppResult, ErrorKind};
    use axum::Json;
    use axum::body::Body;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use futures::StreamExt;

    /// What a logo request is about.
    #[derive(Debug, Clone)]
    pub enum Target {
        Repository(NsRow, RepoRow),
        Organization(NsRow),
    }

    impl Target {
        fn ns(&self) -> &NsRow {
            match self {
                Target::Repository(ns, _) | Target::Organization(ns) => ns,
            }
        }
        fn label(&self) -> String {
            match self {
                Target::Repository(ns, r) => format!("repository {}/{}", ns.name, r.name),
                Target::Organization(ns) => format!("organization {}", ns.name),
            }
        }
    }

    impl From<Refusal> for AppError {
        fn from(r: Refusal) -> Self {
            let kind = match r.status() {
                400 => ErrorKind::BadRequest,
                413 => ErrorKind::PayloadTooLarge,
                415 => ErrorKind::UnsupportedMediaType,
                _ => ErrorKind::Invalid,
            };
            AppError::new(kind, r.message()).with_details(serde_json::json!({ "rule": r.code() }))
        }
    }

    pub fn too_large(bytes: u64) -> AppError {
        Refusal::TooManyBytes { bytes }.into()
    }

    /// Perks gate repository logos: they can be set and are shown while the
    /// membership is active or in grace.
    async fn repo_logo_perk(state: &AppState, tx: &mut Tx<'_>, ns: &NsRow) -> AppResult<bool> {
        Ok(perks::of(state, tx, ns.id()).await?.repository_logos())
    }

    fn perk_refusal(ns: &NsRow) -> AppError {
        AppError::forbidden(format!(
            "Repository logos are a Sponsored Open Source perk, and “{}” is not a member now. Stored logos show again after the membership is renewed.",
            ns.name
        ))
    }

    /// Authenticates, loads and authorizes a logo change, before any body is read.
    pub async fn authorize(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        repository: Option<&str>,
    ) -> AppResult<Target> {
        caller.require_user()?;
        let mut tx = state.db.begin().await?;
        let target = match repository.map(str::trim).filter(|r| !r.is_empty()) {
            Some(repo) => {
                let r = load_repo(&mut tx, caller, namespace, repo).await?;
                require(caller, r.rights, Rights::Admin, || {
                    format!(
                        "Only admins of “{}” (an owner, or a team with admin permission) can change its logo.",
                        r.full_name()
                    )
                })?;
                if !repo_logo_perk(state, &mut tx, &r.ns).await? {
                    return Err(perk_refusal(&r.ns));
                }
                Target::Repository(r.ns, r.repo)
            }
            None => {
                let ns = load_namespace(&mut tx, namespace).await?;
                if ns.kind != NamespaceKind::Org {
                    return Err(AppError::invalid(format!(
                        "“{}” is a personal namespace; logos belong to organizations and their repositories.",
                        ns.name
                    )));
                }
                require_owner(&mut tx, caller, &ns, "change the organization logo").await?;
                Target::Organization(ns)
            }
        };
        tx.commit().await?;
        Ok(target)
    }

    /// Reads a body stream, refusing with 413 as soon as it passes the limit.
    pub async fn read_limited<S, E>(mut stream: S) -> AppResult<Vec<u8>>
    where
        S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}.")))?;
            if buf.len() as u64 + chunk.len() as u64 > MAX_BYTES {
                return Err(too_large(buf.len() as u64 + chunk.len() as u64));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }

    /// Refuses early when the declared length is already over the limit.
    pub fn check_content_length(headers: &HeaderMap, overhead: u64) -> AppResult<()> {
        if let Some(len) = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > MAX_BYTES + overhead
        {
            return Err(too_large(len));
        }
        Ok(())
    }

    /// Sets (or with `None` clears) the target's logo; returns the previous one.
    async fn swap(
        tx: &mut Tx<'_>,
        target: &Target,
        new: Option<&str>,
    ) -> AppResult<Option<String>> {
        Ok(match target {
            Target::Repository(_, r) => {
                let old = store::repo_logo(tx, r.id()).await?;
                store::set_repo_logo(tx, r.id(), new).await?;
                old
            }
            Target::Organization(ns) => {
                let old = store::namespace_logo(tx, ns.id()).await?;
                store::set_namespace_logo(tx, ns.id(), new).await?;
                old
            }
        })
    }

    fn processing_permits() -> &'static tokio::sync::Semaphore {
        static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
        PERMITS.get_or_init(|| {
            tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
        })
    }

    /// Validates, re-encodes (off the runtime), stores and records a new logo.
    pub async fn set_logo(
        state: &AppState,
        caller: &Caller,
        target: &Target,
        bytes: Vec<u8>,
    ) -> AppResult<LogoInfo> {
        if let Some(me) = caller.user_id() {
            state
                .limits
                .check(LimitedAction::LogoUploadPerAccount, &me.0.to_string())?;
        }
        // Decoding is bounded by `image::Limits`; this bounds how many run at once.
        let _permit = processing_permits().acquire().await.map_err(|e| {
            tracing::error!(error = %e, "logo processing semaphore closed");
            AppError::internal()
        })?;
        let processed: Processed = tokio::task::spawn_blocking(move || process(&bytes)).await??;
        store::put_files(state.blobs.as_ref(), &processed)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "storing a logo failed");
                AppError::internal()
            })?;
        let file = processed.file_name();
        let mut tx = state.db.begin_write().await?;
        let old = swap(&mut tx, target, Some(&file)).await?;
        let detail = format!(
            "{}: {} → {}",
            target.label(),
            old.as_deref().unwrap_or("none"),
            file
        );
        let record = Record {
            namespace: target.ns().id(),
            application: None,
            actor: caller.user_id(),
            action: "logo_set",
            detail: &detail,
        };
        audit::record(&mut tx, record, state.clock.now()).await?;
        let info = resolve_target(state, &mut tx, caller, target).await?;
        tx.commit().await?;
        Ok(info)
    }

    /// Removes a logo; the fallback shows at once.
    pub async fn clear_logo(
        state: &AppState,
        caller: &Caller,
        target: &Target,
    ) -> AppResult<LogoInfo> {
        let mut tx = state.db.begin_write().await?;
        let old = swap(&mut tx, target, None).await?;
        let Some(old) = old else {
            return Err(AppError::not_found(format!(
                "The {} has no logo to clear.",
                target.label()
            )));
        };
        let detail = format!("{}: {old} → none", target.label());
        let record = Record {
            namespace: target.ns().id(),
            application: None,
            actor: caller.user_id(),
            action: "logo_cleared",
            detail: &detail,
        };
        audit::record(&mut tx, record, state.clock.now()).await?;
        let info = resolve_target(state, &mut tx, caller, target).await?;
        tx.commit().await?;
        Ok(info)
    }

    async fn resolve_target(
        state: &AppState,
        tx: &mut Tx<'_>,
        caller: &Caller,
        target: &Target,
    ) -> AppResult<LogoInfo> {
        match target {
            Target::Repository(ns, repo) => resolve(state, tx, caller, ns, Some(repo)).await,
            Target::Organization(ns) => resolve(state, tx, caller, ns, None).await,
        }
    }

    /// The logo to show for a repository (or, with `None`, an organization),
    /// with the stored names read fresh inside `tx`.
    async fn resolve(
        state: &AppState,
        tx: &mut Tx<'_>,
        caller: &Caller,
        ns: &NsRow,
        repo: Option<&RepoRow>,
    ) -> AppResult<LogoInfo> {
        let perk = repo_logo_perk(state, tx, ns).await?;
        let (repository_file, is_admin) = match repo {
            Some(r) => (
                Some(store::repo_logo(tx, r.id()).await?),
                repo_rights(tx, caller, ns, r).await? == Rights::Admin,
            ),
            None => (
                None,
                ns.kind == NamespaceKind::Org && caller_owns(tx, caller, ns).await?,
            ),
        };
        let org_file = store::namespace_logo(tx, ns.id()).await?;
        Ok(LogoInfo::resolve(&LogoFacts {
            public_url: &state.settings.public_url,
            namespace: &ns.name,
            repository_file: repository_file.as_ref().map(|f| f.as_deref()),
            organization_file: org_file.as_deref(),
            perk,
            is_admin,
        }))
    }

    /// `GET /logos/{file}`: immutable, content-addressed, never sniffed.
    async fn serve(
        State(state): State<AppState>,
        Path(file): Path<String>,
        headers: HeaderMap,
    ) -> Response {
        let valid = super::super::valid_file_name(&file);
        if !valid {
            return AppError::not_found("There is no such logo.").into_response();
        }
        let etag = format!("\"{}\"", file.split('.').next().unwrap_or(""));
        if headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
        {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = HeaderValue::from_str(&etag) {
                r.headers_mut().insert(header::ETAG, v);
            }
            return r;
        }
        let bytes = match store::get_file(state.blobs.as_ref(), &file).await {
            Ok(Some(b)) => b,
            Ok(None) => return AppError::not_found("There is no such logo.").into_response(),
            Err(e) => {
                tracing::error!(error = %e, "reading a logo failed");
                return AppError::internal().into_response();
            }
        };
        let content_type = if file.ends_with(".png") {
            "image/png"
        } else {
            "image/jpeg"
        };
        let mut r = Response::new(Body::from(bytes));
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        r
    }

    /// The current logo of a repository or an organization, for its page.
    pub async fn logo_info(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        repository: Option<&str>,
    ) -> AppResult<LogoInfo> {
        let mut tx = state.db.begin().await?;
        let info = match repository.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => {
                let r = load_repo(&mut tx, caller, namespace, r).await?;
                resolve(state, &mut tx, caller, &r.ns, Some(&r.repo)).await?
            }
            None => {
                let ns = load_namespace(&mut tx, namespace).await?;
                resolve(state, &mut tx, caller, &ns, None).await?
            }
        };
        tx.commit().await?;
        Ok(info)
    }

    async fn upload_raw(
        s: &AppState,
        caller: &Caller,
        ns: &str,
        repo: Option<&str>,
        headers: &HeaderMap,
        body: Body,
    ) -> AppResult<Json<LogoInfo>> {
        // Authorization first; then the declared length; then the counted stream.
        let target = authorize(s, caller, ns, repo).await?;
        check_content_length(headers, 0)?;
        let bytes = read_limited(body.into_data_stream()).await?;
        Ok(Json(set_logo(s, caller, &target, bytes).await?))
    }

    async fn put_repo_logo(
        State(s): State<AppState>,
        caller: Caller,
        Path((ns, repo)): Path<(String, String)>,
        headers: HeaderMap,
        body: Body,
    ) -> AppResult<Json<LogoInfo>> {
        upload_raw(&s, &caller, &ns, Some(&repo), &headers, body).await
    }

    async fn put_org_logo(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
        headers: HeaderMap,
        body: Body,
    ) -> AppResult<Json<LogoInfo>> {
        upload_raw(&s, &caller, &ns, None, &headers, body).await
    }

    async fn delete_repo_logo(
        State(s): State<AppState>,
        caller: Caller,
        Path((ns, repo)): Path<(String, String)>,
    ) -> AppResult<Json<LogoInfo>> {
        let target = authorize(&s, &caller, &ns, Some(&repo)).await?;
        Ok(Json(clear_logo(&s, &caller, &target).await?))
    }

    async fn delete_org_logo(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
    ) -> AppResult<Json<LogoInfo>> {
        let target = authorize(&s, &caller, &ns, None).await?;
        Ok(Json(clear_logo(&s, &caller, &target).await?))
    }

    /// Logo files and the raw-body REST upload and clear routes.
    pub fn routes() -> ApiRoutes {
        ApiRoutes::new()
            .get("/logos/{file}", serve)
            .put("/api/v1/repositories/{ns}/{repo}/logo", put_repo_logo)
            .delete("/api/v1/repositories/{ns}/{repo}/logo", delete_repo_logo)
            .put("/api/v1/namespaces/{ns}/logo", put_org_logo)
            .delete("/api/v1/namespaces/{ns}/logo", delete_org_logo)
    }
}

/// Uploads a logo. Multipart fields, in this order: `namespace`, `repository`
/// (empty for the organization logo), `file`.
#[server(input = MultipartFormData, endpoint = "upload_logo", output = crate::wire::Json)]
pub async fn upload_logo(data: MultipartData) -> Result<LogoInfo, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    caller.require_user()?;
    if let Some(parts) = use_context::<axum::http::request::Parts>() {
        check_content_length(&parts.headers, 64 * 1024)?;
    }
    let mut multipart = data
        .into_inner()
        .ok_or_else(|| AppError::bad_request("Send the logo as multipart/form-data."))?;
    let (mut namespace, mut repository) = (None::<String>, String::new());
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("The form could not be read: {e}.")))?
    {
        match field.name().unwrap_or("") {
            "namespace" => namespace = Some(small_field(&mut field, "namespace").await?),
            "repository" => repository = small_field(&mut field, "repository").await?,
            "file" => {
                let ns = namespace.clone().ok_or_else(|| {
                    AppError::bad_request(
                        "Send the `namespace` and `repository` fields before `file`.",
                    )
                })?;
                // Authorization first: nothing of the image is read before this.
                let target = authorize(&state, &caller, &ns, Some(&repository)).await?;
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| {
                    AppError::bad_request(format!("The upload was interrupted: {e}."))
                })? {
                    if buf.len() as u64 + chunk.len() as u64 > super::MAX_BYTES {
                        return Err(too_large(buf.len() as u64 + chunk.len() as u64));
                    }
                    buf.extend_from_slice(&chunk);
                }
                return set_logo(&state, &caller, &target, buf).await;
            }
            _ => {}
        }
    }
    Err(AppError::bad_request("The form has no `file` field."))
}

/// Clears a repository logo (or, with an empty `repository`, the organization logo).
#[server(name = ClearLogo, endpoint = "clear_logo", output = crate::wire::Json)]
pub async fn clear_logo_fn(namespace: String, repository: String) -> Result<LogoInfo, AppError> {
    with_caller!(|state, caller| {
        let target = authorize(&state, &caller, &namespace, Some(&repository)).await?;
        clear_logo(&state, &caller, &target).await
    })
}

/// The logo shown for a repository (or organization, with an empty `repository`).
#[server(name = GetLogo, endpoint = "get_logo", output = crate::wire::Json)]
pub async fn get_logo(namespace: String, repository: String) -> Result<LogoInfo, AppError> {
    with_caller!(|state, caller| logo_info(&state, &caller, &namespace, Some(&repository)).await)
}

/// The longest text field the upload form has (a namespace or repository name).
#[cfg(feature = "ssr")]
const FIELD_MAX: usize = 256;

/// Reads a short multipart text field, refusing with 413 as soon as it is
/// longer than [`FIELD_MAX`] (chunked bodies included: nothing more is read).
#[cfg(feature = "ssr")]
async fn small_field(field: &mut multer::Field<'static>, name: &str) -> Result<String, AppError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| AppError::bad_request(format!("The form could not be read: {e}.")))?
    {
        if buf.len() + chunk.len() > FIELD_MAX {
            return Err(AppError::new(
                crate::error::ErrorKind::PayloadTooLarge,
                format!("The `{name}` field is longer than {FIELD_MAX} bytes."),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf)
        .map_err(|_| AppError::bad_request(format!("The `{name}` field is not UTF-8 text.")))
}
