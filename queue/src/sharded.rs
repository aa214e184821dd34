//! Jobs sharded over several hash-tagged key spaces of one Redis or Redis Cluster.
//!
//! A [`ShardedQueue`] is `n` [`RedisQueue`]s, shard `i` under the prefix [`shard_prefix`]`(p, i)`
//! (`{notary}:` becomes `{notary:0}:`, `{notary:1}:`, …; an untagged `notary:` becomes
//! `notary:{0}:`, …), so each shard's keys share one hash slot and each shard's scripts touch
//! that slot only; on a Cluster the shards' slots spread over the masters. What belongs to one
//! job (its deliveries, heartbeats, result, intake item, output log) lives in the shard its job
//! id hashes to ([`shard_of`]: FNV-1a, the same in every process), so every call about a job is
//! routed by its id and stays a one-slot script.
//!
//! The calls that are not about one job span the shards:
//!
//! * **Leasing** (workers): a lease first tries every shard without waiting, starting at a shard
//!   that rotates per call (so busy shards are served round-robin), then blocks on one shard
//!   (the one the fewest of this process's waiting leases are blocked on) for at most
//!   [`SHARD_ROUND`], and repeats until its wait is over. A job in a shard no lease is blocked
//!   on therefore waits at most one round; a worker process with at least `n` idle slots
//!   usually has a waiter on every shard. Lanes are ordered within a shard; across shards the
//!   rotation decides, so a lower lane's job in another shard waits at most a lease or two, and
//!   queue order holds within a shard only.
//! * **Targeted tasks** (juror seats) live in their identity's *home* shard ([`shard_of`] of the
//!   identity), so an identity's seats stay in order and its alive mark is where the reaper of
//!   its seats looks: `lease_as` takes seats first when its rotation reaches the home shard
//!   (then that shard's lanes; elsewhere lanes only), so while every shard is busy a seat waits
//!   at most one rotation, and it keeps the home shard watched while any of its leases waits,
//!   so an idle worker takes a seat at once; `lease_seats` waits on the home shard only; a
//!   heartbeat of a lease taken elsewhere also marks the identity alive at home.
//! * **The intake** (coordinators): per consumer name and shard, a background task reads the
//!   shard's intake while a `next_intake` call of that consumer is waiting, and hands items over
//!   through a small channel; an item read but not yet taken is unacknowledged like any other,
//!   so a coordinator that dies with items in its channel loses none (another takes them over
//!   after the intake TTL).
//! * **A shard away** (its master failing over): leases skip a shard that answered
//!   "unavailable" for half a second and report the error only if no shard answered during
//!   the call; intake readers report it only while every shard fails. So the other shards'
//!   jobs go on, and the callers back off only when Redis as a whole is away.
//! * `reap`, `depth`, `alive` and `ping` go to every shard and add up (`alive`: the union).
//!
//! With one shard every call goes straight to the one [`RedisQueue`] under the prefix itself,
//! so `--redis-shards 1` is the unsharded fleet, key for key. Every process of a fleet must use
//! the same prefix and shard count (coordinators publish the count; see
//! [`ShardedQueue::publish_shards`] and [`ShardedQueue::shards_mismatch`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::redis_queue::keys;
use crate::{
    Error, IntakeDelivery, JobEnvelope, JobQueue, Lease, Leases, OutputPiece, QueueDepth,
    ReapReport, RedisQueue, RedisQueueConfig, Result,
};

/// Most shards a [`ShardedQueue`] takes: every idle lease looks at every shard each round, so
/// the count is a few per Redis master, not thousands.
pub const MAX_SHARDS: usize = 64;

/// Longest a lease blocks on one shard before it looks at all of them again.
pub const SHARD_ROUND: Duration = Duration::from_millis(100);

/// How long an intake reader task blocks on its shard per read.
const INTAKE_PUMP_WAIT: Duration = Duration::from_secs(1);
/// Pause of an intake reader task after an error, before it reads again.
const INTAKE_PUMP_BACKOFF: Duration = Duration::from_millis(200);

/// The shard job `job_id` lives in, of `shards`: FNV-1a (64 bit) of its bytes, modulo the count.
/// Fixed forever: every coordinator and worker must agree.
pub fn shard_of(job_id: &str, shards: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in job_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % shards.max(1) as u64) as usize
}

/// The key prefix of shard `index` of `prefix`: the hash tag gets `:index` appended
/// (`{notary}:` -> `{notary:3}:`), or an untagged prefix gets the tag `{index}` (`notary:` ->
/// `notary:{3}:`). Either way each shard is one hash slot of its own.
pub fn shard_prefix(prefix: &str, index: usize) -> String {
    if let Some(open) = prefix.find('{') {
        if let Some(len) = prefix[open + 1..].find('}').filter(|len| *len > 0) {
            let close = open + 1 + len;
            return format!("{}:{index}{}", &prefix[..close], &prefix[close..]);
        }
    }
    format!("{prefix}{{{index}}}:")
}

/// What a lease call takes (see [`Leases`]).
#[derive(Clone, Copy)]
enum Take<'a> {
    Shared,
    As(&'a str),
    Seats(&'a str),
}

/// The job queue over several shards (see the module docs). Share it as an `Arc<dyn JobQueue>`.
pub struct ShardedQueue {
    /// Under the prefix itself: the allow list, the shard count, readiness.
    base: RedisQueue,
    shards: Vec<Arc<RedisQueue>>,
    /// Where the next lease starts looking.
    rotation: AtomicUsize,
    /// This process's leases blocked on each shard right now.
    watchers: Vec<AtomicUsize>,
    /// Which shards failed a moment ago.
    health: Arc<Health>,
    /// Per consumer name: the intake reader tasks and their channel.
    intake: Mutex<HashMap<String, Arc<IntakePumps>>>,
}

impl std::fmt::Debug for ShardedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedQueue")
            .field("prefix", &self.base.config().key_prefix)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl ShardedQueue {
    /// `shards` shards (1 to [`MAX_SHARDS`]; 0 counts as 1) of `config.key_prefix`, on one link; nothing is sent to
    /// Redis yet (as [`RedisQueue::new_lazy`]). Fails only on a malformed URL. Must be called
    /// inside a Tokio runtime.
    pub fn new_lazy(config: RedisQueueConfig, shards: usize) -> Result<Self> {
        if shards > MAX_SHARDS {
            return Err(Error::InvalidArgument(format!(
                "{shards} shards: at most {MAX_SHARDS}"
            )));
        }
        let base = RedisQueue::new_lazy(config)?;
        let count = shards.max(1);
        let shards = if count == 1 {
            vec![Arc::new(RedisQueue::on_link(
                base.config().clone(),
                base.link().clone(),
            ))]
        } else {
            (0..count)
                .map(|index| {
                    let mut shard = base.config().clone();
                    shard.key_prefix = shard_prefix(&base.config().key_prefix, index);
                    Arc::new(RedisQueue::on_link(shard, base.link().clone()))
                })
                .collect()
        };
        Ok(Self {
            watchers: (0..count).map(|_| AtomicUsize::new(0)).collect(),
            base,
            shards,
            rotation: AtomicUsize::new(0),
            health: Arc::new(Health::new(count)),
            intake: Mutex::new(HashMap::new()),
        })
    }

    /// [`new_lazy`](Self::new_lazy), then every shard's streams and groups created.
    pub async fn connect(config: RedisQueueConfig, shards: usize) -> Result<Self> {
        let queue = Self::new_lazy(config, shards)?;
        queue.ensure_groups().await?;
        Ok(queue)
    }

    /// How many shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The queue under the prefix itself (the allow list; with one shard, the jobs too).
    pub fn base(&self) -> &RedisQueue {
        &self.base
    }

    /// Creates every shard's streams and groups (see [`RedisQueue::ensure_groups`]).
    pub async fn ensure_groups(&self) -> Result<()> {
        for shard in &self.shards {
            shard.ensure_groups().await?;
        }
        Ok(())
    }

    /// [`RedisQueue::wait_until_ready`] on the base, then every shard's groups created.
    pub async fn wait_until_ready(&self, stop: impl std::future::Future<Output = ()>) -> bool {
        tokio::pin!(stop);
        loop {
            if !self.base.wait_until_ready(&mut stop).await {
                return false;
            }
            match self.ensure_groups().await {
                Ok(()) => return true,
                Err(e) => tracing::warn!(error = %e, "creating the shards' groups; retrying"),
            }
        }
    }

    /// See [`RedisQueue::cluster_problem`]: the prefix needs a hash tag on a Cluster (the job
    /// records and the other families live under it); the shards' prefixes always have one.
    pub async fn cluster_problem(&self) -> Result<Option<String>> {
        self.base.cluster_problem().await
    }

    /// Records this fleet's shard count under the prefix (coordinators, at start), so that a
    /// worker started with another count can refuse to run ([`shards_mismatch`]).
    ///
    /// [`shards_mismatch`]: Self::shards_mismatch
    pub async fn publish_shards(&self) -> Result<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(keys::shards(&self.base.config().key_prefix))
            .arg(self.shards.len());
        self.base.query::<()>("publish shards", &cmd).await
    }

    /// The shard count the coordinators published, if it differs from this queue's (`None`:
    /// the same, or none published: a fleet older than sharding has one).
    pub async fn shards_mismatch(&self) -> Result<Option<usize>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(keys::shards(&self.base.config().key_prefix));
        let published: Option<usize> = self.base.query("read shards", &cmd).await?;
        Ok(published.filter(|count| *count != self.shards.len()))
    }

    fn shard(&self, job_id: &str) -> &RedisQueue {
        &self.shards[shard_of(job_id, self.shards.len())]
    }

    /// The shard a job lives in: its target's home for a targeted task, else its id's.
    fn shard_for(&self, job: &JobEnvelope) -> &RedisQueue {
        match &job.target {
            Some(identity) => self.shard(identity),
            None => self.shard(&job.job_id),
        }
    }

    /// Splits a token of [`next_intake`](JobQueue::next_intake) into its shard and the shard's
    /// own token.
    fn intake_shard<'t>(&self, token: &'t str) -> Result<(&RedisQueue, &'t str)> {
        token
            .split_once('/')
            .and_then(|(index, token)| {
                Some((&**self.shards.get(index.parse::<usize>().ok()?)?, token))
            })
            .ok_or_else(|| {
                Error::InvalidArgument(format!("not an intake token of this queue: {token:?}"))
            })
    }

    async fn take(
        &self,
        shard: &RedisQueue,
        take: Take<'_>,
        worker: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        match take {
            Take::Shared => shard.lease(worker, wait).await,
            Take::As(identity) => shard.lease_as(worker, identity, wait).await,
            Take::Seats(identity) => shard.lease_seats(worker, identity, wait).await,
        }
    }

    /// The lease across shards (see the module docs).
    async fn lease_any(
        &self,
        take: Take<'_>,
        worker: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        let n = self.shards.len();
        let home = match take {
            Take::Shared => None,
            Take::As(identity) | Take::Seats(identity) => Some(shard_of(identity, n)),
        };
        if n == 1 {
            return self.take(&self.shards[0], take, worker, wait).await;
        }
        if let (Take::Seats(_), Some(home)) = (take, home) {
            // Seats live in their identity's home shard only.
            return self.take(&self.shards[home], take, worker, wait).await;
        }
        let deadline = Instant::now() + wait;
        let mut calls = ShardCalls::default();
        loop {
            let start = self.rotation.fetch_add(1, Ordering::Relaxed) % n;
            // Shards in the rotation's order (the home shard too: always first, it would
            // starve the others' jobs while busy); shards that just failed are skipped for a
            // moment (all of them, if all failed).
            let mut order: Vec<usize> = (0..n).map(|k| (start + k) % n).collect();
            if order.iter().any(|i| self.health.up(*i)) {
                order.retain(|i| self.health.up(*i));
            }
            // Watch the home shard whenever none of our leases watches it; otherwise the
            // shard the fewest of our leases watch (ties: the rotation's order).
            let watched = match home {
                Some(home)
                    if order.contains(&home)
                        && self.watchers[home].load(Ordering::Relaxed) == 0 =>
                {
                    home
                }
                _ => order
                    .iter()
                    .copied()
                    .min_by_key(|i| self.watchers[*i].load(Ordering::Relaxed))
                    .unwrap_or(start),
            };
            // Outside its home a lease takes shared jobs only (and marks nobody alive there).
            let take_in = |index: usize| {
                if Some(index) == home {
                    take
                } else {
                    Take::Shared
                }
            };
            // Every shard without waiting first (at home: seats before its shared jobs), then
            // a wait on the watched one (the home shard's script looks once more, for the
            // seats' order and the alive mark; any other shard's wait is the blocking read).
            for index in order.iter().copied() {
                let got = self
                    .take(&self.shards[index], take_in(index), worker, Duration::ZERO)
                    .await;
                if let Some(lease) = calls.note(&self.health, index, got)? {
                    return Ok(Some(self.owned(lease, take)));
                }
            }
            let round = deadline
                .saturating_duration_since(Instant::now())
                .min(SHARD_ROUND);
            if self.health.up(watched) {
                let watching = Watching::new(&self.watchers[watched]);
                let shard = &self.shards[watched];
                // Just looked at: a plain wait need not run the lease script again first.
                let lease = match take_in(watched) {
                    Take::Shared => shard.lease_waiting(worker, round).await,
                    own => self.take(shard, own, worker, round).await,
                };
                drop(watching);
                if let Some(lease) = calls.note(&self.health, watched, lease)? {
                    return Ok(Some(self.owned(lease, take)));
                }
            } else {
                // Every shard is failing: pause a round rather than spin.
                tokio::time::sleep(round).await;
            }
            if Instant::now() >= deadline {
                return calls.finish();
            }
        }
    }

    /// A lease taken outside the identity's home as a plain one, given back its identity (its
    /// heartbeats mark the identity alive, as `lease_as` promises).
    fn owned(&self, mut lease: Lease, take: Take<'_>) -> Lease {
        if let Take::As(identity) = take {
            lease.identity.get_or_insert_with(|| identity.to_owned());
        }
        lease
    }

    fn pumps(&self, consumer: &str) -> Arc<IntakePumps> {
        let mut all = self.intake.lock().unwrap_or_else(PoisonError::into_inner);
        all.entry(consumer.to_owned())
            .or_insert_with(|| Arc::new(IntakePumps::start(&self.shards, &self.health, consumer)))
            .clone()
    }
}

impl Drop for ShardedQueue {
    fn drop(&mut self) {
        let all = self
            .intake
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for pumps in all.values() {
            for task in &pumps.tasks {
                task.abort();
            }
        }
    }
}

/// Which shards answered "unavailable" within the last [`SHARD_DOWN`]: leases skip them (a
/// partitioned master would otherwise hold every sweep for a command timeout), and their intake
/// readers' errors reach a caller only while every shard fails.
struct Health {
    epoch: std::time::Instant,
    /// Per shard: until when (ms since `epoch`) it counts as failing; 0: up.
    down_until: Vec<AtomicU64>,
}

/// How long a shard that failed is skipped.
const SHARD_DOWN: Duration = Duration::from_millis(500);

impl Health {
    fn new(shards: usize) -> Self {
        Self {
            epoch: std::time::Instant::now(),
            down_until: (0..shards).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn up(&self, shard: usize) -> bool {
        self.down_until[shard].load(Ordering::Relaxed) <= self.now_ms()
    }

    fn all_down(&self) -> bool {
        (0..self.down_until.len()).all(|shard| !self.up(shard))
    }

    fn failed(&self, shard: usize) {
        let until = self.now_ms() + SHARD_DOWN.as_millis() as u64;
        self.down_until[shard].store(until, Ordering::Relaxed);
    }

    fn answered(&self, shard: usize) {
        self.down_until[shard].store(0, Ordering::Relaxed);
    }
}

/// What one lease call's tries of the shards gave: whether any shard answered, and the last
/// "unavailable". One shard away (its master failing over) must not stop the others, nor make
/// the caller back off while they serve.
#[derive(Default)]
struct ShardCalls {
    answered: bool,
    failure: Option<Error>,
}

impl ShardCalls {
    /// Notes one try of shard `index`: a lease to hand out, nothing, or an error that ends the
    /// call (anything but "unavailable", which marks the shard failing and goes on).
    fn note(
        &mut self,
        health: &Health,
        index: usize,
        got: Result<Option<Lease>>,
    ) -> Result<Option<Lease>> {
        match got {
            Ok(Some(lease)) => Ok(Some(lease)),
            Ok(None) => {
                self.answered = true;
                Ok(None)
            }
            Err(e) if e.is_unavailable() => {
                health.failed(index);
                self.failure = Some(e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The call's answer once its wait is over: nothing, or the failure if no shard answered.
    fn finish(self) -> Result<Option<Lease>> {
        match self.failure {
            Some(e) if !self.answered => Err(e),
            _ => Ok(None),
        }
    }
}

/// Counts a lease blocked on a shard while it lives.
struct Watching<'a>(&'a AtomicUsize);

impl<'a> Watching<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One consumer's intake readers: a task per shard that reads while `demand` (the number of
/// that consumer's `next_intake` calls waiting) is above zero, into `items`.
struct IntakePumps {
    demand: watch::Sender<usize>,
    items: tokio::sync::Mutex<mpsc::Receiver<Result<IntakeDelivery>>>,
    tasks: Vec<AbortHandle>,
}

impl IntakePumps {
    fn start(shards: &[Arc<RedisQueue>], health: &Arc<Health>, consumer: &str) -> Self {
        let (demand, _) = watch::channel(0usize);
        let (sender, items) = mpsc::channel(shards.len());
        let tasks = shards
            .iter()
            .enumerate()
            .map(|(index, shard)| {
                let shard = shard.clone();
                let sender = sender.clone();
                let mut demand = demand.subscribe();
                let consumer = consumer.to_owned();
                let health = health.clone();
                tokio::spawn(async move {
                    loop {
                        if demand.wait_for(|waiting| *waiting > 0).await.is_err() {
                            return;
                        }
                        let item = match shard.next_intake(&consumer, INTAKE_PUMP_WAIT).await {
                            Ok(None) => {
                                health.answered(index);
                                continue;
                            }
                            Ok(Some(mut item)) => {
                                health.answered(index);
                                item.token = format!("{index}/{}", item.token);
                                Ok(item)
                            }
                            Err(e) => {
                                if e.is_unavailable() {
                                    health.failed(index);
                                }
                                tokio::time::sleep(INTAKE_PUMP_BACKOFF).await;
                                // One shard away is not the intake away: the others go on.
                                if e.is_unavailable() && !health.all_down() {
                                    continue;
                                }
                                Err(e)
                            }
                        };
                        if sender.send(item).await.is_err() {
                            return;
                        }
                    }
                })
                .abort_handle()
            })
            .collect();
        Self {
            demand,
            items: tokio::sync::Mutex::new(items),
            tasks,
        }
    }

    async fn next(&self, wait: Duration) -> Result<Option<IntakeDelivery>> {
        self.demand.send_modify(|waiting| *waiting += 1);
        let _asked = Asked(&self.demand);
        let deadline = Instant::now() + wait;
        let mut items = match tokio::time::timeout_at(deadline, self.items.lock()).await {
            Ok(items) => items,
            Err(_) => return Ok(None),
        };
        if let Ok(item) = items.try_recv() {
            return item.map(Some);
        }
        match tokio::time::timeout_at(deadline, items.recv()).await {
            Ok(Some(item)) => item.map(Some),
            // Only if every reader task ended: not while the queue lives.
            Ok(None) | Err(_) => Ok(None),
        }
    }
}

/// A waiting `next_intake` call, counted in its consumer's demand while it lives.
struct Asked<'a>(&'a watch::Sender<usize>);

impl Drop for Asked<'_> {
    fn drop(&mut self) {
        self.0
            .send_modify(|waiting| *waiting = waiting.saturating_sub(1));
    }
}

#[async_trait]
impl Leases for ShardedQueue {
    async fn lease(&self, worker: &str, wait: Duration) -> Result<Option<Lease>> {
        self.lease_any(Take::Shared, worker, wait).await
    }

    async fn lease_as(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        self.lease_any(Take::As(identity), worker, wait).await
    }

    async fn lease_seats(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        self.lease_any(Take::Seats(identity), worker, wait).await
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<bool> {
        let held = self.shard_for(&lease.job).heartbeat(lease).await?;
        if let Some(identity) = lease.identity.as_deref().filter(|_| held) {
            // The identity's waiting seats are judged by its home shard's alive set.
            let home = self.shard(identity);
            if !std::ptr::eq(home, self.shard_for(&lease.job)) {
                home.mark_alive(identity).await?;
            }
        }
        Ok(held)
    }

    async fn submit(&self, lease: &Lease, payload: String) -> Result<()> {
        self.shard_for(&lease.job).submit(lease, payload).await
    }

    async fn release(&self, lease: &Lease) -> Result<bool> {
        self.shard_for(&lease.job).release(lease).await
    }

    async fn append_output(&self, job_id: &str, piece: &OutputPiece) -> Result<()> {
        self.shard(job_id).append_output(job_id, piece).await
    }
}

#[async_trait]
impl JobQueue for ShardedQueue {
    async fn enqueue(&self, job: JobEnvelope) -> Result<()> {
        self.shard_for(&job).enqueue(job).await
    }

    async fn alive(&self, within: Duration) -> Result<Vec<String>> {
        let mut all = Vec::new();
        for shard in &self.shards {
            all.extend(shard.alive(within).await?);
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    async fn reap(&self, lease_ttl: Duration, max_deliveries: u32) -> Result<ReapReport> {
        let mut report = ReapReport::default();
        for shard in &self.shards {
            let one = shard.reap(lease_ttl, max_deliveries).await?;
            report.redelivered += one.redelivered;
            report.dead_lettered += one.dead_lettered;
        }
        Ok(report)
    }

    async fn next_intake(&self, consumer: &str, wait: Duration) -> Result<Option<IntakeDelivery>> {
        if self.shards.len() == 1 {
            return self.shards[0].next_intake(consumer, wait).await;
        }
        crate::model::check_consumer_name(consumer)?;
        self.pumps(consumer).next(wait).await
    }

    async fn ack_intake(&self, delivery: &IntakeDelivery) -> Result<()> {
        if self.shards.len() == 1 {
            return self.shards[0].ack_intake(delivery).await;
        }
        let (shard, token) = self.intake_shard(&delivery.token)?;
        let own = IntakeDelivery {
            item: delivery.item.clone(),
            token: token.to_owned(),
        };
        shard.ack_intake(&own).await
    }

    async fn depth(&self) -> Result<QueueDepth> {
        let mut depth = QueueDepth::default();
        for shard in &self.shards {
            let one = shard.depth().await?;
            depth.waiting += one.waiting;
            depth.leased += one.leased;
            depth.intake += one.intake;
        }
        Ok(depth)
    }

    async fn ping(&self) -> Result<()> {
        // One link: one answer speaks for every shard's connection.
        self.base.ping().await
    }

    async fn read_output(
        &self,
        job_id: &str,
        cursor: &str,
        wait: Duration,
    ) -> Result<(Vec<OutputPiece>, String)> {
        self.shard(job_id).read_output(job_id, cursor, wait).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_prefixes_keep_one_tag_each() {
        assert_eq!(shard_prefix("{notary}:", 0), "{notary:0}:");
        assert_eq!(shard_prefix("app:{fleet}:x:", 12), "app:{fleet:12}:x:");
        assert_eq!(shard_prefix("notary:", 3), "notary:{3}:");
        // An empty tag is no tag (Redis hashes the whole key then).
        assert_eq!(shard_prefix("a{}b:", 1), "a{}b:{1}:");
    }

    #[test]
    fn shard_of_is_fixed_and_spreads() {
        // Pinned: every process of a fleet must compute the same shard forever.
        assert_eq!(shard_of("", 4), (0xcbf2_9ce4_8422_2325u64 % 4) as usize);
        assert_eq!(shard_of("anything", 1), 0);
        let mut counts = [0usize; 4];
        for n in 0..4000 {
            counts[shard_of(&format!("job-{n}"), 4)] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }
}
