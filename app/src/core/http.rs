//! REST plumbing every feature's routes share: reading a JSON body, and the
//! answer for an unknown `/api/v1` path.

use crate::error::{AppError, AppResult};
use serde::de::DeserializeOwned;

/// Parses a JSON body, answering 400 with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    if body.is_empty() {
        return Err(AppError::bad_request("Send a JSON body."));
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("The JSON body could not be read: {e}.")))
}

/// `/api/v1/...` paths no feature serves.
pub async fn api_not_found() -> AppError {
    AppError::not_found("There is no such API endpoint; see docs/API.md for the list.")
}
