//! Notary's job queue: the lease protocol between coordinators and workers.
//!
//! Coordinators put jobs in; stateless workers *lease* them, run them and *submit* a result; the
//! coordinators read those results back from an *intake*. Everything a coordinator or a worker
//! needs to agree on lives here, behind one trait, so that several coordinators and any number of
//! workers can share one Redis without sharing any memory.
//!
//! # Components
//!
//! * [`JobQueue`] (`queue.rs`): the one object-safe async trait. Every caller holds an
//!   `Arc<dyn JobQueue>` and never learns which backend is behind it.
//! * [`model`]: the values that travel through the queue: [`JobEnvelope`] (an opaque payload
//!   plus its delivery `attempt`), [`Lease`] (a job owned by one worker for a while),
//!   [`IntakeItem`] / [`IntakeDelivery`] (a submitted result or a dead letter, on its way to a
//!   coordinator), [`ReapReport`] and [`QueueDepth`]. Payloads are opaque strings: this crate
//!   knows nothing of what a job means.
//! * [`RedisQueue`] (`redis_queue/`): the production backend on Redis Streams. A job is a stream
//!   entry; a lease is that entry's pending-entries-list slot; every multi-step change (submit,
//!   release, reap, heartbeat) is one Lua script, so it is atomic even with many coordinators.
//!   Its key names are listed in [`keys`].
//! * [`ShardedQueue`] (`sharded.rs`): several [`RedisQueue`]s under hash-tagged prefixes of
//!   their own (`{notary:0}:` …), jobs placed by their id's hash, leases and the intake spanning
//!   the shards: a fleet's queue spread over the masters of a Redis Cluster.
//! * [`MemoryQueue`] (`memory.rs`): the same semantics in one process (a mutex and two
//!   `Notify`s), for the single-process embedded mode and for tests. It runs on
//!   `tokio::time`, so tests can pause the clock.
//! * [`Error`] / [`Result`] (`error.rs`): the crate's one error type.
//! * [`link`]: [`RedisLink`], how every Notary process reaches Redis: a plain Redis or any node
//!   of a Redis Cluster (detected on first use), lazily connected, with dedicated connections
//!   for blocking reads.
//! * [`redact_url`] (`redact.rs`): how any URL (Redis, RPC, webhook) reaches a log, an error or
//!   a metric label: without its credentials, path secrets or query.
//! * `test_utils` (feature `test-utils`): `RedisServer`, a real `redis-server` on a free
//!   loopback port, for this crate's tests and for every other crate's.
//!
//! # Life of a job
//!
//! ```text
//! coordinator             queue                          worker
//!   enqueue(job) ───────▶ waiting
//!                         waiting ──── lease(worker) ──▶ runs the job,
//!                         leased  ◀─── heartbeat ─────── every heartbeat interval
//!   next_intake ◀──────── intake  ◀─── submit(result) ── (result first, then the job is gone)
//!   ack_intake ─────────▶ (gone)
//!
//! reaper (any coordinator, periodically): reap(lease_ttl, max_deliveries)
//!   leased, idle > lease_ttl ──▶ waiting again with attempt + 1
//!                           └──▶ or, at max_deliveries, a dead letter in the intake
//! ```
//!
//! Delivery is *at least once* at both ends. A worker whose lease was reaped may still submit
//! (its result is recorded, and the redelivered copy may be submitted too), and an intake item
//! taken by a coordinator that crashes before [`JobQueue::ack_intake`] is handed to another
//! coordinator after the intake TTL. The intake consumer must therefore be idempotent per
//! job id (first final result wins).

pub mod blocking;
mod error;
pub mod link;
mod memory;
pub mod model;
mod queue;
mod redact;
mod redis_queue;
mod sharded;
#[cfg(feature = "test-utils")]
pub mod test_utils;

pub use error::{Error, Result};
pub use link::{RedisConn, RedisLink};
pub use memory::{MemoryQueue, DEFAULT_INTAKE_TTL};
pub use model::{
    IntakeDelivery, IntakeItem, JobEnvelope, Lease, OutputPiece, QueueDepth, ReapReport, LANES,
    OUTPUT_LOG_PIECES, OUTPUT_PIECE_MAX, OUTPUT_TTL,
};
pub use queue::{JobQueue, Leases};
pub use redact::redact_url;
pub use redis_queue::{keys, RedisQueue, RedisQueueConfig};
pub use sharded::{shard_of, shard_prefix, ShardedQueue, MAX_SHARDS, SHARD_ROUND};
