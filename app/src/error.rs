//! The one error type that crosses the wire, from server functions and REST
//! handlers alike, serialized as `{"error":{"code","message"}}`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, which decides the HTTP status and the stable `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 400: the request is malformed (bad JSON, missing field).
    BadRequest,
    /// 401: no valid session or token.
    Unauthenticated,
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 404: no such thing (or not visible to the caller).
    NotFound,
    /// 409: conflicts with existing state (duplicate name, open application).
    Conflict,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 415: the content type is not accepted.
    UnsupportedMediaType,
    /// 422: well-formed but breaks a rule (invalid name, failing check).
    Invalid,
    /// 429: too many attempts; try again later.
    RateLimited,
    /// 500: something failed on our side; details are in the server log only.
    Internal,
}

impl ErrorKind {
    /// The HTTP status code for this kind.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::Invalid => 422,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
        }
    }

    /// The stable machine-readable code, as sent in `error.code`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::Invalid => "invalid",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An error a user can read: a kind, a message that says what to fix, and
/// optionally the form field it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    pub field: Option<String>,
    /// Structured detail for clients, e.g. the failing eligibility checks
    /// (sent by the server; always `None` when read in the browser).
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    error: WireBody,
}

#[derive(Serialize, Deserialize)]
struct WireBody {
    code: ErrorKind,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    // Not read in the browser: no view shows them, and decoding any JSON
    // value there took serde_json's `Value` into the wasm (about 5 kB
    // brotli); the logo editor reads the one detail it uses with
    // `JSON.parse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    details: Option<serde_json::Value>,
}

impl From<Wire> for AppError {
    fn from(w: Wire) -> Self {
        AppError {
            kind: w.error.code,
            message: w.error.message,
            field: w.error.field,
            details: w.error.details,
        }
    }
}

impl From<AppError> for Wire {
    fn from(e: AppError) -> Self {
        Wire {
            error: WireBody {
                code: e.kind,
                message: e.message,
                field: e.field,
                details: e.details,
            },
        }
    }
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
            field: None,
            details: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "Sign in first, or send a valid access token in `Authorization: Bearer <token>`.",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    /// A rule broken by one form field; the view shows it next to that field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        AppError {
            kind: ErrorKind::Invalid,
            message: message.into(),
            field: Some(field.to_string()),
            details: None,
        }
    }
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RateLimited, message)
    }
    /// The opaque error for failures whose details must stay in the log.
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong on our side. It has been logged; please try again.",
        )
    }
    /// A conflict about one form field.
    pub fn conflict_field(field: &str, message: impl Into<String>) -> Self {
        AppError {
            field: Some(field.to_string()),
            ..Self::new(ErrorKind::Conflict, message)
        }
    }
    /// Attaches structured detail.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
    /// The JSON body, `{"error":{"code","message"}}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"error":{"code":"internal","message":"error"}}"#.to_string())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = crate::wire::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) | E::Serialization(m) => {
                AppError::bad_request(format!("The request could not be read: {m}"))
            }
            E::Request(m) => AppError::new(
                ErrorKind::Internal,
                format!("The server could not be reached: {m}"),
            ),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::internal()
            }
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut res = (status, self.to_json()).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            // Over a rate limit: say when to come back, as a header too.
            if let Some(secs) = self
                .details
                .as_ref()
                .and_then(|d| d.get("retry_after"))
                .and_then(|v| v.as_u64())
            {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            res
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(e: sqlx::Error) -> Self {
            tracing::error!(error = %e, "database error");
            AppError::internal()
        }
    }

    impl From<tokio::task::JoinError> for AppError {
        fn from(e: tokio::task::JoinError) -> Self {
            tracing::error!(error = %e, "blocking task failed");
            AppError::internal()
        }
    }
}

/// Result alias used by every feature.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_round_trips() {
        let e = AppError::invalid_field("name", "too short");
        let json = e.to_json();
        assert_eq!(
            json,
            r#"{"error":{"code":"invalid","message":"too short","field":"name"}}"#
        );
        let back: AppError = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, e);
        assert_eq!(back.status(), 422);
    }

    #[test]
    fn every_kind_has_distinct_code() {
        let kinds = [
            ErrorKind::BadRequest,
            ErrorKind::Unauthenticated,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::PayloadTooLarge,
            ErrorKind::UnsupportedMediaType,
            ErrorKind::Invalid,
            ErrorKind::RateLimited,
            ErrorKind::Internal,
        ];
        let codes: std::collections::HashSet<_> = kinds.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), kinds.len());
        for k in kinds {
            let e = AppError::new(k, "m");
            let v: serde_json::Value = serde_json::from_str(&e.to_json()).expect("json");
            assert_eq!(v["error"]["code"], k.code());
        }
    }
}
