//! [`RecordedDeliveries`]: the queue as the in-process workers see it, noting every lease in
//! the job store.
//!
//! An embedded coordinator's queue is in memory: after a restart the job store alone says what
//! was unfinished and how often it was delivered. A restart must count a delivery only for a
//! job a worker actually took (it may have been running, and a job that kills its host must
//! not loop forever), never for one that only waited in the queue. So each lease is written
//! to the store before the worker gets the job ([`JobStore::record_delivery`]), and
//! [`JobStore::take_unfinished`] adds one to those alone. On Redis the store does nothing here:
//! the Redis queue counts deliveries itself.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use notary_queue::{
    IntakeDelivery, JobEnvelope, JobQueue, Lease, Leases, OutputPiece, QueueDepth, ReapReport,
    Result,
};
use uuid::Uuid;

use crate::store::JobStore;

/// A [`JobQueue`] that records each lease in a [`JobStore`] before handing it out.
pub struct RecordedDeliveries {
    queue: Arc<dyn JobQueue>,
    store: Arc<dyn JobStore>,
}

impl RecordedDeliveries {
    /// `queue`, with its leases recorded in `store`.
    pub fn new(queue: Arc<dyn JobQueue>, store: Arc<dyn JobStore>) -> Self {
        RecordedDeliveries { queue, store }
    }

    /// Records a lease's delivery in the store.
    async fn record(&self, lease: &Option<Lease>) {
        if let Some(lease) = lease {
            if let Ok(id) = Uuid::parse_str(&lease.job.job_id) {
                // A failed write costs at worst an uncounted delivery after a crash; the job
                // itself must not wait for the store.
                if let Err(e) = self.store.record_delivery(id, lease.job.attempt).await {
                    tracing::warn!(job_id = %id, error = %e, "could not record the delivery");
                }
            }
        }
    }
}

#[async_trait]
impl Leases for RecordedDeliveries {
    async fn lease(&self, worker: &str, wait: Duration) -> Result<Option<Lease>> {
        let lease = self.queue.lease(worker, wait).await?;
        self.record(&lease).await;
        Ok(lease)
    }

    async fn lease_as(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        let lease = self.queue.lease_as(worker, identity, wait).await?;
        self.record(&lease).await;
        Ok(lease)
    }

    async fn lease_seats(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        let lease = self.queue.lease_seats(worker, identity, wait).await?;
        self.record(&lease).await;
        Ok(lease)
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<bool> {
        self.queue.heartbeat(lease).await
    }

    async fn submit(&self, lease: &Lease, payload: String) -> Result<()> {
        self.queue.submit(lease, payload).await
    }

    async fn release(&self, lease: &Lease) -> Result<bool> {
        self.queue.release(lease).await
    }

    async fn append_output(&self, job_id: &str, piece: &OutputPiece) -> Result<()> {
        self.queue.append_output(job_id, piece).await
    }
}

#[async_trait]
impl JobQueue for RecordedDeliveries {
    async fn enqueue(&self, job: JobEnvelope) -> Result<()> {
        self.queue.enqueue(job).await
    }

    async fn alive(&self, within: Duration) -> Result<Vec<String>> {
        self.queue.alive(within).await
    }

    async fn reap(&self, lease_ttl: Duration, max_deliveries: u32) -> Result<ReapReport> {
        self.queue.reap(lease_ttl, max_deliveries).await
    }

    async fn next_intake(&self, consumer: &str, wait: Duration) -> Result<Option<IntakeDelivery>> {
        self.queue.next_intake(consumer, wait).await
    }

    async fn ack_intake(&self, delivery: &IntakeDelivery) -> Result<()> {
        self.queue.ack_intake(delivery).await
    }

    async fn depth(&self) -> Result<QueueDepth> {
        self.queue.depth().await
    }

    async fn ping(&self) -> Result<()> {
        self.queue.ping().await
    }

    async fn read_output(
        &self,
        job_id: &str,
        cursor: &str,
        wait: Duration,
    ) -> Result<(Vec<OutputPiece>, String)> {
        self.queue.read_output(job_id, cursor, wait).await
    }
}
