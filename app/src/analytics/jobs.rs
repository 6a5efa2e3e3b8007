//! Raw-event retention: deletes raw pull events older than the configured
//! retention (13 months by default) and the day secrets of unique-address
//! hashes after two days. Rollups are kept forever. Idempotent.

use super::store;
use crate::core::jobs::{Job, JobResult};
use crate::core::state::AppState;
use crate::domain::pulls::day_of_millis;
use std::time::Duration;

/// The registered job.
pub const RETENTION: Job = Job {
    name: "pull-retention",
    every: |_| Duration::from_secs(3600),
    run: |s: AppState| {
        Box::pin(async move { Ok(prune(&s).await? as usize) })
            as futures::future::BoxFuture<'static, JobResult>
    },
};

/// One pass; returns the raw events deleted.
pub async fn prune(state: &AppState) -> Result<u64, sqlx::Error> {
    let today = day_of_millis(state.clock.now().0);
    store::prune(
        &state.db,
        today - state.settings.analytics_retention_days + 1,
        today - 2,
    )
    .await
}
