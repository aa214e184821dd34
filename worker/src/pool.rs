//! The lease loop: job slots that lease, run, heartbeat and submit.
//!
//! A slot submits a job's result while it already asks for its next job (the two calls go out
//! together: on Redis one network round trip instead of two between jobs).
//!
//! A pool owns its own multi-threaded tokio runtime with one thread per slot. Guests execute
//! inside futures (wasmtime's async mode, yielding every epoch tick), so running them on a
//! runtime of their own keeps CPU-heavy guests from delaying an API server in the same process
//! (the coordinator's embedded mode), while the heartbeats still run between the guest's
//! yields.

use std::sync::Arc;
use std::time::Duration;

use notary_queue::{Lease, Leases};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::execute::JobExecutor;

/// How a pool runs.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Job slots (jobs run at once).
    pub concurrency: usize,
    /// Consumer-name prefix, unique per process (slots append their index).
    pub name: String,
    /// How often a running job's lease is renewed. Keep it well under the coordinators'
    /// lease TTL (a third of it), so a live worker never loses a 60 s job.
    pub heartbeat_interval: Duration,
    /// How long one lease call blocks waiting for work; also the longest a stop request
    /// waits for an idle slot to notice it.
    pub lease_wait: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            concurrency: num_cpus::get().max(1),
            name: default_worker_name(),
            heartbeat_interval: Duration::from_secs(5),
            lease_wait: Duration::from_secs(1),
        }
    }
}

/// A consumer name unique to this process: host, pid and a random suffix.
pub fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "worker".to_string()
    } else {
        host
    };
    format!(
        "{host}-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

/// Running job slots.
pub struct WorkerPool {
    runtime: Option<tokio::runtime::Runtime>,
    slots: Vec<JoinHandle<()>>,
    stop: CancellationToken,
}

impl WorkerPool {
    /// Starts `config.concurrency` slots leasing from `queue`.
    pub fn start(
        queue: Arc<dyn Leases>,
        executor: Arc<JobExecutor>,
        config: PoolConfig,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.concurrency.max(1))
            .thread_name("notary-slot")
            .enable_all()
            .build()?;
        let stop = CancellationToken::new();
        // Targeted tasks (jury seats) are queued for this signing address, lowercase 0x hex;
        // leasing as it (and heartbeating leases taken so) keeps the identity alive.
        let identity = format!("{:#x}", executor.address());
        let slots = (0..config.concurrency)
            .map(|i| {
                let slot = Slot {
                    name: format!("{}-{i}", config.name),
                    identity: identity.clone(),
                    queue: queue.clone(),
                    executor: executor.clone(),
                    config: config.clone(),
                    stop: stop.clone(),
                };
                runtime.spawn(slot.run())
            })
            .collect();
        tracing::info!(slots = config.concurrency, worker = %executor.address(), name = %config.name, "worker pool started");
        Ok(WorkerPool {
            runtime: Some(runtime),
            slots,
            stop,
        })
    }

    /// Cancelling this token stops the pool (as [`WorkerPool::shutdown`] does).
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Graceful stop: idle slots stop leasing, a slot running a job finishes it and submits
    /// the result, then everything exits.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        for slot in self.slots.drain(..) {
            let _ = slot.await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        tracing::info!("worker pool stopped");
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

struct Slot {
    name: String,
    /// The executor's signing address (`0x…`, lowercase): tasks targeted at it come first.
    identity: String,
    queue: Arc<dyn Leases>,
    executor: Arc<JobExecutor>,
    config: PoolConfig,
    stop: CancellationToken,
}

impl Slot {
    async fn run(self) {
        let mut backoff = Backoff::default();
        // The last job's result, submitted while the next lease is asked for.
        let mut finished: Option<(Lease, String)> = None;
        while !self.stop.is_cancelled() {
            // The lease call is never cancelled half-way (an entry read but dropped would wait
            // a whole lease TTL to be reclaimed); a short wait bounds how long a stop takes.
            let submit = finished.take();
            let (leased, ()) = tokio::join!(
                self.queue
                    .lease_as(&self.name, &self.identity, self.config.lease_wait),
                async {
                    if let Some((lease, payload)) = submit {
                        self.submit(&lease, payload).await;
                    }
                }
            );
            let lease = match leased {
                Ok(Some(lease)) => lease,
                Ok(None) => {
                    backoff.reset();
                    continue;
                }
                Err(e) => {
                    crate::metrics::queue_error("lease");
                    let delay = backoff.next();
                    tracing::warn!(slot = %self.name, error = %e, retry_in_ms = delay.as_millis() as u64, "lease failed; backing off");
                    self.sleep_or_stop(delay).await;
                    continue;
                }
            };
            backoff.reset();
            if self.stop.is_cancelled() {
                if let Err(e) = self.queue.release(&lease).await {
                    tracing::warn!(job_id = %lease.job.job_id, error = %e, "could not release job at shutdown; it returns after the lease TTL");
                }
                break;
            }
            finished = self.work(lease).await;
        }
        if let Some((lease, payload)) = finished {
            self.submit(&lease, payload).await;
        }
    }

    /// Runs a leased job; its lease and the result to submit (`None` when there is nothing
    /// more to send).
    async fn work(&self, lease: Lease) -> Option<(Lease, String)> {
        let running = crate::metrics::RunningSandbox::start();
        // In a block of its own: the running job borrows the lease.
        let report = {
            let run = self.executor.execute(&lease.job.payload, lease.job.attempt);
            tokio::pin!(run);
            // The first beat one interval from now. Not `interval()` + an awaited first tick:
            // that tick waits for the timer wheel's next millisecond (and a hop to the thread
            // driving it), about 1 ms before every job started.
            let every = self.config.heartbeat_interval;
            let mut heartbeat =
                tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    report = &mut run => break report,
                    _ = heartbeat.tick() => match self.queue.heartbeat(&lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            crate::metrics::lease_lost();
                            tracing::warn!(job_id = %lease.job.job_id, "lease lost (reclaimed); finishing anyway, the first result wins");
                        }
                        Err(e) => {
                            crate::metrics::queue_error("heartbeat");
                            tracing::warn!(job_id = %lease.job.job_id, error = %e, "heartbeat failed");
                        }
                    },
                }
            }
        };
        drop(running);
        let Some(report) = report else {
            crate::metrics::not_a_job();
            // Not a job: acknowledge it away so it does not loop through the reaper forever.
            let _ = self.queue.submit(&lease, String::new()).await;
            return None;
        };
        let payload = match serde_json::to_string(&report) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(job_id = %lease.job.job_id, error = %e, "could not encode report");
                return None;
            }
        };
        crate::metrics::job_done(
            report.attestation.fields.result.as_str(),
            report.execution_ms,
            report.attestation.fields.fuel_used,
        );
        Some((lease, payload))
    }

    /// Submits a result. Redis may be briefly away; keep trying for about a lease TTL. If it
    /// stays away the lease expires and another worker runs the job again, which is safe.
    async fn submit(&self, lease: &Lease, payload: String) {
        let mut backoff = Backoff::default();
        for _ in 0..12 {
            match self.queue.submit(lease, payload.clone()).await {
                Ok(()) => return,
                Err(e) => {
                    crate::metrics::queue_error("submit");
                    let delay = backoff.next();
                    tracing::warn!(job_id = %lease.job.job_id, error = %e, "submit failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
        tracing::error!(job_id = %lease.job.job_id, "giving up submitting; the job will be redelivered");
    }

    async fn sleep_or_stop(&self, delay: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = self.stop.cancelled() => {}
        }
    }
}

/// Exponential backoff from 100 ms to 5 s.
#[derive(Default)]
struct Backoff {
    current: Option<Duration>,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let next = match self.current {
            None => Duration::from_millis(100),
            Some(d) => (d * 2).min(Duration::from_secs(5)),
        };
        self.current = Some(next);
        next
    }

    fn reset(&mut self) {
        self.current = None;
    }
}
