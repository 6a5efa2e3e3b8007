//! Pull events: every manifest GET or HEAD on the registry becomes one event,
//! and with them the repositories' pull counts and tags' last-pulled times,
//! queued in memory (bounded: when full, the pull still succeeds and a
//! counter of dropped events rises) and written in batches by the registered
//! `pull-events` job, or by `flush` at shutdown. A pull never waits for the
//! analytics write.

use super::jobs::{Job, JobResult};
use super::state::AppState;
use crate::db::Db;
use crate::domain::Timestamp;
use crate::domain::ids::{NamespaceId, RepoId};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Events held before new ones are dropped.
pub const QUEUE_MAX: usize = 100_000;
/// Rows per INSERT statement (10 parameters each; SQLite allows 32,766).
const BATCH: usize = 1000;
/// Events per transaction.
const PER_TX: usize = 20_000;

/// One pull, as the analytics need it (no raw IP address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullEvent {
    pub at: Timestamp,
    pub namespace: NamespaceId,
    pub repository: RepoId,
    pub reference: String,
    pub tag: Option<String>,
    pub digest: String,
    /// `pull_by_tag`, `pull_by_digest` or `version_check`.
    pub action: &'static str,
    pub http_method: &'static str,
    pub user_agent: String,
    pub authenticated: bool,
}

/// The in-memory queue.
#[derive(Default)]
pub struct EventQueue {
    queue: Mutex<VecDeque<PullEvent>>,
    dropped: AtomicU64,
    written: AtomicU64,
}

impl EventQueue {
    /// Queues an event; false (and counted) when the queue is full.
    pub fn push(&self, e: PullEvent) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= QUEUE_MAX {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.push_back(e);
        true
    }
    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    /// Events written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
    /// Events waiting.
    pub fn len(&self) -> usize {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn take(&self, n: usize) -> Vec<PullEvent> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let n = n.min(q.len());
        q.drain(..n).collect()
    }
    /// Puts events back at the front after a failed write, in order.
    fn give_back(&self, events: Vec<PullEvent>) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        for e in events.into_iter().rev() {
            q.push_front(e);
        }
    }
}

async fn write(db: &Db, events: &[PullEvent]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    match db.backend {
        // SQLite: one prepared statement, executed per row inside the
        // transaction, is several times faster than wide multi-row INSERTs.
        crate::db::Backend::Sqlite => {
            for e in events {
                sqlx::query(
                    "INSERT INTO pull_events (at, namespace_id, repository_id, reference, tag, digest, action, http_method, user_agent, authenticated)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(e.at.0)
                .bind(e.namespace.0)
                .bind(e.repository.0)
                .bind(e.reference.as_str())
                .bind(e.tag.as_deref())
                .bind(e.digest.as_str())
                .bind(e.action)
                .bind(e.http_method)
                .bind(e.user_agent.as_str())
                .bind(e.authenticated)
                .execute(&mut *tx)
                .await?;
            }
        }
        // PostgreSQL: multi-row INSERTs, one round trip per batch.
        crate::db::Backend::Postgres => {
            for chunk in events.chunks(BATCH) {
                let mut sql = String::from(
                    "INSERT INTO pull_events (at, namespace_id, repository_id, reference, tag, digest, action, http_method, user_agent, authenticated) VALUES ",
                );
                for i in 0..chunk.len() {
                    let b = i * 10;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9,
                        b + 10
                    ));
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for e in chunk {
                    q = q
                        .bind(e.at.0)
                        .bind(e.namespace.0)
                        .bind(e.repository.0)
                        .bind(e.reference.clone())
                        .bind(e.tag.clone())
                        .bind(e.digest.clone())
                        .bind(e.action)
                        .bind(e.http_method)
                        .bind(e.user_agent.clone())
                        .bind(e.authenticated);
                }
                q.execute(&mut *tx).await?;
            }
        }
    }
    // The repository's lifetime pull count (GETs) and each tag's last pull,
    // aggregated per batch: one UPDATE per repository and tag, not per pull.
    let mut counts: std::collections::BTreeMap<i64, i64> = Default::default();
    let mut pulled: std::collections::BTreeMap<(i64, String), i64> = Default::default();
    for e in events.iter().filter(|e| e.http_method == "GET") {
        *counts.entry(e.repository.0).or_default() += 1;
        if let Some(tag) = &e.tag {
            let at = pulled.entry((e.repository.0, tag.clone())).or_default();
            *at = (*at).max(e.at.0);
        }
    }
    for (repo, n) in counts {
        sqlx::query("UPDATE repositories SET pull_count = pull_count + $1 WHERE id = $2")
            .bind(n)
            .bind(repo)
            .execute(&mut *tx)
            .await?;
    }
    for ((repo, tag), at) in pulled {
        sqlx::query(
            "UPDATE tags SET last_pulled_at = $1 WHERE repository_id = $2 AND name = $3
               AND (last_pulled_at IS NULL OR last_pulled_at < $1)",
        )
        .bind(at)
        .bind(repo)
        .bind(tag)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Writes everything queued now, in batches of one transaction each; returns
/// how many were written. On a failure the batch goes back to the queue.
pub async fn flush(state: &AppState) -> Result<usize, sqlx::Error> {
    let mut total = 0;
    loop {
        let batch = state.events.take(PER_TX);
        if batch.is_empty() {
            return Ok(total);
        }
        if let Err(e) = write(&state.db, &batch).await {
            state.events.give_back(batch);
            return Err(e);
        }
        total += batch.len();
        state
            .events
            .written
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
}

/// The registered job that writes queued events every second.
pub const WRITER: Job = Job {
    name: "pull-events",
    every: |_| Duration::from_secs(1),
    run: |s| {
        Box::pin(async move { Ok(flush(&s).await?) })
            as futures::future::BoxFuture<'static, JobResult>
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: i64) -> PullEvent {
        PullEvent {
            at: Timestamp(i),
            namespace: NamespaceId(1),
            repository: RepoId(1),
            reference: "latest".into(),
            tag: Some("latest".into()),
            digest: "sha256:x".into(),
            action: "pull_by_tag",
            http_method: "GET",
            user_agent: "test".into(),
            authenticated: false,
        }
    }

    #[test]
    fn the_queue_is_bounded_and_keeps_order() {
        let q = EventQueue::default();
        for i in 0..3 {
            assert!(q.push(ev(i)));
        }
        let taken = q.take(2);
        assert_eq!(taken.iter().map(|e| e.at.0).collect::<Vec<_>>(), vec![0, 1]);
        q.give_back(taken);
        assert_eq!(
            q.take(10).iter().map(|e| e.at.0).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        for i in 0..QUEUE_MAX as i64 {
            q.push(ev(i));
        }
        assert!(!q.push(ev(-1)));
        assert_eq!(q.dropped(), 1);
    }
}
