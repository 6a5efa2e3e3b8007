//! The registry of background jobs: each has a name, an interval and an
//! idempotent run (a rerun after a crash or on another instance does nothing
//! twice). Features list theirs; the server runs every registered job.

use super::state::AppState;
use futures::future::BoxFuture;
use std::time::Duration;

/// What one run did, for the log.
pub type JobResult = Result<usize, crate::error::AppError>;

/// A registered job.
#[derive(Clone, Copy)]
pub struct Job {
    pub name: &'static str,
    /// Time between the end of one run and the start of the next.
    pub every: fn(&AppState) -> Duration,
    /// One idempotent pass; returns how many things it did.
    pub run: fn(AppState) -> BoxFuture<'static, JobResult>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("name", &self.name).finish()
    }
}

/// Runs one job now and then every interval, until the task is aborted.
pub async fn run_forever(job: Job, state: AppState) {
    loop {
        match (job.run)(state.clone()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(job = job.name, did = n, "job ran"),
            Err(e) => tracing::error!(job = job.name, error = %e, "job failed"),
        }
        tokio::time::sleep((job.every)(&state).max(Duration::from_secs(1))).await;
    }
}

/// Starts every job on the runtime; abort the handles to stop them.
pub fn spawn_all(jobs: &[Job], state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    jobs.iter()
        .map(|j| tokio::spawn(run_forever(*j, state.clone())))
        .collect()
}
