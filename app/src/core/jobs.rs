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

/// Runs one job now and then every interval until `stop` turns true; a run
/// in progress is never cut short (a half-written batch would be lost).
pub async fn run_until(job: Job, state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    state.metrics.job_registered(job.name);
    loop {
        let result = (job.run)(state.clone()).await;
        state.metrics.job_ran(job.name, result.is_ok());
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(job = job.name, did = n, "job ran"),
            Err(e) => tracing::error!(job = job.name, error = %e, "job failed"),
        }
        let pause = (job.every)(&state).max(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The running jobs.
pub struct Running {
    stop: tokio::sync::watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Asks every job to stop after its current run and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
    }
}

/// Starts every job on the runtime.
pub fn spawn_all(jobs: &[Job], state: &AppState) -> Running {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let handles = jobs
        .iter()
        .map(|j| tokio::spawn(run_until(*j, state.clone(), rx.clone())))
        .collect();
    Running { stop, handles }
}
