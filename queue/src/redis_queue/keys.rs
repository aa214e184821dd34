//! Every Redis name the queue uses, in one place.
//!
//! With the default prefix `notary:`:
//!
//! | name | kind | holds |
//! |---|---|---|
//! | `notary:queue:jobs` | stream | lane 0: one entry per job delivery: fields `job_id`, `payload`, `attempt` |
//! | `notary:queue:jobs:1` … `:3` | streams | lanes 1 to 3 (see `JobEnvelope::lane`), the same fields |
//! | `notary:queue:for:<identity>` | stream | tasks only worker `<identity>` may lease (juror seats), the same fields |
//! | `notary:queue:targets` | set | the identities that have such a stream |
//! | `notary:queue:alive` | sorted set | identity -> when it last leased or heartbeated (ms, Redis clock) |
//! | group `workers` on each lane | consumer group | one consumer per worker name; a lease is an entry in a group's pending list |
//! | consumer `notary-reaper` | consumer | stale leases, briefly, while a reaper redelivers or dead-letters them |
//! | `notary:queue:intake` | stream | results and dead letters: fields `kind` (`submitted` / `dead_lettered`), `job_id`, `attempt`, `payload`, and `worker` (submitted) or `reason`, `lane` and `target` (dead letter) |
//! | group `coordinators` on it | consumer group | one consumer per coordinator name |
//! | `notary:queue:shards` | string | the shard count the coordinators run with (`--redis-shards`); with more than one, every `queue:` key above lives under each shard's prefix instead (`crate::ShardedQueue`) |
//! | `notary:workers:allowed` | set | the worker addresses (`0x…`, lower case) the coordinators accept; workers read it at start |
//! | `notary:queue:out:<jobId>` | stream | a streamed job's live output: fields `kind` (`data` / `end`), `attempt`, and `offset`, `bytes` (data); expires 10 min after its last entry |
//!
//! Entries are deleted (XDEL) as soon as they are acknowledged, so both streams hold only live
//! work. Other Notary keys (job records, worker registry) are named by `notary-protocol` under the
//! same prefix; these two do not collide with them.
//!
//! On a Redis Cluster, give the prefix a hash tag (`{notary}:`) so all streams live in one slot:
//! the lease, submit and reap scripts touch several.

/// The default prefix of every Notary key.
pub const DEFAULT_PREFIX: &str = "notary:";

/// Consumer group of the workers on the jobs stream.
pub const WORKERS_GROUP: &str = "workers";

/// Consumer group of the coordinators on the intake stream.
pub const COORDINATORS_GROUP: &str = "coordinators";

/// Consumer the reaper claims stale leases to. No worker or coordinator may take this name.
pub const REAPER_CONSUMER: &str = "notary-reaper";

/// Stream of job deliveries under `prefix`.
pub fn jobs(prefix: &str) -> String {
    format!("{prefix}queue:jobs")
}

/// Stream of job deliveries of fairness lane `lane` under `prefix` (lane 0 is [`jobs`]).
pub fn jobs_lane(prefix: &str, lane: u8) -> String {
    match lane {
        0 => jobs(prefix),
        n => format!("{prefix}queue:jobs:{n}"),
    }
}

/// Stream of the tasks targeted at worker `identity` (a juror's seats) under `prefix`.
pub fn target(prefix: &str, identity: &str) -> String {
    format!("{prefix}queue:for:{identity}")
}

/// Set of the identities that have a targeted stream, under `prefix` (for the reaper).
pub fn targets(prefix: &str) -> String {
    format!("{prefix}queue:targets")
}

/// Sorted set of worker identities by when they were last seen leasing or heartbeating (unix
/// ms, Redis's clock), under `prefix`.
pub fn alive(prefix: &str) -> String {
    format!("{prefix}queue:alive")
}

/// Stream of results and dead letters under `prefix`.
pub fn intake(prefix: &str) -> String {
    format!("{prefix}queue:intake")
}

/// Stream of job `job_id`'s live output under `prefix`.
pub fn output(prefix: &str, job_id: &str) -> String {
    format!("{prefix}queue:out:{job_id}")
}

/// The fleet's shard count (decimal), as the coordinators published it, under `prefix`.
pub fn shards(prefix: &str) -> String {
    format!("{prefix}queue:shards")
}

/// Set of the worker addresses the coordinators accept, under `prefix`.
pub fn allowed_workers(prefix: &str) -> String {
    format!("{prefix}workers:allowed")
}

/// Field names of the stream entries. The Lua scripts spell the same names.
pub mod field {
    /// Job id (both streams).
    pub const JOB_ID: &str = "job_id";
    /// Job payload (jobs stream, dead letters) or result payload (submitted results).
    pub const PAYLOAD: &str = "payload";
    /// Delivery number, decimal (both streams).
    pub const ATTEMPT: &str = "attempt";
    /// Intake item kind: [`KIND_SUBMITTED`] or [`KIND_DEAD_LETTERED`].
    pub const KIND: &str = "kind";
    /// Submitting worker (submitted results).
    pub const WORKER: &str = "worker";
    /// Why the job was given up (dead letters).
    pub const REASON: &str = "reason";
    /// The job's fairness lane, decimal (dead letters).
    pub const LANE: &str = "lane";
    /// The task's target identity, empty for a shared job (dead letters).
    pub const TARGET: &str = "target";
    /// `kind` of a submitted result.
    pub const KIND_SUBMITTED: &str = "submitted";
    /// `kind` of a dead letter.
    pub const KIND_DEAD_LETTERED: &str = "dead_lettered";
    /// `kind` of a piece of live output.
    pub const KIND_DATA: &str = "data";
    /// `kind` of the end of a delivery's live output.
    pub const KIND_END: &str = "end";
    /// Byte offset of a piece of live output, decimal.
    pub const OFFSET: &str = "offset";
    /// The bytes of a piece of live output.
    pub const BYTES: &str = "bytes";
}
