//! Leasing across streams, and targeted tasks (juror seats) in Redis.
//!
//! A targeted task is an entry of its identity's own stream (`keys::target`), with the `workers`
//! group, created by the first enqueue for that identity or its first lease, whichever comes
//! first (and listed in `keys::targets` for the reaper). `lease_as` runs the lease script over
//! that stream first, then the lanes, and waits on all of them; a worker without an identity
//! never names a targeted stream, so it can never lease a seat. The alive set (`keys::alive`) is
//! written by the lease script (at most every `alive_every` per identity and process) and by
//! heartbeats of identity leases,
//! with Redis's own clock, so coordinators and workers on machines whose clocks differ agree on
//! who is alive. The reaper treats each targeted stream like a lane (stale leases redelivered to
//! the same stream), then dead-letters the waiting tasks of identities not alive, one script per
//! identity.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::streams::{StreamId, StreamReadReply};

use super::connection::is_nogroup;
use super::keys::{self, WORKERS_GROUP};
use super::{malformed, millis, parse_job, RedisQueue};
use crate::blocking::read_group;
use crate::model::target_not_alive_reason;
use crate::{Error, JobEnvelope, Lease, ReapReport, Result};

impl RedisQueue {
    /// The stream a job lives in: its target's, or its lane's.
    pub(super) fn stream_of(&self, job: &JobEnvelope) -> String {
        match &job.target {
            Some(identity) => keys::target(&self.config.key_prefix, identity),
            None => self.lane_key(job.lane).to_owned(),
        }
    }

    /// Leases for `worker` (as `identity`, if any: its targeted stream first, then the shared
    /// lanes unless `seats_only`), waiting up to `wait`.
    pub(super) async fn lease_from(
        &self,
        worker: &str,
        identity: Option<&str>,
        seats_only: bool,
        wait: Duration,
        look_first: bool,
    ) -> Result<Option<Lease>> {
        crate::model::check_consumer_name(worker)?;
        if let Some(identity) = identity {
            crate::model::check_identity(identity)?;
        }
        let target = identity.map(|i| keys::target(&self.config.key_prefix, i));
        let lanes = if seats_only {
            &[][..]
        } else {
            &self.lane_keys[..]
        };
        let streams: Vec<&str> = target
            .as_deref()
            .into_iter()
            .chain(lanes.iter().map(String::as_str))
            .collect();
        let to_lease = |index: usize, entry: StreamId| -> Result<Lease> {
            // The targeted stream is first when there is one; the lanes follow.
            let (lane, target) = match (identity, index) {
                (Some(identity), 0) => (0, Some(identity.to_owned())),
                (Some(_), i) => (i - 1, None),
                (None, i) => (i, None),
            };
            // A malformed entry stays pending: the reaper redelivers it and, at the delivery
            // limit, dead-letters it, so it surfaces at the intake instead of vanishing.
            let job = parse_job(&entry, lane as u8, target)?;
            Ok(Lease {
                job,
                worker: worker.to_owned(),
                token: entry.id,
                identity: identity.map(str::to_owned),
            })
        };
        let started = tokio::time::Instant::now();
        let mut recreated = false;
        let mut look = look_first;
        loop {
            if !look {
                look = true;
            } else {
                let mark =
                    identity.is_some_and(|i| self.alive_marks.due(i, self.config.alive_every));
                let mut invocation = self.scripts.lease.prepare_invoke();
                for key in &streams {
                    invocation.key(*key);
                }
                invocation
                    .key(&self.alive_key)
                    .key(keys::targets(&self.config.key_prefix))
                    .arg(WORKERS_GROUP)
                    .arg(worker)
                    .arg(identity.unwrap_or(""))
                    .arg(if mark { "1" } else { "0" });
                let reply: Vec<String> = self.invoke("lease", &invocation).await?;
                if let Some((index, entry)) = leased_entry(reply, streams.len())? {
                    return to_lease(index, entry).map(Some);
                }
            }
            let left = wait.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Ok(None);
            }
            // Every stream was empty: wait on all of them at once as a consumer of the group.
            // Redis hands each new entry to one waiting consumer (the others stay blocked), and
            // an entry added since the script ran is leased at once.
            let mut cmd = read_group(WORKERS_GROUP, worker, 1, left, &streams);
            for _ in &streams {
                cmd.arg(">");
            }
            let read: Option<StreamReadReply> = match self.blocking_read("lease", &cmd, left).await
            {
                Ok(read) => read,
                // The identity's stream went away since the script (the reaper deletes the
                // stream of an identity it thinks gone): the script creates it again.
                Err(Error::Redis(e)) if is_nogroup(&e) && !recreated => {
                    recreated = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Some((index, entry)) = self.first_of(read, &streams, worker).await {
                return to_lease(index, entry).map(Some);
            }
            if wait.saturating_sub(started.elapsed()).is_zero() {
                return Ok(None);
            }
        }
    }

    /// The entry of the first stream (in `streams` order) a blocking read answered; entries of
    /// later streams (several got one at the same moment) are released to their stream's tail
    /// at once, so no lease waits unheld behind this one.
    async fn first_of(
        &self,
        read: Option<StreamReadReply>,
        streams: &[&str],
        worker: &str,
    ) -> Option<(usize, StreamId)> {
        let mut found: Vec<(usize, String, StreamId)> = read
            .into_iter()
            .flat_map(|reply| reply.keys)
            .filter_map(|key| {
                let index = streams.iter().position(|s| *s == key.key)?;
                let entry = key.ids.into_iter().next()?;
                Some((index, key.key, entry))
            })
            .collect();
        found.sort_by_key(|(index, _, _)| *index);
        let mut found = found.into_iter();
        let first = found.next();
        for (_, stream, entry) in found {
            let mut invocation = self.scripts.release.prepare_invoke();
            invocation
                .key(&stream)
                .arg(WORKERS_GROUP)
                .arg(worker)
                .arg(&entry.id);
            if let Err(e) = self.invoke::<i64>("release", &invocation).await {
                // Still pending for this worker: the reaper redelivers it after the lease TTL.
                tracing::warn!(stream, error = %e, "could not give back a second entry read at once");
            }
        }
        first.map(|(index, _, entry)| (index, entry))
    }

    /// Appends a targeted task to its identity's stream (created with its group if missing).
    pub(super) async fn enqueue_targeted(&self, job: &JobEnvelope) -> Result<()> {
        let Some(identity) = job.target.as_deref() else {
            return Err(Error::InvalidArgument("not a targeted task".into()));
        };
        crate::model::check_identity(identity)?;
        let mut invocation = self.scripts.enqueue_targeted.prepare_invoke();
        invocation
            .key(keys::target(&self.config.key_prefix, identity))
            .key(keys::targets(&self.config.key_prefix))
            .arg(WORKERS_GROUP)
            .arg(identity)
            .arg(keys::field::JOB_ID)
            .arg(&job.job_id)
            .arg(keys::field::PAYLOAD)
            .arg(&job.payload)
            .arg(keys::field::ATTEMPT)
            .arg(job.attempt.max(1));
        self.invoke::<String>("enqueue", &invocation).await?;
        Ok(())
    }

    /// The identities with a targeted stream.
    async fn target_identities(&self) -> Result<Vec<String>> {
        let mut cmd = redis::cmd("SMEMBERS");
        cmd.arg(keys::targets(&self.config.key_prefix));
        let mut identities: Vec<String> = self.query("targets", &cmd).await?;
        identities.sort();
        Ok(identities)
    }

    /// The targeted streams (for depth).
    pub(super) async fn target_streams(&self) -> Result<Vec<String>> {
        Ok(self
            .target_identities()
            .await?
            .iter()
            .map(|identity| keys::target(&self.config.key_prefix, identity))
            .collect())
    }

    /// Reaps every targeted stream: stale leases like a lane's, then the waiting tasks of
    /// identities that are not alive; and forgets identities unseen for a long time.
    pub(super) async fn reap_targets(
        &self,
        lease_ttl: Duration,
        max_deliveries: u32,
        report: &mut ReapReport,
    ) -> Result<()> {
        for identity in self.target_identities().await? {
            let like = JobEnvelope::for_worker("", "", identity.as_str());
            match self
                .reap_stream(&like, lease_ttl, max_deliveries, report)
                .await
            {
                // Another reaper deleted the stream since SMEMBERS (it was empty, nothing
                // leased): nothing to reap there.
                Err(Error::Redis(e)) if is_nogroup(&e) => continue,
                other => other?,
            }
            let mut invocation = self.scripts.reap_absent.prepare_invoke();
            invocation
                .key(self.stream_of(&like))
                .key(&self.intake_key)
                .key(&self.alive_key)
                .key(keys::targets(&self.config.key_prefix))
                .arg(WORKERS_GROUP)
                .arg(&identity)
                .arg(millis(lease_ttl))
                .arg(target_not_alive_reason(&identity, millis(lease_ttl)));
            report.dead_lettered += self.invoke::<u64>("reap", &invocation).await?;
        }
        self.alive_within(
            Duration::ZERO,
            self.config.consumer_prune_idle.max(lease_ttl),
        )
        .await?;
        Ok(())
    }

    /// The identities seen within `within` (sorted); forgets those unseen for longer than
    /// `forget_after` (zero: none).
    /// A plain lease that waits on the lanes at once without looking first (a sharded queue's
    /// wait on a shard it has just looked at): a new or undelivered entry still answers the
    /// blocking read at once, only the lanes' order among several such is not the script's.
    pub(crate) async fn lease_waiting(
        &self,
        worker: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        if wait.is_zero() {
            return self.lease_from(worker, None, false, wait, true).await;
        }
        self.lease_from(worker, None, false, wait, false).await
    }

    /// Marks `identity` alive here at most every `alive_every` (a sharded queue's heartbeat of
    /// a lease in another shard than the identity's own).
    pub(crate) async fn mark_alive(&self, identity: &str) -> Result<()> {
        if !self.alive_marks.due(identity, self.config.alive_every) {
            return Ok(());
        }
        let mut invocation = self.scripts.mark_alive.prepare_invoke();
        invocation.key(&self.alive_key).arg(identity);
        self.invoke::<i64>("mark alive", &invocation).await?;
        Ok(())
    }

    pub(super) async fn alive_within(
        &self,
        within: Duration,
        forget_after: Duration,
    ) -> Result<Vec<String>> {
        let mut invocation = self.scripts.alive.prepare_invoke();
        invocation
            .key(&self.alive_key)
            .arg(millis(within))
            .arg(millis(forget_after));
        let mut alive: Vec<String> = self.invoke("alive", &invocation).await?;
        alive.sort();
        alive.dedup();
        Ok(alive)
    }
}

/// When each identity leasing through this queue was last marked alive: the lease script marks
/// an identity at most every `alive_every`, not on every lease (two commands per lease saved;
/// the windows callers ask `alive` about are far longer).
#[derive(Default)]
pub(super) struct AliveMarks(Mutex<HashMap<String, Instant>>);

impl AliveMarks {
    /// Whether `identity` is due to be marked now (and notes that it is being marked).
    pub(super) fn due(&self, identity: &str, every: Duration) -> bool {
        let now = Instant::now();
        let mut marks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match marks.get_mut(identity) {
            Some(last) if now.duration_since(*last) < every => false,
            Some(last) => {
                *last = now;
                true
            }
            None => {
                marks.insert(identity.to_owned(), now);
                true
            }
        }
    }
}

/// Reads the lease script's flat answer (see `scripts::LEASE`): the stream's index and the
/// entry, or `None` when every stream was empty.
fn leased_entry(reply: Vec<String>, streams: usize) -> Result<Option<(usize, StreamId)>> {
    let mut parts = reply.into_iter();
    let index = parts.next().unwrap_or_default();
    if index == "-1" {
        return Ok(None);
    }
    let id = parts.next().unwrap_or_default();
    let mut map = HashMap::new();
    while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
        map.insert(name, redis::Value::BulkString(value.into_bytes()));
    }
    let entry = StreamId {
        id,
        map,
        ..StreamId::default()
    };
    match index.parse::<usize>() {
        Ok(index) if index < streams => Ok(Some((index, entry))),
        _ => Err(malformed(
            &entry,
            format!("lease script answered stream {index:?}"),
        )),
    }
}
