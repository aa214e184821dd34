//! Job records and the event log in the embedded database ([`crate::db`]).
//!
//! Tables: `jobs` (the accepted record, the outcome once final, the delivery count and whether
//! that delivery was leased, a jury's state and its version, the expiry)
//! and `events` (one row per final job, numbered in order) with `event_cursors` (per consumer:
//! every event up to `seq` is handled). `finalize` sets the outcome and inserts the event in one
//! transaction. A consumer's events past its cursor are handed out once and again only after
//! `redeliver_after` without an acknowledgement (or after a restart); acknowledgements may come
//! out of order, and the cursor moves over the longest run of handled events, so at most the
//! events in flight when the process died are handed out twice.
//!
//! A delivery ([`JobStore::record_delivery`]) is noted in the delivery journal ([`super::journal`],
//! one `write` to a file next to the database) and folded into `jobs` later in batches; with
//! `--fsync` it is an `UPDATE` of its own.
//!
//! This is the single-process embedded mode: waiters and the in-flight bookkeeping are in this
//! process, and the database file is locked against a second coordinator ([`crate::db`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use rusqlite::{params, OptionalExtension};
use tokio::sync::Notify;
use uuid::Uuid;

use super::events::{EventLog, JobEvent};
use super::journal::DeliveryJournal;
use super::waiters::Waiters;
use super::{Finalized, JobStore, Unfinished};
use crate::db::{Db, Durability};
use crate::error::Result;
use crate::jury::JuryState;
use crate::record::{now_ms, JobOutcome, JobRecord};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    outcome TEXT,
    attempt INTEGER NOT NULL DEFAULT 1,
    leased INTEGER NOT NULL DEFAULT 0,
    jury TEXT,
    jury_version INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (created_ms) WHERE outcome IS NULL;
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs (expires_ms);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (created_ms DESC, id DESC);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    body TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_age ON events (at_ms);
CREATE TABLE IF NOT EXISTS event_cursors (
    consumer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
";

/// A stored row: the record, the outcome and the jury (JSON).
type Stored = (String, Option<String>, Option<String>);

/// Inserts between two sweeps of expired records and events.
const SWEEP_EVERY: u64 = 1024;

/// `consumer`'s position: every event up to it is handled (0: none yet).
fn cursor_of(c: &rusqlite::Connection, consumer: &str) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT seq FROM event_cursors WHERE consumer = ?1")?
        .query_row([consumer], |r| r.get(0))
        .optional()
        .map(|seq| seq.unwrap_or(0))
}

/// One consumer's events handed out but not yet reflected in its cursor.
#[derive(Default)]
struct Reader {
    /// Handed out, not acknowledged: when.
    in_flight: BTreeMap<i64, Instant>,
    /// Acknowledged beyond the cursor (out of order).
    acked: BTreeSet<i64>,
}

/// Job records and the event log in SQLite.
pub struct SqliteStore {
    db: Arc<Db>,
    retention: Duration,
    waiters: Arc<Waiters>,
    /// Woken when an event is appended.
    appended: Notify,
    readers: Mutex<HashMap<String, Reader>>,
    inserts: AtomicU64,
    /// Where deliveries are noted (a file-backed database without `--fsync`).
    journal: Option<Arc<DeliveryJournal>>,
}

/// A journal file is sealed and folded into the database at this size (~25,000 notes).
const JOURNAL_FILE_BYTES: u64 = 1 << 20;
/// Notes folded in per transaction (a millisecond or so of the database thread).
const FOLD_BATCH: usize = 256;

impl SqliteStore {
    /// The store in `db` (tables created if missing), keeping records for `retention`.
    pub async fn open(db: Arc<Db>, retention: Duration) -> Result<Arc<Self>> {
        db.migrate(SCHEMA).await?;
        // Databases written before `leased` existed: add it (their unfinished jobs count as
        // leased, the old rule, once).
        db.call(|c| {
            let has_leased = c
                .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'leased'")?
                .exists([])?;
            if !has_leased {
                c.execute_batch("ALTER TABLE jobs ADD COLUMN leased INTEGER NOT NULL DEFAULT 1")?;
            }
            // And before juries.
            let has_jury = c
                .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'jury'")?
                .exists([])?;
            if !has_jury {
                c.execute_batch(
                    "ALTER TABLE jobs ADD COLUMN jury TEXT;
                     ALTER TABLE jobs ADD COLUMN jury_version INTEGER NOT NULL DEFAULT 0;",
                )?;
            }
            Ok(())
        })
        .await?;
        let journal = match db.path() {
            Some(path) if db.durability() == Durability::Process => {
                let mut dir = path.as_os_str().to_owned();
                dir.push(".deliveries");
                Some(Arc::new(DeliveryJournal::open(
                    Path::new(&dir),
                    JOURNAL_FILE_BYTES,
                )?))
            }
            _ => None,
        };
        Ok(Arc::new(SqliteStore {
            db,
            retention,
            waiters: Arc::new(Waiters::default()),
            appended: Notify::new(),
            readers: Mutex::new(HashMap::new()),
            inserts: AtomicU64::new(0),
            journal,
        }))
    }

    /// Folds the delivery journal's sealed files into `jobs` (each note as
    /// [`JobStore::record_delivery`] would have written it; nothing for a final job), then
    /// deletes them.
    async fn fold(db: &Db, journal: &DeliveryJournal) -> Result<()> {
        let _turn = journal.folding().await;
        for (path, notes) in journal.sealed()? {
            for batch in notes.chunks(FOLD_BATCH) {
                let batch: Vec<(String, u32)> = batch
                    .iter()
                    .map(|(id, attempt)| (id.to_string(), *attempt))
                    .collect();
                db.call(move |c| {
                    let mut update = c.prepare_cached(
                        "UPDATE jobs SET attempt = MAX(attempt, ?2), leased = 1
                         WHERE id = ?1 AND outcome IS NULL",
                    )?;
                    for (id, attempt) in &batch {
                        update.execute(params![id, attempt])?;
                    }
                    Ok(())
                })
                .await?;
            }
            DeliveryJournal::remove(&path)?;
        }
        Ok(())
    }

    async fn sweep(&self) -> Result<()> {
        let now = now_ms() as i64;
        let oldest = now - self.retention.as_millis() as i64;
        self.db
            .call(move |c| {
                c.execute("DELETE FROM jobs WHERE expires_ms < ?1", [now])?;
                c.execute("DELETE FROM events WHERE at_ms < ?1", [oldest])?;
                Ok(())
            })
            .await
    }

    /// Events past `consumer`'s cursor that are neither acknowledged nor freshly handed out.
    async fn pending(
        &self,
        consumer: &str,
        max: usize,
        redeliver_after: Duration,
    ) -> Result<Vec<JobEvent>> {
        // Only events past the last one handed out are new; below it, only handed-out events
        // whose redelivery time passed are read again (a read no longer re-fetches everything
        // in flight or acknowledged past the cursor).
        let (high, expired) = {
            let now = Instant::now();
            let readers = self.readers.lock();
            match readers.get(consumer) {
                Some(r) => (
                    r.in_flight
                        .keys()
                        .next_back()
                        .copied()
                        .max(r.acked.iter().next_back().copied()),
                    r.in_flight
                        .iter()
                        .filter(|(_, at)| now.duration_since(**at) >= redeliver_after)
                        .map(|(seq, _)| *seq)
                        .take(max)
                        .collect::<Vec<i64>>(),
                ),
                None => (None, Vec::new()),
            }
        };
        let name = consumer.to_string();
        let rows: Vec<(i64, String)> = self
            .db
            .call(move |c| {
                let cursor = cursor_of(c, &name)?;
                let mut rows = Vec::new();
                let mut again =
                    c.prepare_cached("SELECT seq, body FROM events WHERE seq = ?1 AND seq > ?2")?;
                for seq in expired {
                    let found = again
                        .query_map(params![seq, cursor], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<rusqlite::Result<Vec<(i64, String)>>>()?;
                    rows.extend(found);
                }
                let from = high.map_or(cursor, |high| high.max(cursor));
                let mut stmt = c.prepare_cached(
                    "SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )?;
                let fresh = stmt
                    .query_map(params![from, max as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<(i64, String)>>>()?;
                rows.extend(fresh);
                Ok(rows)
            })
            .await?;
        let now = Instant::now();
        let mut readers = self.readers.lock();
        let reader = readers.entry(consumer.to_string()).or_default();
        let mut out = Vec::new();
        for (seq, body) in rows {
            if out.len() >= max {
                break;
            }
            if reader.acked.contains(&seq) {
                continue;
            }
            if let Some(at) = reader.in_flight.get(&seq) {
                if now.duration_since(*at) < redeliver_after {
                    continue;
                }
            }
            match JobEvent::parse(seq.to_string(), &body) {
                Ok(event) => {
                    reader.in_flight.insert(seq, now);
                    out.push(event);
                }
                Err(e) => {
                    // Never handed out, so it would block the cursor: count it as handled.
                    tracing::warn!(seq, error = %e, "unreadable event skipped");
                    reader.acked.insert(seq);
                }
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn read(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
        redeliver_after: Duration,
    ) -> Result<Vec<JobEvent>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let appended = self.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let events = self.pending(consumer, max.max(1), redeliver_after).await?;
            if !events.is_empty() {
                return Ok(events);
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn ack(&self, consumer: &str, event: &JobEvent) -> Result<()> {
        self.ack_many(consumer, std::slice::from_ref(event)).await
    }

    async fn ack_many(&self, consumer: &str, events: &[JobEvent]) -> Result<()> {
        let seqs: Vec<i64> = events
            .iter()
            .filter_map(|event| event.id.parse::<i64>().ok())
            .collect();
        if seqs.is_empty() {
            return Ok(());
        }
        let acked: Vec<i64> = {
            let mut readers = self.readers.lock();
            let reader = readers.entry(consumer.to_string()).or_default();
            for seq in seqs {
                reader.in_flight.remove(&seq);
                reader.acked.insert(seq);
            }
            reader.acked.iter().copied().collect()
        };
        let name = consumer.to_string();
        // Move the cursor over the run of acknowledged events just past it.
        let cursor: i64 = self
            .db
            .call(move |c| {
                let mut cursor = cursor_of(c, &name)?;
                let mut stmt = c.prepare_cached(
                    "SELECT seq FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )?;
                let next: Vec<i64> = stmt
                    .query_map(params![cursor, acked.len() as i64 + 1], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                for seq in next {
                    if acked.binary_search(&seq).is_ok() {
                        cursor = seq;
                    } else {
                        break;
                    }
                }
                c.prepare_cached(
                    "INSERT INTO event_cursors (consumer, seq) VALUES (?1, ?2)
                     ON CONFLICT (consumer) DO UPDATE SET seq = MAX(seq, excluded.seq)",
                )?
                .execute(params![name, cursor])?;
                Ok(cursor)
            })
            .await?;
        let mut readers = self.readers.lock();
        if let Some(reader) = readers.get_mut(consumer) {
            reader.acked.retain(|s| *s > cursor);
            reader.in_flight.retain(|s, _| *s > cursor);
        }
        Ok(())
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn insert(&self, record: &JobRecord) -> Result<()> {
        self.insert_issued(record).await?.await
    }

    async fn insert_issued(&self, record: &JobRecord) -> Result<super::Issued> {
        if self.inserts.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep().await?;
        }
        let id = record.id().to_string();
        let json = serde_json::to_string(record)?;
        let created = record.created_at_ms as i64;
        let expires = (now_ms() + self.retention.as_millis() as u64) as i64;
        let issued = self.db.issue(move |c| {
            c.prepare_cached(
                "INSERT OR REPLACE INTO jobs (id, record, outcome, attempt, created_ms, expires_ms)
                 VALUES (?1, ?2, NULL, 1, ?3, ?4)",
            )?
            .execute(params![id, json, created, expires])?;
            Ok(())
        })?;
        Ok(Box::pin(issued))
    }

    async fn get(&self, id: Uuid) -> Result<Option<JobRecord>> {
        let key = id.to_string();
        let now = now_ms() as i64;
        let row: Option<Stored> = self
            .db
            .call(move |c| {
                c.prepare_cached(
                    "SELECT record, outcome, jury FROM jobs WHERE id = ?1 AND expires_ms >= ?2",
                )?
                .query_row(params![key, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
            })
            .await?;
        let Some((record, outcome, jury)) = row else {
            return Ok(None);
        };
        Ok(Some(super::decode(
            &record,
            outcome.as_deref(),
            jury.as_deref(),
        )?))
    }

    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<Finalized> {
        let id = record.id();
        let (last, event) = super::with_outcome(record, outcome);
        let (key, json, body, at) = (
            id.to_string(),
            serde_json::to_string(outcome)?,
            event.body(),
            event.at_ms as i64,
        );
        let now = now_ms() as i64;
        let expires = now + self.retention.as_millis() as i64;
        // 1: set now; 0: already final (the stored record comes back); -1: no such job.
        let (set, stored): (i64, Option<Stored>) = self
            .db
            .call(move |c| {
                let changed = c
                    .prepare_cached(
                        "UPDATE jobs SET outcome = ?2, expires_ms = ?3
                         WHERE id = ?1 AND outcome IS NULL AND expires_ms >= ?4",
                    )?
                    .execute(params![key, json, expires, now])?;
                if changed == 1 {
                    c.prepare_cached(
                        "INSERT INTO events (job_id, body, at_ms) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![key, body, at])?;
                    return Ok((1, None));
                }
                let stored = c
                    .prepare_cached(
                        "SELECT record, outcome, jury FROM jobs WHERE id = ?1 AND expires_ms >= ?2",
                    )?
                    .query_row(params![key, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                Ok(match stored {
                    Some(s) => (0, Some(s)),
                    None => (-1, None),
                })
            })
            .await?;
        match (set, stored) {
            (1, _) => {
                self.waiters.wake_final(&last);
                self.appended.notify_waiters();
                Ok(Finalized::Applied(last))
            }
            (0, Some((record, outcome, jury))) => Ok(Finalized::AlreadyFinal(super::decode(
                &record,
                outcome.as_deref(),
                jury.as_deref(),
            )?)),
            _ => Ok(Finalized::Missing),
        }
    }

    async fn save_jury(&self, id: Uuid, state: &JuryState) -> Result<bool> {
        let (key, json, version) = (id.to_string(), serde_json::to_string(state)?, state.version);
        let now = now_ms() as i64;
        let changed = self
            .db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE jobs SET jury = ?2, jury_version = ?3
                     WHERE id = ?1 AND outcome IS NULL AND expires_ms >= ?4 AND jury_version = ?5",
                )?
                .execute(params![
                    key,
                    json,
                    version as i64,
                    now,
                    version.saturating_sub(1) as i64
                ])
            })
            .await?;
        if changed == 1 && state.escalated {
            self.waiters.wake(id);
        }
        Ok(changed == 1)
    }

    fn waiters(&self) -> &Arc<Waiters> {
        &self.waiters
    }

    async fn record_delivery(&self, id: Uuid, attempt: u32) -> Result<()> {
        if let Some(journal) = &self.journal {
            if journal.note(id, attempt)? {
                // A file filled up: fold it in off the job's path.
                let (db, journal) = (self.db.clone(), journal.clone());
                tokio::spawn(async move {
                    if let Err(e) = Self::fold(&db, &journal).await {
                        tracing::warn!(error = %e, "could not fold the delivery journal in (again at the next fill or restart)");
                    }
                });
            }
            return Ok(());
        }
        let id = id.to_string();
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE jobs SET attempt = ?2, leased = 1 WHERE id = ?1 AND outcome IS NULL",
                )?
                .execute(params![id, attempt])?;
                Ok(())
            })
            .await
    }

    async fn take_unfinished(&self) -> Result<Vec<Unfinished>> {
        if let Some(journal) = &self.journal {
            journal.seal()?;
            Self::fold(&self.db, journal).await?;
        }
        let now = now_ms() as i64;
        let rows: Vec<(String, i64, Option<String>)> = self
            .db
            .call(move |c| {
                c.execute(
                    "UPDATE jobs SET attempt = attempt + 1, leased = 0
                     WHERE outcome IS NULL AND leased = 1 AND expires_ms >= ?1",
                    [now],
                )?;
                let mut stmt = c.prepare(
                    "SELECT record, attempt, jury FROM jobs
                     WHERE outcome IS NULL AND expires_ms >= ?1 ORDER BY created_ms",
                )?;
                let rows = stmt
                    .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(record, attempt, jury)| {
                Ok(Unfinished {
                    record: super::decode(&record, None, jury.as_deref())?,
                    attempt: attempt as u32,
                })
            })
            .collect()
    }

    async fn recent(&self, before: Option<(u64, Uuid)>, limit: usize) -> Result<Vec<JobRecord>> {
        let now = now_ms() as i64;
        let (ms, id) = match before {
            Some((ms, id)) => (ms as i64, id.to_string()),
            // Past every id ('~' sorts after hex digits and '-').
            None => (i64::MAX, "~".to_string()),
        };
        let rows: Vec<Stored> = self
            .db
            .call(move |c| {
                let mut stmt = c.prepare(
                    "SELECT record, outcome, jury FROM jobs
                     WHERE (created_ms < ?1 OR (created_ms = ?1 AND id < ?2)) AND expires_ms >= ?3
                     ORDER BY created_ms DESC, id DESC LIMIT ?4",
                )?;
                let rows = stmt
                    .query_map(params![ms, id, now, limit as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(record, outcome, jury)| {
                super::decode(&record, outcome.as_deref(), jury.as_deref())
            })
            .collect()
    }

    async fn ping(&self) -> Result<()> {
        self.db.call(|c| c.execute_batch("SELECT 1")).await
    }
}
