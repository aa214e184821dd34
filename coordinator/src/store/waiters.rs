//! Local wake-ups for requests waiting on a job's final state.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::record::JobStatus;

/// One `Notify` per job that someone waits for. Both store backends use it: the memory store
/// wakes it on `finalize`, the Redis store also from its pub/sub subscriber, so a request on
/// this replica wakes when another replica finalizes.
#[derive(Default)]
pub(crate) struct Waiters {
    map: Mutex<HashMap<Uuid, Arc<Notify>>>,
}

impl Waiters {
    /// The `Notify` for `id`, created on first use.
    pub(crate) fn get(&self, id: Uuid) -> Arc<Notify> {
        self.map.lock().entry(id).or_default().clone()
    }

    /// Wakes everyone waiting for `id` and forgets the entry.
    pub(crate) fn wake(&self, id: Uuid) {
        if let Some(n) = self.map.lock().remove(&id) {
            n.notify_waiters();
        }
    }

    /// Forgets an entry nobody waits on any more (a waiter timed out).
    pub(crate) fn forget_if_unused(&self, id: Uuid) {
        let mut map = self.map.lock();
        if map.get(&id).is_some_and(|n| Arc::strong_count(n) == 1) {
            map.remove(&id);
        }
    }
}

/// Shared wait loop: check the record, sleep until woken or timed out, check again. A job is
/// waited for until it is final or escalated (a split jury waits for its client's decision).
pub(crate) async fn wait_until_final<F, Fut>(
    waiters: &Waiters,
    id: Uuid,
    timeout: std::time::Duration,
    mut read: F,
) -> crate::error::Result<Option<crate::record::JobRecord>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<Option<crate::record::JobRecord>>>,
{
    enum Step {
        Again,
        TimedOut,
        Done(Option<Box<crate::record::JobRecord>>),
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notify = waiters.get(id);
        let step = {
            let notified = notify.notified();
            tokio::pin!(notified);
            // Register before reading, so a finalize between the read and the wait is not missed.
            notified.as_mut().enable();
            match read().await? {
                // Final, or a split jury waiting for its client: done waiting.
                Some(r) if r.outcome.is_none() && r.status() != JobStatus::Escalated => {
                    match tokio::time::timeout_at(deadline, notified).await {
                        Ok(()) => Step::Again,
                        Err(_) => Step::TimedOut,
                    }
                }
                other => Step::Done(other.map(Box::new)),
            }
        };
        drop(notify);
        match step {
            Step::Again => continue,
            Step::TimedOut => {
                waiters.forget_if_unused(id);
                return read().await;
            }
            Step::Done(record) => {
                waiters.forget_if_unused(id);
                return Ok(record.map(|r| *r));
            }
        }
    }
}
