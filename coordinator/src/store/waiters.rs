//! Local wake-ups for requests waiting on a job's final state.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::futures::OwnedNotified;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::record::{JobRecord, JobStatus};

/// One waiter entry per job that someone waits for. Both store backends use it: the memory store
/// wakes it on `finalize`, the Redis store also from its pub/sub subscriber, so a request on
/// this replica wakes when another replica finalizes.
#[derive(Default)]
pub struct Waiters {
    map: Mutex<HashMap<Uuid, Arc<Waiter>>>,
}

/// What a waiting request is woken by, and the final record when this process finalized the
/// job itself (the request then answers without reading the record back).
#[derive(Default)]
pub(crate) struct Waiter {
    notify: Arc<Notify>,
    last: Mutex<Option<JobRecord>>,
}

impl Waiters {
    /// The entry for `id`, created on first use.
    pub(crate) fn get(&self, id: Uuid) -> Arc<Waiter> {
        self.map.lock().entry(id).or_default().clone()
    }

    /// Wakes everyone waiting for `id` and forgets the entry.
    pub(crate) fn wake(&self, id: Uuid) {
        if let Some(w) = self.map.lock().remove(&id) {
            w.notify.notify_waiters();
        }
    }

    /// Wakes everyone waiting for `last`'s job, handing them `last`, the record this process
    /// just stored as final. Only for a job without a jury: a jury's state is saved apart, and
    /// the caller's copy of it may be behind, so those waiters read the record back.
    pub(crate) fn wake_final(&self, last: &JobRecord) {
        let id = last.id();
        if let Some(w) = self.map.lock().remove(&id) {
            if last.jury.is_none() && last.outcome.is_some() {
                *w.last.lock() = Some(last.clone());
            }
            w.notify.notify_waiters();
        }
    }

    /// Forgets an entry nobody waits on any more (a waiter timed out).
    pub(crate) fn forget_if_unused(&self, id: Uuid) {
        let mut map = self.map.lock();
        if map.get(&id).is_some_and(|w| Arc::strong_count(w) == 1) {
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
        let waiter = waiters.get(id);
        let step = {
            let notified = waiter.notify.notified();
            tokio::pin!(notified);
            // Register before reading, so a finalize between the read and the wait is not missed.
            notified.as_mut().enable();
            match read().await? {
                // Final, or a split jury waiting for its client: done waiting.
                Some(r) if r.outcome.is_none() && r.status() != JobStatus::Escalated => {
                    match tokio::time::timeout_at(deadline, notified).await {
                        Ok(()) => match waiter.last.lock().clone() {
                            Some(last) => Step::Done(Some(Box::new(last))),
                            None => Step::Again,
                        },
                        Err(_) => Step::TimedOut,
                    }
                }
                other => Step::Done(other.map(Box::new)),
            }
        };
        drop(waiter);
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

/// A wait for one job's final state, registered before the job could become final (before it
/// is queued): the wait then needs no first read of the record, which the caller knows is not
/// final. From [`super::JobStore::watch_final`]; dropping it forgets the registration.
pub struct FinalWatch {
    id: Uuid,
    waiters: Arc<Waiters>,
    waiter: Option<Arc<Waiter>>,
    notified: Pin<Box<OwnedNotified>>,
}

impl FinalWatch {
    pub(crate) fn new(waiters: &Arc<Waiters>, id: Uuid) -> Self {
        let waiter = waiters.get(id);
        let mut notified = Box::pin(waiter.notify.clone().notified_owned());
        notified.as_mut().enable();
        Self {
            id,
            waiters: waiters.clone(),
            waiter: Some(waiter),
            notified,
        }
    }

    /// The job this watch is for.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Waits up to `timeout` like [`wait_until_final`], starting from the registration: the
    /// record handed over by this process's finalize, else `read` once woken or timed out.
    pub(crate) async fn wait<F, Fut>(
        mut self,
        timeout: std::time::Duration,
        read: F,
    ) -> crate::error::Result<Option<JobRecord>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = crate::error::Result<Option<JobRecord>>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        let woken = tokio::time::timeout_at(deadline, self.notified.as_mut())
            .await
            .is_ok();
        let handed = self
            .waiter
            .take()
            .and_then(|waiter| waiter.last.lock().clone());
        let (id, waiters) = (self.id, self.waiters.clone());
        drop(self);
        match handed {
            Some(last) => Ok(Some(last)),
            None if woken => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                wait_until_final(&waiters, id, left, read).await
            }
            None => {
                let mut read = read;
                read().await
            }
        }
    }
}

impl Drop for FinalWatch {
    fn drop(&mut self) {
        self.waiter.take();
        self.waiters.forget_if_unused(self.id);
    }
}
