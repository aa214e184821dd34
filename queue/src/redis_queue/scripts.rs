//! The Lua scripts: every step that touches more than one thing runs as one script, so it is
//! atomic with respect to every other client (Redis runs one script at a time).
//!
//! Scripts that can fail part-way check first and write last, so a failed call leaves nothing
//! half-done. A script error keeps Redis's error code (`NOGROUP ...`), which the caller uses to
//! re-create the consumer groups. The field names match [`super::keys::field`].

use redis::Script;

/// `now_ms()`: Redis's own clock in unix ms, the one clock of the alive set (so machines
/// whose clocks differ agree on who is alive). Prepended to the scripts that read it.
macro_rules! with_now_ms {
    ($body:literal) => {
        concat!(
            "local function now_ms()\n",
            "  local t = redis.call('TIME')\n",
            "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n",
            "end\n",
            $body
        )
    };
}

/// Resets a lease's idle time if, and only if, it is still pending for this worker.
///
/// KEYS: the lease's stream, the alive set. ARGV: group, worker, entry id, identity ('' for
/// a plain lease). Returns 1 if the lease is held (and marks the identity alive), else 0.
/// XCLAIM ... JUSTID with min-idle 0 resets the idle time without counting a delivery; the
/// XPENDING check before it makes sure it never takes an entry from another owner (a reaper).
/// XCLAIM answers nothing for an entry deleted from the stream, which then counts as lost.
const HEARTBEAT: &str = with_now_ms!(
    r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #held == 0 then return 0 end
local kept = #redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
if kept == 1 and ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], now_ms(), ARGV[4])
end
return kept
"#
);

/// Marks an identity alive now (Redis's clock).
///
/// KEYS: alive. ARGV: identity.
const MARK_ALIVE: &str = with_now_ms!(
    r#"
redis.call('ZADD', KEYS[1], now_ms(), ARGV[1])
return 1
"#
);

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
/// KEYS: the lease's stream (a lane's or a target's), intake. ARGV: group, entry id, max
/// deliveries, lane, target ('' for a shared job).
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
    'attempt', tostring(attempt), 'payload', payload, 'lane', ARGV[4], 'target', ARGV[5],
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
/// KEYS: the lanes' and the targets' job streams, then intake. ARGV: group.
const DEPTH: &str = r#"
local total, pending = 0, 0
for i = 1, #KEYS - 1 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    total = total + redis.call('XLEN', KEYS[i])
    pending = pending + redis.call('XPENDING', KEYS[i], ARGV[1])[1]
  end
end
return {total, pending, redis.call('XLEN', KEYS[#KEYS])}
"#;

/// Takes the oldest new entry of the first non-empty stream for a worker (non-blocking
/// XREADGROUP, stream by stream, all in one atomic step): the identity's targeted stream if there
/// is an identity, then the lanes, lowest first.
///
/// KEYS: the streams in that order, then the alive set, then the targets set. ARGV: group,
/// consumer, identity ('' for none: then no targeted stream is among KEYS), '1' to mark the
/// identity alive now (the caller marks at most every `alive_every`, not on every lease).
/// An identity's stream that does not exist yet is created with its group (and listed in the
/// targets set), so the caller's blocking `XREADGROUP` can wait on it too.
/// Returns `{index, entry id, field, value, ...}` (index into the streams, from 0), or `{-1}`
/// when every stream is empty: the caller then waits with a blocking `XREADGROUP` on all of
/// them, which leases an entry added meanwhile too (`>` is "not yet delivered to the group", not
/// "newer than now"), and which Redis hands to one waiting consumer only: no herd of waiters
/// wakes per job.
const LEASE: &str = with_now_ms!(
    r#"
local n = #KEYS - 2
local targeted = ARGV[3] ~= ''
if targeted and ARGV[4] == '1' then
  redis.call('ZADD', KEYS[n + 1], now_ms(), ARGV[3])
end
for i = 1, n do
  local got
  if targeted and i == 1 then
    got = redis.pcall('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
    if type(got) == 'table' and got.err then
      redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
      redis.call('SADD', KEYS[n + 2], ARGV[3])
      got = false
    end
  else
    got = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[i], '>')
  end
  if got then
    local entry = got[1][2][1]
    local out = {tostring(i - 1), entry[1]}
    for _, v in ipairs(entry[2]) do out[#out + 1] = v end
    return out
  end
end
return {'-1'}
"#
);

/// Queues a task for one worker identity: creates its stream and group if missing, records the
/// identity for the reaper, appends the entry.
///
/// KEYS: the target's stream, the targets set. ARGV: group, identity, then field/value pairs.
const ENQUEUE_TARGETED: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
end
redis.call('SADD', KEYS[2], ARGV[2])
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
return redis.call('XADD', KEYS[1], '*', unpack(fields))
"#;

/// Dead-letters the tasks of a target that is not alive: every entry not yet delivered that
/// waited at least the TTL (by its id's time), if the identity was not seen within the TTL;
/// then deletes the stream if nothing is left in it or leased from it.
///
/// KEYS: the target's stream, intake, the alive set, the targets set. ARGV: group, identity,
/// TTL in ms, the dead letter's reason. Returns how many were dead-lettered. One script per
/// target, so concurrent reapers dead-letter each task once.
const REAP_ABSENT: &str = with_now_ms!(
    r#"
local now = now_ms()
local ttl = tonumber(ARGV[3])
local seen = redis.call('ZSCORE', KEYS[3], ARGV[2])
if seen and now - tonumber(seen) <= ttl then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[4], ARGV[2])
  return 0
end
local last = '0-0'
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, id
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then id = g[i + 1] end
  end
  if name == ARGV[1] then last = id end
end
local dead = 0
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '(' .. last, '+')) do
  local ms = tonumber(string.match(e[1], '^(%d+)'))
  if now - ms < ttl then break end
  local job_id, payload, attempt = '', '', '1'
  for i = 1, #e[2], 2 do
    local name, value = e[2][i], e[2][i + 1]
    if name == 'job_id' then job_id = value
    elseif name == 'payload' then payload = value
    elseif name == 'attempt' then attempt = value
    end
  end
  redis.call('XADD', KEYS[2], '*', 'kind', 'dead_lettered', 'job_id', job_id, 'attempt', attempt,
    'payload', payload, 'lane', '0', 'target', ARGV[2], 'reason', ARGV[4])
  redis.call('XDEL', KEYS[1], e[1])
  dead = dead + 1
end
if redis.call('XLEN', KEYS[1]) == 0 and redis.call('XPENDING', KEYS[1], ARGV[1])[1] == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[4], ARGV[2])
end
return dead
"#
);

/// The identities seen within a time, and forgets those unseen for longer than another.
///
/// KEYS: the alive set. ARGV: within (ms), forget after (ms; 0: forget nothing).
const ALIVE: &str = with_now_ms!(
    r#"
local now = now_ms()
local forget = tonumber(ARGV[2])
if forget > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - forget)) end
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')
"#
);

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
    pub mark_alive: Script,
    pub submit: Script,
    pub release: Script,
    pub reap_one: Script,
    pub depth: Script,
    pub lease: Script,
    pub enqueue_targeted: Script,
    pub reap_absent: Script,
    pub alive: Script,
    pub prune_consumers: Script,
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            heartbeat: Script::new(HEARTBEAT),
            mark_alive: Script::new(MARK_ALIVE),
            submit: Script::new(SUBMIT),
            release: Script::new(RELEASE),
            reap_one: Script::new(REAP_ONE),
            depth: Script::new(DEPTH),
            lease: Script::new(LEASE),
            enqueue_targeted: Script::new(ENQUEUE_TARGETED),
            reap_absent: Script::new(REAP_ABSENT),
            alive: Script::new(ALIVE),
            prune_consumers: Script::new(PRUNE_CONSUMERS),
        }
    }
}
