//! Reaping: stale leases of one stream redelivered or dead-lettered, idle consumers pruned;
//! and the coordinators' side of the intake (taking over stale items, acknowledging).

use std::time::Duration;

use redis::streams::{StreamAutoClaimReply, StreamId};

use super::keys::{COORDINATORS_GROUP, REAPER_CONSUMER, WORKERS_GROUP};
use super::{millis, RedisQueue, MAX_SCAN_ROUNDS, REAP_BATCH};
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

    /// Takes over one intake item that another coordinator took and left unacknowledged for
    /// longer than the intake TTL.
    pub(super) async fn reclaim_intake(&self, consumer: &str) -> Result<Option<StreamId>> {
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
                .arg(1);
            let reply: StreamAutoClaimReply = self.query("next_intake", &cmd).await?;
            if let Some(entry) = reply.claimed.into_iter().next() {
                return Ok(Some(entry));
            }
            if reply.next_stream_id == "0-0" {
                break;
            }
            cursor = reply.next_stream_id;
        }
        Ok(None)
    }

    /// Acknowledges and deletes one intake entry.
    pub(super) async fn ack_intake_entry(&self, entry_id: &str) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XACK")
            .arg(&self.intake_key)
            .arg(COORDINATORS_GROUP)
            .arg(entry_id)
            .ignore()
            .cmd("XDEL")
            .arg(&self.intake_key)
            .arg(entry_id)
            .ignore();
        let pipe = &pipe;
        self.call("ack_intake", move |mut conn| async move {
            pipe.query_async::<()>(&mut conn).await
        })
        .await
    }
}
