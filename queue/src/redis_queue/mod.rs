//! The Redis Streams backend.
//!
//! * A job is an entry of its lane's jobs stream (one stream per fairness lane, see
//!   `JobEnvelope::lane`); `lease` is a script running non-blocking `XREADGROUP` on the `workers`
//!   group lane by lane (lowest first), and when all are empty waits with one blocking
//!   `XREADGROUP` on every lane at once, which leases the entry that wakes it: Redis hands a new
//!   entry to one waiting consumer, so an idle fleet does not wake as a herd for each job. The
//!   lease *is* the entry's slot in its group's pending list (owner = worker name, idle time =
//!   time since delivery or last heartbeat). Entry ids are the lease tokens.
//! * Every step that changes more than one thing is a Lua script (see `scripts.rs`): heartbeat
//!   (XPENDING check + XCLAIM JUSTID), submit (XADD intake + XACK + XDEL), release (XACK + XDEL +
//!   XADD same attempt), and each reaped entry (XACK + XDEL + XADD redelivery or dead letter).
//!   Redelivery appends a *new* entry, so a stale worker's token never matches the new delivery.
//! * The reaper finds stale leases with XAUTOCLAIM (min idle = lease TTL) into the reserved
//!   `notary-reaper` consumer; XAUTOCLAIM is atomic, so two reapers never claim the same entry,
//!   and the per-entry script only acts if its XACK succeeds.
//! * Results and dead letters go to the intake stream, read by coordinators through the
//!   `coordinators` group, up to [`INTAKE_BATCH`] per read (handed out one per call); items left
//!   unacknowledged past the intake TTL are taken over with XAUTOCLAIM (looked for at most every
//!   quarter of the TTL).
//! * Entries are XDEL'd when acknowledged, so the streams hold live work only.
//!
//! Connections: ordinary commands and scripts go through one [`RedisLink`] (multiplexed,
//! reconnects by itself; cluster-aware on a Redis Cluster, where the key prefix must carry a
//! hash tag so every script's keys share a slot); blocking reads each use a dedicated
//! connection from [`BlockingPool`]. Every call is wrapped in a timeout, so a dead Redis produces an
//! error within `command_timeout` (plus the wait, for blocking reads), never a hang.
//!
//! If Redis restarts without persistence, the streams and groups are gone: any command that
//! answers `NOGROUP` re-creates both groups (XGROUP CREATE ... MKSTREAM) and is retried once.
//!
//! Files: `keys` (every name), `scripts` (the Lua), `connection` (how a call reaches Redis),
//! `blocking` (dedicated connections for blocking reads), `targets` (leasing across streams,
//! targeted tasks), `reap` (the reaper and the intake's bookkeeping), `entries` (decoding),
//! `output` (streamed jobs' live output logs).

mod connection;
mod entries;
pub mod keys;
mod output;
mod reap;
mod scripts;
mod targets;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use redis::streams::StreamReadReply;

use self::entries::{all_entries, malformed, parse_intake, parse_job};
use self::keys::{field, COORDINATORS_GROUP, WORKERS_GROUP};
use self::scripts::Scripts;
use crate::blocking::is_connection_error;
use crate::blocking::{read_group, BlockingPool};
use crate::link::{LinkSettings, RedisLink};
use crate::model::check_consumer_name;
use crate::{
    Error, IntakeDelivery, JobEnvelope, JobQueue, Lease, Leases, OutputPiece, QueueDepth,
    ReapReport, Result, LANES,
};

/// Most intake items one read takes (and one XAUTOCLAIM takes over); the rest wait in
/// [`reap::IntakeBuffer`] for the same consumer's next calls. Their intake TTL runs meanwhile,
/// so it must cover handling this many items.
pub(crate) const INTAKE_BATCH: usize = 16;

/// How many stale entries one XAUTOCLAIM round of the reaper claims.
const REAP_BATCH: usize = 100;
/// Upper bound on XAUTOCLAIM rounds per call, so one call cannot loop forever on a huge
/// pending list (the next call continues).
const MAX_SCAN_ROUNDS: usize = 100;

/// Settings of a [`RedisQueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisQueueConfig {
    /// `redis://host:port/db` URL.
    pub url: String,
    /// Prefix of every key (see [`keys`]). Default `notary:`.
    pub key_prefix: String,
    /// An intake item handed to a coordinator and not acknowledged within this time is handed
    /// out again (the coordinator is presumed dead). Must exceed the time a coordinator needs to
    /// process one item. Default 30 s.
    pub intake_ttl: Duration,
    /// Upper bound on every non-blocking call (and on the part of a blocking read beyond its
    /// wait). This is how long a caller can be kept waiting by a dead Redis. Default 2 s.
    pub command_timeout: Duration,
    /// Upper bound on opening one connection. Default 1 s.
    pub connect_timeout: Duration,
    /// Idle dedicated connections kept for blocking reads (more are opened on demand when more
    /// reads run at once). Default 4.
    pub blocking_connections: usize,
    /// Consumers (worker or coordinator names) with nothing pending and unseen for this long are
    /// deleted by `reap`, so ever-new names do not grow the groups forever. Default 1 h; it must
    /// stay far above any blocking wait.
    pub consumer_prune_idle: Duration,
    /// A worker identity leasing through this queue is marked alive (for `alive` and the
    /// reaper's absent-target check) at most this often; heartbeats of its leases mark it too.
    /// Far below any `alive` window and the lease TTL. Default 1 s.
    pub alive_every: Duration,
}

impl RedisQueueConfig {
    /// Defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: keys::DEFAULT_PREFIX.to_owned(),
            intake_ttl: crate::DEFAULT_INTAKE_TTL,
            command_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            blocking_connections: 4,
            consumer_prune_idle: Duration::from_secs(3600),
            alive_every: Duration::from_secs(1),
        }
    }
}

/// The lease protocol on Redis Streams. Share it as an `Arc<dyn JobQueue>`; it holds its
/// connections and is safe to use from many tasks.
pub struct RedisQueue {
    config: RedisQueueConfig,
    /// The lanes' job streams, lane 0 first.
    lane_keys: Vec<String>,
    /// The set of identities seen leasing (see `targets`).
    alive_key: String,
    intake_key: String,
    link: RedisLink,
    blocking: BlockingPool,
    scripts: Scripts,
    alive_marks: targets::AliveMarks,
    intake_buffer: reap::IntakeBuffer,
    intake_acks: reap::IntakeAcks,
}

impl fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueue")
            .field("lane_keys", &self.lane_keys)
            .field("intake_key", &self.intake_key)
            .field("intake_ttl", &self.config.intake_ttl)
            .field("command_timeout", &self.config.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    /// Connects, and creates the streams and consumer groups if they do not exist. Fails (within
    /// about `connect_timeout + command_timeout`) if Redis is unreachable; callers that prefer to
    /// start anyway and report not-ready use [`RedisQueue::new_lazy`].
    pub async fn connect(config: RedisQueueConfig) -> Result<Self> {
        let queue = Self::new_lazy(config)?;
        queue.ensure_groups().await?;
        Ok(queue)
    }

    /// Builds the queue without touching Redis; the first call connects, and a `NOGROUP` answer
    /// creates the groups. Fails only on a malformed URL. Must be called inside a Tokio runtime.
    pub fn new_lazy(config: RedisQueueConfig) -> Result<Self> {
        let mut settings = LinkSettings::new(config.connect_timeout, config.command_timeout);
        // Reconnect quickly once Redis is back; our own timeout bounds each call anyway.
        settings.retries = 1;
        let link = RedisLink::new_lazy(config.url.as_str(), settings)?;
        Ok(Self::on_link(config, link))
    }

    /// The queue under `config.key_prefix` on an existing link (the shards of a
    /// [`ShardedQueue`](crate::ShardedQueue) share one); `config.url` is only reported.
    pub(crate) fn on_link(config: RedisQueueConfig, link: RedisLink) -> Self {
        let blocking = BlockingPool::new(link.clone(), config.blocking_connections);
        Self {
            alive_key: keys::alive(&config.key_prefix),
            lane_keys: (0..LANES)
                .map(|lane| keys::jobs_lane(&config.key_prefix, lane))
                .collect(),
            intake_key: keys::intake(&config.key_prefix),
            link,
            blocking,
            scripts: Scripts::new(),
            alive_marks: targets::AliveMarks::default(),
            intake_buffer: reap::IntakeBuffer::default(),
            intake_acks: reap::IntakeAcks::default(),
            config,
        }
    }

    /// The link this queue reaches Redis through.
    pub(crate) fn link(&self) -> &RedisLink {
        &self.link
    }

    /// Why this queue cannot work on its Redis, if it cannot: a Redis Cluster node with a key
    /// prefix that has no hash tag (see [`crate::link::cluster_prefix_error`]). Asks Redis
    /// (`INFO cluster`) the first time.
    pub async fn cluster_problem(&self) -> Result<Option<String>> {
        let cluster = self
            .bounded("cluster probe", self.link.is_cluster())
            .await?;
        Ok(cluster
            .then(|| crate::link::cluster_prefix_error(&self.config.key_prefix))
            .flatten())
    }

    /// The settings this queue runs with.
    pub fn config(&self) -> &RedisQueueConfig {
        &self.config
    }

    /// Creates every stream and consumer group if missing (`XGROUP CREATE ... 0 MKSTREAM`;
    /// an existing group is left alone). Called by [`RedisQueue::connect`] and after any
    /// `NOGROUP` answer.
    pub async fn ensure_groups(&self) -> Result<()> {
        for (key, group) in self.groups() {
            let mut cmd = redis::cmd("XGROUP");
            cmd.arg("CREATE")
                .arg(key)
                .arg(group)
                .arg("0")
                .arg("MKSTREAM");
            let mut conn = self.link.clone();
            match self
                .bounded("create groups", cmd.query_async::<()>(&mut conn))
                .await
            {
                Ok(()) => {}
                Err(Error::Redis(e)) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Publishes the worker addresses the coordinators accept (replacing what was there), so
    /// a worker can learn at start whether its key is accepted ([`Self::allows_worker`])
    /// instead of running jobs whose results would be refused. Every coordinator of a fleet
    /// must run with the same allow list (the last one to start wins). Addresses are stored in
    /// lower case.
    pub async fn publish_allowed_workers(&self, addresses: &[String]) -> Result<()> {
        let key = keys::allowed_workers(&self.config.key_prefix);
        let mut pipe = redis::pipe();
        // "-" is no address: an empty list still exists, and refuses every worker.
        let mut members: Vec<String> = vec!["-".into()];
        members.extend(addresses.iter().map(|a| a.to_lowercase()));
        pipe.atomic()
            .del(&key)
            .ignore()
            .sadd(&key, members)
            .ignore();
        let mut conn = self.link.clone();
        self.bounded("publish allowed workers", pipe.query_async::<()>(&mut conn))
            .await
    }

    /// Whether the coordinators accept `address`: `None` when no coordinator has published
    /// an allow list (an older fleet: assume yes).
    pub async fn allows_worker(&self, address: &str) -> Result<Option<bool>> {
        let key = keys::allowed_workers(&self.config.key_prefix);
        let mut conn = self.link.clone();
        let (exists, member): (bool, bool) = self
            .bounded(
                "read allowed workers",
                redis::pipe()
                    .exists(&key)
                    .sismember(&key, address.to_lowercase())
                    .query_async(&mut conn),
            )
            .await?;
        Ok(exists.then_some(member))
    }

    /// Calls [`ensure_groups`](Self::ensure_groups) until it works, logging each failure at
    /// warn with the URL redacted and backing off from 200 ms to 5 s; `false` if `stop`
    /// resolved first. The one wait-for-Redis loop of coordinators and workers (they often
    /// start before Redis does).
    pub async fn wait_until_ready(&self, stop: impl Future<Output = ()>) -> bool {
        tokio::pin!(stop);
        let mut delay = Duration::from_millis(200);
        loop {
            match self.ensure_groups().await {
                Ok(()) => return true,
                Err(e) => {
                    tracing::warn!(
                        redis = %crate::redact_url(&self.config.url),
                        error = %e,
                        "Redis not reachable yet; retrying"
                    );
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = &mut stop => return false,
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Entries, pending entries (over every job stream) and intake entries, in one snapshot.
    async fn depth_once(&self) -> Result<(u64, u64, u64)> {
        let targets = self.target_streams().await?;
        let mut invocation = self.scripts.depth.prepare_invoke();
        for key in self.lane_keys.iter().chain(&targets) {
            invocation.key(key);
        }
        invocation.key(&self.intake_key).arg(WORKERS_GROUP);
        self.invoke("depth", &invocation).await
    }

    /// Every stream with its consumer group: the lanes' (workers), then the intake's.
    fn groups(&self) -> impl Iterator<Item = (&String, &'static str)> {
        self.lane_keys
            .iter()
            .map(|key| (key, WORKERS_GROUP))
            .chain([(&self.intake_key, COORDINATORS_GROUP)])
    }

    /// The job stream of `lane`.
    fn lane_key(&self, lane: u8) -> &str {
        &self.lane_keys[usize::from(lane.min(LANES - 1))]
    }
}

#[async_trait]
impl Leases for RedisQueue {
    async fn lease(&self, worker: &str, wait: Duration) -> Result<Option<Lease>> {
        self.lease_from(worker, None, false, wait, true).await
    }

    async fn lease_as(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        self.lease_from(worker, Some(identity), false, wait, true)
            .await
    }

    async fn lease_seats(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        self.lease_from(worker, Some(identity), true, wait, true)
            .await
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<bool> {
        let mut invocation = self.scripts.heartbeat.prepare_invoke();
        invocation
            .key(self.stream_of(&lease.job))
            .key(&self.alive_key)
            .arg(WORKERS_GROUP)
            .arg(&lease.worker)
            .arg(&lease.token)
            .arg(lease.identity.as_deref().unwrap_or(""));
        let held: i64 = self.invoke("heartbeat", &invocation).await?;
        Ok(held == 1)
    }

    async fn submit(&self, lease: &Lease, payload: String) -> Result<()> {
        let mut invocation = self.scripts.submit.prepare_invoke();
        invocation
            .key(self.stream_of(&lease.job))
            .key(&self.intake_key)
            .arg(WORKERS_GROUP)
            .arg(&lease.token)
            .arg(&lease.job.job_id)
            .arg(&lease.worker)
            .arg(lease.job.attempt)
            .arg(payload);
        let completed: i64 = self.invoke("submit", &invocation).await?;
        if completed == 0 {
            tracing::debug!(
                job_id = %lease.job.job_id,
                worker = %lease.worker,
                "late submit: the lease had been reaped; result recorded anyway"
            );
        }
        Ok(())
    }

    async fn release(&self, lease: &Lease) -> Result<bool> {
        let mut invocation = self.scripts.release.prepare_invoke();
        invocation
            .key(self.stream_of(&lease.job))
            .arg(WORKERS_GROUP)
            .arg(&lease.worker)
            .arg(&lease.token);
        let released: i64 = self.invoke("release", &invocation).await?;
        Ok(released == 1)
    }

    async fn append_output(&self, job_id: &str, piece: &OutputPiece) -> Result<()> {
        self.append_piece(job_id, piece).await
    }
}

#[async_trait]
impl JobQueue for RedisQueue {
    async fn enqueue(&self, job: JobEnvelope) -> Result<()> {
        if job.target.is_some() {
            return self.enqueue_targeted(&job).await;
        }
        let mut cmd = redis::cmd("XADD");
        cmd.arg(self.lane_key(job.lane))
            .arg("*")
            .arg(field::JOB_ID)
            .arg(&job.job_id)
            .arg(field::PAYLOAD)
            .arg(&job.payload)
            .arg(field::ATTEMPT)
            .arg(job.attempt.max(1));
        self.query::<String>("enqueue", &cmd).await?;
        Ok(())
    }

    async fn alive(&self, within: Duration) -> Result<Vec<String>> {
        self.alive_within(within, Duration::ZERO).await
    }

    async fn reap(&self, lease_ttl: Duration, max_deliveries: u32) -> Result<ReapReport> {
        let max_deliveries = max_deliveries.max(1);
        let mut report = ReapReport::default();
        for lane in 0..LANES {
            let job = JobEnvelope::new("", "").in_lane(lane);
            self.reap_stream(&job, lease_ttl, max_deliveries, &mut report)
                .await?;
        }
        self.reap_targets(lease_ttl, max_deliveries, &mut report)
            .await?;
        let pruned = self.prune_consumers().await?;
        if pruned > 0 {
            tracing::debug!(pruned, "deleted idle consumers");
        }
        Ok(report)
    }

    async fn next_intake(&self, consumer: &str, wait: Duration) -> Result<Option<IntakeDelivery>> {
        check_consumer_name(consumer)?;
        let entry = match self.intake_buffer.take(consumer) {
            Some(entry) => entry,
            None => {
                let mut entries = self.reclaim_intake(consumer).await?;
                if entries.is_empty() {
                    let mut cmd = read_group(
                        COORDINATORS_GROUP,
                        consumer,
                        INTAKE_BATCH,
                        wait,
                        &[&self.intake_key],
                    );
                    cmd.arg(">");
                    let reply: Option<StreamReadReply> =
                        self.blocking_read("next_intake", &cmd, wait).await?;
                    entries = all_entries(reply);
                }
                let mut entries = entries.into_iter();
                let Some(first) = entries.next() else {
                    return Ok(None);
                };
                self.intake_buffer.keep(consumer, entries);
                first
            }
        };
        match parse_intake(&entry) {
            Ok(item) => Ok(Some(IntakeDelivery {
                item,
                token: entry.id,
            })),
            Err(e) => {
                // Only this crate writes the intake; an entry it cannot read would otherwise come
                // back after every intake TTL forever. Drop it loudly.
                tracing::error!(error = %e, "dropping malformed intake entry");
                self.ack_intake_entry(&entry.id).await?;
                Err(e)
            }
        }
    }

    async fn ack_intake(&self, delivery: &IntakeDelivery) -> Result<()> {
        self.ack_intake_entry(&delivery.token).await
    }

    async fn depth(&self) -> Result<QueueDepth> {
        // A read, safe to repeat: the first command after a Redis restart fails on the old
        // socket ("broken pipe") before the manager reconnects, so try once more.
        let (total, pending, intake) = match self.depth_once().await {
            Err(Error::Redis(e)) if is_connection_error(&e) => self.depth_once().await?,
            other => other?,
        };
        Ok(QueueDepth {
            waiting: total.saturating_sub(pending),
            leased: pending,
            intake,
        })
    }

    async fn ping(&self) -> Result<()> {
        self.query::<String>("ping", &redis::cmd("PING")).await?;
        Ok(())
    }

    async fn read_output(
        &self,
        job_id: &str,
        cursor: &str,
        wait: Duration,
    ) -> Result<(Vec<OutputPiece>, String)> {
        self.read_pieces(job_id, cursor, wait).await
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}
