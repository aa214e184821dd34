//! The Redis Streams backend.
//!
//! * A job is an entry of its lane's jobs stream (one stream per fairness lane, see
//!   `JobEnvelope::lane`); `lease` is a script running non-blocking `XREADGROUP` on the `workers`
//!   group lane by lane (lowest first), and waits with a blocking `XREAD` past the lanes' last ids
//!   when all are empty. The lease *is* the entry's slot in its group's pending list (owner =
//!   worker name, idle time = time since delivery or last heartbeat). Entry ids are the lease
//!   tokens.
//! * Every step that changes more than one thing is a Lua script (see `scripts.rs`): heartbeat
//!   (XPENDING check + XCLAIM JUSTID), submit (XADD intake + XACK + XDEL), release (XACK + XDEL +
//!   XADD same attempt), and each reaped entry (XACK + XDEL + XADD redelivery or dead letter).
//!   Redelivery appends a *new* entry, so a stale worker's token never matches the new delivery.
//! * The reaper finds stale leases with XAUTOCLAIM (min idle = lease TTL) into the reserved
//!   `notary-reaper` consumer; XAUTOCLAIM is atomic, so two reapers never claim the same entry,
//!   and the per-entry script only acts if its XACK succeeds.
//! * Results and dead letters go to the intake stream, read by coordinators through the
//!   `coordinators` group; items left unacknowledged past the intake TTL are taken over with
//!   XAUTOCLAIM.
//! * Entries are XDEL'd when acknowledged, so the streams hold live work only.
//!
//! Connections: ordinary commands and scripts go through one `ConnectionManager` (multiplexed,
//! reconnects by itself); blocking reads each use a dedicated connection from
//! `blocking::BlockingPool`. Every call is wrapped in a timeout, so a dead Redis produces an
//! error within `command_timeout` (plus the wait, for blocking reads), never a hang.
//!
//! If Redis restarts without persistence, the streams and groups are gone: any command that
//! answers `NOGROUP` re-creates both groups (XGROUP CREATE ... MKSTREAM) and is retried once.

mod blocking;
pub mod keys;
mod scripts;
mod targets;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::{Client, Cmd, FromRedisValue, RedisError, RedisResult, ScriptInvocation};

use self::blocking::{BlockingPool, Taken};
use self::keys::{field, COORDINATORS_GROUP, REAPER_CONSUMER, WORKERS_GROUP};
use self::scripts::Scripts;
use crate::model::{check_consumer_name, check_identity};
use crate::{
    Error, IntakeDelivery, IntakeItem, JobEnvelope, JobQueue, Lease, QueueDepth, ReapReport,
    Result, LANES,
};

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
    manager: ConnectionManager,
    blocking: BlockingPool,
    scripts: Scripts,
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
        let client = Client::open(config.url.as_str())?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.command_timeout))
            // Reconnect quickly once Redis is back; our own timeout bounds each call anyway.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)?;
        let blocking =
            BlockingPool::new(client, config.connect_timeout, config.blocking_connections);
        Ok(Self {
            alive_key: keys::alive(&config.key_prefix),
            lane_keys: (0..LANES)
                .map(|lane| keys::jobs_lane(&config.key_prefix, lane))
                .collect(),
            intake_key: keys::intake(&config.key_prefix),
            manager,
            blocking,
            scripts: Scripts::new(),
            config,
        })
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
            let mut conn = self.manager.clone();
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
        let mut conn = self.manager.clone();
        self.bounded("publish allowed workers", pipe.query_async::<()>(&mut conn))
            .await
    }

    /// Whether the coordinators accept `address`: `None` when no coordinator has published
    /// an allow list (an older fleet: assume yes).
    pub async fn allows_worker(&self, address: &str) -> Result<Option<bool>> {
        let key = keys::allowed_workers(&self.config.key_prefix);
        let mut conn = self.manager.clone();
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

    /// Bounds one Redis call by `command_timeout`.
    async fn bounded<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = RedisResult<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.config.command_timeout, call).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout {
                operation,
                after: self.config.command_timeout,
            }),
        }
    }

    /// Runs a non-blocking call on the shared connection, bounded by `command_timeout`; on
    /// `NOGROUP` re-creates the groups and runs it once more.
    async fn call<T, F, Fut>(&self, operation: &'static str, call: F) -> Result<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match self.bounded(operation, call(self.manager.clone())).await {
            Err(Error::Redis(e)) if is_nogroup(&e) => {
                tracing::warn!(
                    operation,
                    "consumer group missing (Redis lost its data?): re-creating"
                );
                self.ensure_groups().await?;
                self.bounded(operation, call(self.manager.clone())).await
            }
            other => other,
        }
    }

    /// Runs one command, bounded by `command_timeout`, with the NOGROUP retry.
    async fn query<T: FromRedisValue>(&self, operation: &'static str, cmd: &Cmd) -> Result<T> {
        self.call(operation, move |mut conn| async move {
            cmd.query_async(&mut conn).await
        })
        .await
    }

    /// Runs one Lua script, bounded by `command_timeout`, with the NOGROUP retry.
    async fn invoke<T: FromRedisValue>(
        &self,
        operation: &'static str,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T> {
        self.call(operation, move |mut conn| async move {
            invocation.invoke_async(&mut conn).await
        })
        .await
    }

    /// Runs a blocking read (`XREADGROUP ... BLOCK`) on a dedicated connection, bounded by
    /// `wait + command_timeout`. A reused connection that turns out dead (Redis restarted since)
    /// is replaced once; NOGROUP re-creates the groups once.
    async fn blocking_read<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: &Cmd,
        wait: Duration,
    ) -> Result<T> {
        let bound = wait.saturating_add(self.config.command_timeout);
        let mut groups_recreated = false;
        let mut stale_replaced = false;
        loop {
            let Taken { mut conn, reused } = self.blocking.take().await?;
            let result = match tokio::time::timeout(bound, cmd.query_async::<T>(&mut conn)).await {
                Ok(result) => result,
                // The connection is dropped here: its state is unknown.
                Err(_) => {
                    return Err(Error::Timeout {
                        operation,
                        after: bound,
                    })
                }
            };
            match result {
                Ok(value) => {
                    self.blocking.put_back(conn);
                    return Ok(value);
                }
                Err(e) if is_nogroup(&e) && !groups_recreated => {
                    self.blocking.put_back(conn);
                    tracing::warn!(
                        operation,
                        "consumer group missing (Redis lost its data?): re-creating"
                    );
                    groups_recreated = true;
                    self.ensure_groups().await?;
                }
                Err(e) if is_connection_error(&e) => {
                    self.blocking.clear();
                    if reused && !stale_replaced {
                        stale_replaced = true;
                        continue;
                    }
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// XREADGROUP for one new entry of `stream` as `consumer` of `group`, waiting up to `wait`.
    fn read_group_cmd(group: &str, consumer: &str, stream: &str, wait: Duration) -> Cmd {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(1);
        // BLOCK 0 would mean "forever": a zero wait is a plain non-blocking read.
        if !wait.is_zero() {
            let millis = wait.as_millis().clamp(1, u64::MAX as u128) as u64;
            cmd.arg("BLOCK").arg(millis);
        }
        cmd.arg("STREAMS").arg(stream).arg(">");
        cmd
    }

    /// Takes over one intake item that another coordinator took and left unacknowledged for
    /// longer than the intake TTL.
    async fn reclaim_intake(&self, consumer: &str) -> Result<Option<StreamId>> {
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
    async fn ack_intake_entry(&self, entry_id: &str) -> Result<()> {
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

    /// Redelivers (to the same stream) or dead-letters the stale leases of the stream of jobs
    /// like `like` (its lane's, or its target's).
    async fn reap_stream(
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

    /// Deletes long-idle consumers with nothing pending from every group.
    async fn prune_consumers(&self) -> Result<u64> {
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

    async fn lease(&self, worker: &str, wait: Duration) -> Result<Option<Lease>> {
        check_consumer_name(worker)?;
        self.lease_from(worker, None, wait).await
    }

    async fn lease_as(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        check_consumer_name(worker)?;
        check_identity(identity)?;
        self.lease_from(worker, Some(identity), wait).await
    }

    async fn alive(&self, within: Duration) -> Result<Vec<String>> {
        self.alive_within(within, Duration::ZERO).await
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
        let entry = match self.reclaim_intake(consumer).await? {
            Some(entry) => entry,
            None => {
                let cmd =
                    Self::read_group_cmd(COORDINATORS_GROUP, consumer, &self.intake_key, wait);
                let reply: Option<StreamReadReply> =
                    self.blocking_read("next_intake", &cmd, wait).await?;
                match first_entry(reply) {
                    Some(entry) => entry,
                    None => return Ok(None),
                }
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
}

fn is_nogroup(e: &RedisError) -> bool {
    e.code() == Some("NOGROUP")
}

/// Errors after which a connection is not worth reusing.
fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

fn first_entry(reply: Option<StreamReadReply>) -> Option<StreamId> {
    reply?.keys.into_iter().next()?.ids.into_iter().next()
}

fn malformed(entry: &StreamId, reason: impl Into<String>) -> Error {
    Error::Malformed {
        entry_id: entry.id.clone(),
        reason: reason.into(),
    }
}

fn text(entry: &StreamId, name: &str) -> Result<String> {
    entry
        .get::<String>(name)
        .ok_or_else(|| malformed(entry, format!("missing or non-text field {name:?}")))
}

fn number(entry: &StreamId, name: &str) -> Result<u32> {
    text(entry, name)?
        .parse()
        .map_err(|_| malformed(entry, format!("field {name:?} is not a number")))
}

fn parse_job(entry: &StreamId, lane: u8, target: Option<String>) -> Result<JobEnvelope> {
    Ok(JobEnvelope {
        job_id: text(entry, field::JOB_ID)?,
        payload: text(entry, field::PAYLOAD)?,
        attempt: number(entry, field::ATTEMPT)?,
        lane,
        target,
    })
}

fn parse_intake(entry: &StreamId) -> Result<IntakeItem> {
    let kind = text(entry, field::KIND)?;
    match kind.as_str() {
        field::KIND_SUBMITTED => Ok(IntakeItem::Submitted {
            job_id: text(entry, field::JOB_ID)?,
            worker: text(entry, field::WORKER)?,
            attempt: number(entry, field::ATTEMPT)?,
            payload: text(entry, field::PAYLOAD)?,
        }),
        field::KIND_DEAD_LETTERED => Ok(IntakeItem::DeadLettered {
            // Dead letters written before lanes existed have no lane: lane 0.
            job: parse_job(
                entry,
                entry
                    .get::<String>(field::LANE)
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0),
                entry.get::<String>(field::TARGET).filter(|t| !t.is_empty()),
            )?,
            reason: text(entry, field::REASON)?,
        }),
        other => Err(malformed(entry, format!("unknown intake kind {other:?}"))),
    }
}
