//! Redis key names of job records, shared by every coordinator.
//!
//! Queue streams are named by `notary-queue` under the same prefix.

/// The default prefix of every Notary key.
pub const DEFAULT_PREFIX: &str = "notary:";

/// Hash holding one job record (`record` field: JSON).
pub fn job(prefix: &str, job_id: &str) -> String {
    format!("{prefix}job:{job_id}")
}

/// Pub/sub channel on which a coordinator announces that a job reached a final state, so the
/// coordinator holding the client's request (maybe another replica) can answer at once.
pub fn done_channel(prefix: &str) -> String {
    format!("{prefix}events:done")
}

/// Sorted set of live workers (member: address, score: last heartbeat in unix ms).
pub fn workers(prefix: &str) -> String {
    format!("{prefix}workers")
}
