//! Deleting stored logo files that no repository or organization uses any
//! more. Idempotent; files younger than an hour are kept, so an upload that
//! has stored its files but not yet committed its name is never collected.

use crate::core::jobs::{Job, JobResult};
use crate::core::state::AppState;
use crate::error::AppError;
use futures::StreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::collections::HashSet;
use std::time::Duration;

/// Files stored less than this long ago are never collected.
pub const GRACE: Duration = Duration::from_secs(3600);

/// The registered job.
pub const COLLECT: Job = Job {
    name: "logo-gc",
    every: |_| Duration::from_secs(3600),
    run: |s: AppState| {
        Box::pin(async move { collect(&s, GRACE).await })
            as futures::future::BoxFuture<'static, JobResult>
    },
};

/// The content hash a stored file belongs to (`<hash>-64.png` → `<hash>`).
fn hash_of(file: &str) -> &str {
    file.split(['.', '-']).next().unwrap_or(file)
}

/// Deletes unreferenced logo files older than `grace`; returns how many.
pub async fn collect(state: &AppState, grace: Duration) -> Result<usize, AppError> {
    let mut tx = state.db.begin().await?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT logo FROM repositories WHERE logo IS NOT NULL
         UNION SELECT logo FROM namespaces WHERE logo IS NOT NULL",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let used: HashSet<String> = rows.iter().map(|(f,)| hash_of(f).to_string()).collect();
    let cutoff = wall_clock_ms_ago(grace);
    let store: &dyn ObjectStore = state.blobs.as_ref();
    let mut listing = store.list(Some(&StorePath::from("logos")));
    let mut doomed = Vec::new();
    while let Some(meta) = listing.next().await {
        let meta = meta.map_err(|e| {
            tracing::error!(error = %e, "listing stored logos failed");
            AppError::internal()
        })?;
        let name = meta.location.filename().unwrap_or_default().to_string();
        if !used.contains(hash_of(&name)) && meta.last_modified.timestamp_millis() < cutoff {
            doomed.push(meta.location);
        }
    }
    drop(listing);
    let mut deleted = 0;
    for path in doomed {
        match store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => deleted += 1,
            Err(e) => {
                tracing::error!(error = %e, path = %path, "deleting an unused logo failed");
                return Err(AppError::internal());
            }
        }
    }
    Ok(deleted)
}

/// Wall-clock milliseconds `grace` ago (file times are wall-clock, not the
/// hub's business clock).
fn wall_clock_ms_ago(grace: Duration) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    now - grace.as_millis() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_share_their_hash() {
        let h = "a".repeat(64);
        for f in [
            format!("{h}.png"),
            format!("{h}-128.png"),
            format!("{h}-64.jpg"),
        ] {
            assert_eq!(hash_of(&f), h);
        }
    }
}
