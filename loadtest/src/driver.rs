//! The load: a fixed pool of `concurrency` client tasks, each running one job at a time, so
//! never more than `concurrency` jobs are in flight.
//!
//! Each task claims the next job index from a shared counter, runs it and records it, until a
//! bound says stop:
//! - `jobs`: no index at or past it is started;
//! - `duration`: no job starts after it; jobs in flight finish (within their timeout);
//! - `job_timeout`: a job without a final answer by then counts as `timeout`;
//! - `max_time`: the hard cap. Jobs still in flight are dropped (`cancelled`; a node process
//!   is killed), so a dead or stalled server cannot hang the tool.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

use crate::outcome::{Attempt, Class};
use crate::stats::{Recorder, StopReason, Summary};
use crate::target::Target;
use crate::workload::Workload;

/// How much a phase may do.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Jobs to run (none: until the duration passes).
    pub jobs: Option<u64>,
    /// Start no job after this long (none: until the jobs are done).
    pub duration: Option<Duration>,
    /// Hard cap on the phase's wall time, jobs in flight included.
    pub max_time: Duration,
    /// Longest wait for one job's final answer.
    pub job_timeout: Duration,
}

/// One measured (or warm-up) phase.
#[derive(Clone, Debug)]
pub struct Phase {
    /// Name shown on the progress line.
    pub label: &'static str,
    /// Client tasks, and so jobs in flight at most.
    pub concurrency: usize,
    /// When to stop.
    pub bounds: Bounds,
    /// Show a progress line on stderr.
    pub progress: bool,
}

/// What a phase recorded, with how long it ran and why it stopped.
#[derive(Debug)]
pub struct Recording {
    /// The counts and histograms.
    pub recorder: Recorder,
    /// Wall time from the first job start to the last job end.
    pub elapsed: Duration,
    /// Why it stopped.
    pub stopped_by: StopReason,
}

impl Recording {
    /// The phase's numbers under the name `target`.
    pub fn summarize(&self, target: &str) -> Summary {
        self.recorder
            .summarize(target, self.elapsed, self.stopped_by)
    }
}

/// State the client tasks share.
struct Shared {
    next_index: AtomicU64,
    /// A std mutex: it is held only to add one job's numbers, never across an await, and
    /// one recorder (rather than one per task) keeps the per-second histograms few.
    recorder: Mutex<Recorder>,
    cap_hit: AtomicBool,
    started: Instant,
    start_until: Option<Instant>,
    hard_cap: Instant,
}

impl Shared {
    fn recorder(&self) -> MutexGuard<'_, Recorder> {
        // A panic elsewhere cannot leave a half-added record: recording does not panic.
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs one phase against `target` until its bounds or `stop` end it.
pub async fn drive(
    phase: &Phase,
    target: &Arc<Target>,
    workload: &Arc<Workload>,
    stop: &CancellationToken,
) -> Recording {
    let started = Instant::now();
    let bounds = phase.bounds;
    let shared = Arc::new(Shared {
        next_index: AtomicU64::new(0),
        recorder: Mutex::new(Recorder::new(started)),
        cap_hit: AtomicBool::new(false),
        started,
        start_until: bounds.duration.map(|d| started + d),
        hard_cap: started + bounds.max_time,
    });

    let mut tasks = JoinSet::new();
    for _ in 0..phase.concurrency.max(1) {
        tasks.spawn(client(
            shared.clone(),
            target.clone(),
            workload.clone(),
            bounds,
            stop.clone(),
        ));
    }
    let progress = phase
        .progress
        .then(|| tokio::spawn(progress_line(phase.label, bounds.jobs, shared.clone())));
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
    let elapsed = started.elapsed();
    if let Some(progress) = progress {
        progress.abort();
        let _ = progress.await;
        eprint!("\r\x1b[2K");
    }

    let stopped_by = if stop.is_cancelled() {
        StopReason::Interrupt
    } else if shared.cap_hit.load(Ordering::Relaxed) {
        StopReason::TimeCap
    } else if bounds
        .jobs
        .is_some_and(|n| shared.next_index.load(Ordering::Relaxed) >= n)
    {
        StopReason::Jobs
    } else {
        StopReason::Duration
    };
    let shared = Arc::into_inner(shared).expect("all client tasks have ended");
    Recording {
        recorder: shared
            .recorder
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
        elapsed,
        stopped_by,
    }
}

/// One client: a job at a time until a bound is reached.
async fn client(
    shared: Arc<Shared>,
    target: Arc<Target>,
    workload: Arc<Workload>,
    bounds: Bounds,
    stop: CancellationToken,
) {
    loop {
        let began = Instant::now();
        if stop.is_cancelled() || shared.start_until.is_some_and(|t| began >= t) {
            return;
        }
        if began >= shared.hard_cap {
            shared.cap_hit.store(true, Ordering::Relaxed);
            return;
        }
        let index = shared.next_index.fetch_add(1, Ordering::Relaxed);
        if bounds.jobs.is_some_and(|n| index >= n) {
            return;
        }
        let deadline = (began + bounds.job_timeout).min(shared.hard_cap);
        let attempt = match timeout_at(deadline, target.execute(workload.job(index))).await {
            Ok(attempt) => attempt,
            Err(_) if deadline == shared.hard_cap => {
                shared.cap_hit.store(true, Ordering::Relaxed);
                Attempt::error(
                    Class::Cancelled,
                    format!(
                        "cut off by the {:?} time cap after {:?}",
                        bounds.max_time,
                        began.elapsed()
                    ),
                )
            }
            Err(_) => Attempt::error(
                Class::Timeout,
                format!("no final answer within {:?}", bounds.job_timeout),
            ),
        };
        let finished = Instant::now();
        shared
            .recorder()
            .record(&attempt, finished - began, finished);

        if let Some(pause) = attempt.retry_after {
            let mut until = (finished + pause).min(shared.hard_cap);
            if let Some(t) = shared.start_until {
                until = until.min(t);
            }
            tokio::select! {
                () = sleep_until(until) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}

/// Rewrites one stderr line four times a second.
async fn progress_line(label: &str, jobs: Option<u64>, shared: Arc<Shared>) {
    let total = jobs.map(|n| format!("/{n}")).unwrap_or_default();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let (done, valid) = shared.recorder().counts();
        let secs = shared.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { valid as f64 / secs } else { 0.0 };
        eprint!(
            "\r\x1b[2K{label}: {done}{total} jobs, {valid} valid, {} errors, {secs:.1} s, {rate:.1} valid/s",
            done - valid
        );
    }
}
