//! The Lua scripts: every step that touches more than one thing runs as one script, so it is
//! atomic with respect to every other client (Redis runs one script at a time).
//!
//! Scripts that can fail part-way check first and write last, so a failed call leaves nothing
//! half-done. A script error keeps Redis's error code (`NOGROUP ...`), which the caller uses to
//! re-create the consumer groups. The field names match [`super::keys::field`].

use redis::Script;

/// Resets a lease's idle time if, and only if, it is still pending for this worker.
///
/// KEYS: jobs. ARGV: group, worker, entry id. Returns 1 if the lease is held, else 0.
/// XCLAIM ... JUSTID with min-idle 0 resets the idle time without counting a delivery; the
/// XPENDING check before it makes sure it never takes an entry from another owner (a reaper).
/// XCLAIM answers nothing for an entry deleted from the stream, which then counts as lost.
const HEARTBEAT: &str = r#"
local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #held == 0 then return 0 end
return #redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
"#;

/// Records a result in the intake, then acknowledges and deletes the job entry.
///
/// KEYS: jobs, intake. ARGV: group, entry id, job id, worker, attempt, result payload.
/// Returns 1 if the entry was still pending (this submit completed the job), 0 if the lease had
/// been reaped (the result is recorded all the same). XACK on a missing group answers 0 rather
/// than failing, so the XADD is never left without its acknowledgement by an error.
const SUBMIT: &str = r#"
redis.call('XADD', KEYS[2], '*', 'kind', 'submitted', 'job_id', ARGV[3], 'worker', ARGV[4],
  'attempt', ARGV[5], 'payload', ARGV[6])
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return acked
"#;

/// Gives a lease back: if it is still pending for this worker, acknowledges and deletes the entry
/// and appends a copy (same fields, so the same attempt) at the tail.
///
/// KEYS: jobs. ARGV: group, worker, entry id. Returns 1 if released, 0 if the lease was lost.
const RELEASE: &str = r#"
local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #held == 0 then return 0 end
local entry = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if #entry == 0 then return 0 end
redis.call('XADD', KEYS[1], '*', unpack(entry[1][2]))
return 1
"#;

/// Handles one stale lease that XAUTOCLAIM moved to the reaper consumer: acknowledges and deletes
/// the entry, then either appends a copy with attempt + 1 or, at the delivery limit, appends a
/// dead letter to the intake.
///
/// KEYS: the lane's jobs stream, intake. ARGV: group, entry id, max deliveries, lane.
/// Returns 1 (redelivered), 2 (dead-lettered) or 0 (already handled: a submit or another reaper
/// acknowledged it first, which is what makes concurrent reapers safe).
/// The dead-letter reason must match `model::dead_letter_reason`.
const REAP_ONE: &str = r#"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if #entry == 0 then return 0 end
local fields = entry[1][2]
local job_id, payload, attempt = '', '', 1
for i = 1, #fields, 2 do
  local name, value = fields[i], fields[i + 1]
  if name == 'job_id' then job_id = value
  elseif name == 'payload' then payload = value
  elseif name == 'attempt' then attempt = tonumber(value) or 1
  end
end
local max = tonumber(ARGV[3])
if attempt >= max then
  redis.call('XADD', KEYS[2], '*', 'kind', 'dead_lettered', 'job_id', job_id,
    'attempt', tostring(attempt), 'payload', payload, 'lane', ARGV[4],
    'reason', 'no result after ' .. attempt .. ' deliveries (max ' .. max .. ')')
  return 2
end
redis.call('XADD', KEYS[1], '*', 'job_id', job_id, 'payload', payload,
  'attempt', tostring(attempt + 1))
return 1
"#;

/// Counts, in one consistent snapshot: entries in the lanes' job streams, entries pending
/// (leased), entries in the intake stream.
///
/// KEYS: the lanes' job streams, then intake. ARGV: group.
const DEPTH: &str = r#"
local total, pending = 0, 0
for i = 1, #KEYS - 1 do
  total = total + redis.call('XLEN', KEYS[i])
  pending = pending + redis.call('XPENDING', KEYS[i], ARGV[1])[1]
end
return {total, pending, redis.call('XLEN', KEYS[#KEYS])}
"#;

/// Takes the oldest new entry of the lowest non-empty lane for a worker (non-blocking
/// XREADGROUP, lane by lane, all in one atomic step).
///
/// KEYS: the lanes' job streams, lowest first. ARGV: group, consumer.
/// Returns `{lane, entry id, field, value, ...}`, or, when every lane is empty, `{-1, last id of
/// each lane...}`: the ids a blocking XREAD then waits past, so an entry added between this
/// script and that wait still wakes it.
const LEASE: &str = r#"
for i = 1, #KEYS do
  local got = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[i], '>')
  if got then
    local entry = got[1][2][1]
    local out = {tostring(i - 1), entry[1]}
    for _, v in ipairs(entry[2]) do out[#out + 1] = v end
    return out
  end
end
local out = {'-1'}
for i = 1, #KEYS do
  local info = redis.call('XINFO', 'STREAM', KEYS[i])
  for j = 1, #info, 2 do
    if info[j] == 'last-generated-id' then out[#out + 1] = info[j + 1] end
  end
end
return out
"#;

/// Deletes consumers that hold no pending entry and have not been seen for a long time, so a
/// fleet whose workers get fresh names on every start does not grow the group forever. A
/// consumer with pending entries is never deleted (that would drop its leases).
///
/// KEYS: a stream. ARGV: group, minimum idle time in ms. Returns how many were deleted.
const PRUNE_CONSUMERS: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #consumer, 2 do
    local key = consumer[i]
    if key == 'name' then name = consumer[i + 1]
    elseif key == 'pending' then pending = consumer[i + 1]
    elseif key == 'idle' then idle = consumer[i + 1]
    end
  end
  if name and pending == 0 and idle and idle >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed = removed + 1
  end
end
return removed
"#;

/// The loaded scripts (each `Script` carries its SHA1; `invoke_async` falls back to EVAL and
/// re-loads it after a Redis restart emptied the script cache).
pub(crate) struct Scripts {
    pub heartbeat: Script,
    pub submit: Script,
    pub release: Script,
    pub reap_one: Script,
    pub depth: Script,
    pub lease: Script,
    pub prune_consumers: Script,
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            heartbeat: Script::new(HEARTBEAT),
            submit: Script::new(SUBMIT),
            release: Script::new(RELEASE),
            reap_one: Script::new(REAP_ONE),
            depth: Script::new(DEPTH),
            lease: Script::new(LEASE),
            prune_consumers: Script::new(PRUNE_CONSUMERS),
        }
    }
}
