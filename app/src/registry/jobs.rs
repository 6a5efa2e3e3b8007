//! Registry housekeeping, one registered idempotent job: upload sessions
//! untouched for a day are cancelled (their chunks deleted), and blobs that no
//! repository holds and no manifest references are deleted from storage after
//! a grace period — a blob an upload in progress is about to reference is
//! never taken, because an upload links its blob in the same transaction that
//! records it.

use super::store;
use crate::core::jobs::{Job, JobResult};
use crate::core::state::AppState;
use crate::error::AppError;
use object_store::ObjectStoreExt;
use std::time::Duration;

/// Unfinished uploads older than this are cancelled.
pub const UPLOAD_TTL: Duration = Duration::from_secs(24 * 3600);
/// Unreferenced blobs younger than this are kept.
pub const BLOB_GRACE: Duration = Duration::from_secs(3600);

/// The registered job.
pub const HOUSEKEEPING: Job = Job {
    name: "registry-gc",
    every: |_| Duration::from_secs(3600),
    run: |s: AppState| {
        Box::pin(async move { collect(&s, UPLOAD_TTL, BLOB_GRACE).await })
            as futures::future::BoxFuture<'static, JobResult>
    },
};

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "registry housekeeping failed");
    AppError::internal()
}

/// One pass; returns how many uploads and blobs it removed.
pub async fn collect(
    state: &AppState,
    upload_ttl: Duration,
    grace: Duration,
) -> Result<usize, AppError> {
    let now = state.clock.now();
    let mut done = 0;
    // Stale uploads.
    let cutoff = now.0 - upload_ttl.as_millis() as i64;
    let mut tx = state.db.begin().await?;
    let stale: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM registry_uploads WHERE updated_at < $1")
            .bind(cutoff)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    for (id,) in stale {
        store::delete_upload_chunks(state.blobs.as_ref(), &id)
            .await
            .map_err(internal)?;
        let mut tx = state.db.begin_write().await?;
        if store::end_upload(&mut tx, &id).await? {
            done += 1;
        }
        tx.commit().await?;
    }
    // Orphaned blobs: held by no repository, referenced by no manifest.
    let cutoff = now.0 - grace.as_millis() as i64;
    let mut tx = state.db.begin().await?;
    let orphans: Vec<(String,)> = sqlx::query_as(
        "SELECT b.digest FROM registry_blobs b
         WHERE b.created_at < $1
           AND NOT EXISTS (SELECT 1 FROM registry_repo_blobs r WHERE r.digest = b.digest)
           AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs m WHERE m.digest = b.digest)",
    )
    .bind(cutoff)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for (digest,) in orphans {
        // Re-check under the write lock, then forget the row before the bytes.
        let mut tx = state.db.begin_write().await?;
        let gone = sqlx::query(
            "DELETE FROM registry_blobs WHERE digest = $1
               AND NOT EXISTS (SELECT 1 FROM registry_repo_blobs r WHERE r.digest = $1)
               AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs m WHERE m.digest = $1)",
        )
        .bind(&digest)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        if gone {
            match state.blobs.delete(&store::blob_path(&digest)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => done += 1,
                Err(e) => return Err(internal(e)),
            }
        }
    }
    Ok(done)
}
