//! Reaping: stale leases of one stream redelivered or dead-lettered, idle consumers pruned;
//! and the coordinators' side of the intake (taking over stale items, acknowledging).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::streams::{StreamAutoClaimReply, StreamId};
use tokio::sync::oneshot::error::TryRecvError;

use super::keys::{COORDINATORS_GROUP, REAPER_CONSUMER, WORKERS_GROUP};
use super::{millis, RedisQueue, INTAKE_BATCH, MAX_SCAN_ROUNDS, REAP_BATCH};
use crate::{JobEnvelope, ReapReport, Result};

impl RedisQueue {
    /// Redelivers (to the same stream) or dead-letters the stale leases of the stream of jobs
    /// like `like` (its lane's, or its target's).
    pub(super) async fn reap_stream(
        &self,
        like: &JobEnvelope,
        lease_ttl: Duration,
        max_deliveries: u32,
        report: &mut ReapReport,
    ) -> Result<()> {
        let lane = &self.stream_of(like);
        let mut cursor = "0-0".to_owned();
        for _ in 0..MAX_SCAN_ROUNDS {
            let mut cmd = redis::cmd("XAUTOCLAIM");
            cmd.arg(lane)
                .arg(WORKERS_GROUP)
                .arg(REAPER_CONSUMER)
                .arg(millis(lease_ttl))
                .arg(&cursor)
                .arg("COUNT")
                .arg(REAP_BATCH)
                .arg("JUSTID");
            // Redis 7: [next cursor, [claimed ids], [ids deleted from the stream meanwhile]].
            let (next, claimed, _deleted): (String, Vec<String>, redis::Value) =
                self.query("reap", &cmd).await?;
            for entry_id in claimed {
                let mut invocation = self.scripts.reap_one.prepare_invoke();
                invocation
                    .key(lane)
                    .key(&self.intake_key)
                    .arg(WORKERS_GROUP)
                    .arg(&entry_id)
                    .arg(max_deliveries)
                    .arg(like.lane)
                    .arg(like.target.as_deref().unwrap_or(""));
                let outcome: i64 = self.invoke("reap", &invocation).await?;
                match outcome {
                    1 => report.redelivered += 1,
                    2 => report.dead_lettered += 1,
                    _ => {}
                }
            }
            if next == "0-0" {
                break;
            }
            cursor = next;
        }
        Ok(())
    }

    /// Deletes long-idle consumers with nothing pending from every group.
    pub(super) async fn prune_consumers(&self) -> Result<u64> {
        let mut removed = 0;
        for (key, group) in self.groups() {
            let mut invocation = self.scripts.prune_consumers.prepare_invoke();
            invocation
                .key(key)
                .arg(group)
                .arg(millis(self.config.consumer_prune_idle));
            removed += self.invoke::<u64>("reap", &invocation).await?;
        }
        Ok(removed)
    }

    /// Takes over up to [`INTAKE_BATCH`] intake items that another coordinator took and left
    /// unacknowledged for longer than the intake TTL. Looks at most every quarter of the TTL
    /// per consumer (an abandoned item is taken over between one TTL and 1.25 TTL after it was
    /// handed out), not on every read: it was one command per result.
    pub(super) async fn reclaim_intake(&self, consumer: &str) -> Result<Vec<StreamId>> {
        if !self
            .intake_buffer
            .claim_due(consumer, self.config.intake_ttl / 4)
        {
            return Ok(Vec::new());
        }
        let min_idle = millis(self.config.intake_ttl);
        let mut cursor = "0-0".to_owned();
        for _ in 0..MAX_SCAN_ROUNDS {
            let mut cmd = redis::cmd("XAUTOCLAIM");
            cmd.arg(&self.intake_key)
                .arg(COORDINATORS_GROUP)
                .arg(consumer)
                .arg(min_idle)
                .arg(&cursor)
                .arg("COUNT")
                .arg(INTAKE_BATCH);
            let reply: StreamAutoClaimReply = self.query("next_intake", &cmd).await?;
            if !reply.claimed.is_empty() {
                return Ok(reply.claimed);
            }
            if reply.next_stream_id == "0-0" {
                break;
            }
            cursor = reply.next_stream_id;
        }
        Ok(Vec::new())
    }

    /// Acknowledges and deletes one intake entry. Acknowledgements asked for while another
    /// one is on its way go out together in the next pipeline (group commit, no added wait):
    /// one `XACK` and one `XDEL` for all of them instead of two commands each.
    pub(super) async fn ack_intake_entry(&self, entry_id: &str) -> Result<()> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.intake_acks
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((entry_id.to_owned(), tx));
        let _turn = self.intake_acks.turn.lock().await;
        match rx.try_recv() {
            // Sent by the holder of the turn before this one.
            Ok(result) => return result,
            // That holder was cancelled with this entry in its batch: send it alone.
            Err(TryRecvError::Closed) => {
                return self.ack_intake_entries(&[entry_id.to_owned()]).await
            }
            Err(TryRecvError::Empty) => {}
        }
        let batch: Vec<_> = std::mem::take(
            &mut *self
                .intake_acks
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
        let result = self.ack_intake_entries(&ids).await;
        for (_, reply) in batch {
            let _ = reply.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(e.again()),
            });
        }
        rx.try_recv().unwrap_or(result)
    }

    /// Acknowledges and deletes intake entries: one pipeline, not a transaction (the delete
    /// only keeps the stream short; an acknowledged entry is never handed out again).
    async fn ack_intake_entries(&self, ids: &[String]) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.cmd("XACK")
            .arg(&self.intake_key)
            .arg(COORDINATORS_GROUP)
            .arg(ids)
            .ignore()
            .cmd("XDEL")
            .arg(&self.intake_key)
            .arg(ids)
            .ignore();
        let pipe = &pipe;
        self.call("ack_intake", move |mut conn| async move {
            pipe.query_async::<()>(&mut conn).await
        })
        .await
    }
}

/// Intake acknowledgements waiting to go out, and whose turn it is to send them.
#[derive(Default)]
pub(super) struct IntakeAcks {
    waiting: Mutex<Vec<(String, Reply)>>,
    turn: tokio::sync::Mutex<()>,
}

type Reply = tokio::sync::oneshot::Sender<Result<()>>;

/// Per coordinator consumer: intake items read in one batch and not handed out yet (they are
/// pending for that consumer in Redis already), and when it last looked for abandoned items.
#[derive(Default)]
pub(super) struct IntakeBuffer(Mutex<HashMap<String, Consumer>>);

#[derive(Default)]
struct Consumer {
    items: VecDeque<StreamId>,
    claimed_at: Option<Instant>,
}

impl IntakeBuffer {
    fn with<T>(&self, consumer: &str, f: impl FnOnce(&mut Consumer) -> T) -> T {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(map.entry(consumer.to_owned()).or_default())
    }

    /// The next item read earlier for `consumer`.
    pub(super) fn take(&self, consumer: &str) -> Option<StreamId> {
        self.with(consumer, |c| c.items.pop_front())
    }

    /// Keeps the rest of a batch for `consumer`'s next calls.
    pub(super) fn keep(&self, consumer: &str, items: impl Iterator<Item = StreamId>) {
        self.with(consumer, |c| c.items.extend(items));
    }

    /// Whether `consumer` is due to look for abandoned items (and notes that it does now).
    pub(super) fn claim_due(&self, consumer: &str, every: Duration) -> bool {
        let now = Instant::now();
        self.with(consumer, |c| {
            let due = c
                .claimed_at
                .is_none_or(|at| now.duration_since(at) >= every);
            if due {
                c.claimed_at = Some(now);
            }
            due
        })
    }
}
