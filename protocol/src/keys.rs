//! Redis key names of job records and registered modules, shared by every coordinator (and,
//! for modules, every worker).
//!
//! Queue streams are named by `notary-queue` under the same prefix.

/// The default prefix of every Notary key.
pub const DEFAULT_PREFIX: &str = "notary:";

/// Hash holding one job record (`record` field: JSON).
pub fn job(prefix: &str, job_id: &str) -> String {
    format!("{prefix}job:{job_id}")
}

/// Sorted set of job ids by acceptance time (score: created unix ms), for listing jobs newest
/// first; trimmed to the records' retention.
pub fn jobs_by_time(prefix: &str) -> String {
    format!("{prefix}jobs:by-time")
}

/// Pub/sub channel on which a coordinator announces that a job reached a final state, so the
/// coordinator holding the client's request (maybe another replica) can answer at once.
/// Message: the job id, a space, and the sending coordinator's name.
pub fn done_channel(prefix: &str) -> String {
    format!("{prefix}events:done")
}

/// Stream of final-job events (one entry per job that became final, appended with its outcome),
/// read by the coordinators' event consumers in consumer groups named after each consumer.
pub fn events(prefix: &str) -> String {
    format!("{prefix}events:final")
}

/// Sorted set of live workers (member: address, score: last heartbeat in unix ms).
pub fn workers(prefix: &str) -> String {
    format!("{prefix}workers")
}

/// Hash holding one registered module (fields `manifest`: JSON, `bytes`: the module). Written
/// by coordinators (`POST /modules`), read by workers that run a job naming the module.
pub fn module(prefix: &str, module_hash: &str) -> String {
    format!("{prefix}module:{module_hash}")
}

/// Sorted set of registered module hashes, scored by first publish time (unix ms).
pub fn modules(prefix: &str) -> String {
    format!("{prefix}modules")
}

/// Hash from `name@version` to the hash of the module first published under that name (its
/// owner: nobody can publish other bytes under it).
pub fn module_names(prefix: &str) -> String {
    format!("{prefix}modules:names")
}
