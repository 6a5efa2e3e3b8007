//! The home page's server function: public counts.

use super::HubStats;
use crate::error::AppError;
use leptos::prelude::*;

/// Public numbers for the home page; anyone may read them.
#[server(endpoint = "hub_stats")]
pub async fn get_hub_stats() -> Result<HubStats, AppError> {
    let state = crate::core::state::AppState::current()?;
    let mut tx = state.db.begin().await?;
    let stats = super::store::stats(&mut tx).await?;
    tx.commit().await?;
    Ok(stats)
}
