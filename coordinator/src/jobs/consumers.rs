//! Event consumers: code that reacts to final jobs (the payment settlement, webhooks, …) by
//! reading the event log under its own name.
//!
//! [`spawn`] runs one [`EventHandler`]: it reads events, handles up to `concurrency` of them at
//! once (a settlement waits on the chain; the registry writer batches what arrives together),
//! retries a failed one with backoff until it succeeds, and acknowledges it only then. Handled
//! events are acknowledged in batches (every [`ACK_LINGER`] or [`ACK_BATCH`] events, and at
//! stop): one command for many events instead of one each. A coordinator that dies mid-way
//! leaves its events unacknowledged and they are handed out again (to another replica, or after
//! the restart), so a handler sees an event at least once and must be idempotent by job id.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::store::{EventLog, JobEvent};

/// The read linger of consumers whose events may wait a little (see
/// [`ConsumerOptions::linger`]).
pub const BATCH_LINGER: Duration = Duration::from_millis(25);

/// Longest a handled event waits for its acknowledgement to go out with others.
pub const ACK_LINGER: Duration = Duration::from_millis(50);

/// Most events acknowledged in one command.
pub const ACK_BATCH: usize = 128;

/// Something that reacts to final jobs.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The consumer name: its own position in the log (stable across restarts).
    fn name(&self) -> &'static str;
    /// Handles one event. `Err` is retried later; the handler must be idempotent by job id.
    async fn handle(&self, event: &JobEvent) -> Result<()>;
}

/// How a consumer runs.
#[derive(Clone, Debug)]
pub struct ConsumerOptions {
    /// Events handled at once.
    pub concurrency: usize,
    /// An event handed out and not acknowledged for this long is handed out again (longer
    /// than the slowest successful handling).
    pub redeliver_after: Duration,
    /// How long a stopping consumer lets its handlers finish before it abandons them
    /// (unacknowledged, so they are handled again after the restart).
    pub drain: Duration,
    /// After a read that found events, wait this long before the next one, so events arriving
    /// meanwhile come in one read instead of one read each (one blocking read per job per
    /// consumer otherwise). For consumers whose events may wait that long (webhooks), or
    /// whose urgent events end the linger through `wake`. Zero: read again at once.
    pub linger: Duration,
    /// Ends a linger early (e.g. [`super::JobService::wake_on_final`] for the jobs whose
    /// events must not wait).
    pub wake: Option<Arc<tokio::sync::Notify>>,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            concurrency: 32,
            redeliver_after: Duration::from_secs(300),
            drain: Duration::from_secs(10),
            linger: Duration::ZERO,
            wake: None,
        }
    }
}

/// Runs `handler` on `log` until `stop`; the returned task ends after the drain.
pub fn spawn(
    log: Arc<dyn EventLog>,
    handler: Arc<dyn EventHandler>,
    options: ConsumerOptions,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(log, handler, options, stop))
}

async fn run(
    log: Arc<dyn EventLog>,
    handler: Arc<dyn EventHandler>,
    options: ConsumerOptions,
    stop: CancellationToken,
) {
    let name = handler.name();
    let (acks, handled) = mpsc::unbounded_channel();
    let acker = tokio::spawn(acknowledge(log.clone(), name, handled, stop.clone()));
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut running = JoinSet::new();
    // Events being handled: a log may hand one out again while it is (a Redis reader taking
    // back its own pending entries after a failed read), and it must not run twice at once.
    let in_flight = Arc::new(parking_lot::Mutex::new(HashSet::<String>::new()));
    let mut delay = Duration::from_millis(100);
    let mut linger_until = None;
    while !stop.is_cancelled() {
        while running.try_join_next().is_some() {}
        if let Some(until) = linger_until.take() {
            let woken = async {
                match &options.wake {
                    Some(wake) => wake.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                _ = woken => {}
                _ = stop.cancelled() => break,
            }
        }
        // Read only as many as can be handled now, so none waits unacknowledged for a slot.
        let free = permits.available_permits();
        if free == 0 {
            tokio::select! {
                _ = running.join_next() => {}
                _ = stop.cancelled() => break,
            }
            continue;
        }
        let read = tokio::select! {
            r = log.read(name, free, Duration::from_secs(1), options.redeliver_after) => r,
            _ = stop.cancelled() => break,
        };
        let events = match read {
            Ok(events) => {
                delay = Duration::from_millis(100);
                if !events.is_empty() && !options.linger.is_zero() {
                    linger_until = Some(tokio::time::Instant::now() + options.linger);
                }
                events
            }
            Err(e) => {
                tracing::warn!(consumer = name, error = %e, "event log read failed; backing off");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.cancelled() => break,
                }
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        for event in events {
            if !in_flight.lock().insert(event.id.clone()) {
                continue;
            }
            let permit = permits.clone().acquire_owned().await.expect("never closed");
            let (handler, stop, acks) = (handler.clone(), stop.clone(), acks.clone());
            let in_flight = in_flight.clone();
            running.spawn(async move {
                let _permit = permit;
                let done = handle_until_done(handler.as_ref(), &event, &stop).await;
                in_flight.lock().remove(&event.id);
                if done {
                    let _ = acks.send(event);
                }
            });
        }
    }
    // Let running handlers finish (and acknowledge) for a while, then abandon them.
    let drained = tokio::time::timeout(options.drain, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            consumer = name,
            left = running.len(),
            "stopping with events unhandled; they are handled again after the restart"
        );
        running.abort_all();
    }
    // The acknowledgements of what was handled go out before the task ends.
    drop(acks);
    drop(running);
    let _ = acker.await;
}

/// Acknowledges handled events in batches until every sender is gone, retrying a failed batch
/// with backoff, once only when stopping (an event left unacknowledged is only handled again
/// later).
async fn acknowledge(
    log: Arc<dyn EventLog>,
    name: &'static str,
    mut handled: mpsc::UnboundedReceiver<JobEvent>,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(ACK_BATCH);
    while let Some(first) = handled.recv().await {
        batch.push(first);
        let linger = tokio::time::sleep(ACK_LINGER);
        tokio::pin!(linger);
        while batch.len() < ACK_BATCH {
            tokio::select! {
                next = handled.recv() => match next {
                    Some(event) => batch.push(event),
                    None => break,
                },
                _ = &mut linger => break,
            }
        }
        let mut delay = Duration::from_millis(100);
        for attempt in 1.. {
            match log.ack_many(name, &batch).await {
                Ok(()) => break,
                Err(e) if attempt < 8 && !stop.is_cancelled() => {
                    tracing::warn!(consumer = name, events = batch.len(), error = %e, "event ack failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::warn!(consumer = name, events = batch.len(), error = %e, "event ack failed; these events will be handled again");
                    break;
                }
            }
        }
        batch.clear();
    }
}

/// Handles one event, retrying with backoff; `false` if stopped first (not to be acknowledged).
async fn handle_until_done(
    handler: &dyn EventHandler,
    event: &JobEvent,
    stop: &CancellationToken,
) -> bool {
    let name = handler.name();
    let mut delay = Duration::from_millis(250);
    loop {
        match handler.handle(event).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(consumer = name, job_id = %event.job_id, error = %e, "event handling failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    // Not acknowledged: handled again after the restart.
                    _ = stop.cancelled() => return false,
                }
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
    true
}
