//! The payment ledger in the embedded database ([`crate::db`]): what lets `--payments x402`
//! run without Redis. Used payments, open settlements, refunds in flight and the statistics are
//! in the same file as the job records, so they survive a restart (and a SIGKILL: a caller is
//! answered only after the commit).
//!
//! Tables (prefixed `pay_`): `pay_pending` (job, body, expiry), `pay_used` (payment key, job;
//! rows are never deleted except by [`PaymentLedger::unreserve`]), `pay_jobs` (payment,
//! settlement, `registry_attempt`, `refund_raw`), `pay_payer_slots`, `pay_open`,
//! `pay_settling` (job, owner, expiry), `pay_stats` (named counters), `pay_counted` (jobs in
//! the counters), `pay_minutes` (minutes served), `pay_onchain` (on-chain requests, open or
//! closed) and `pay_onchain_cursor` (the next block to scan, per contract).
//!
//! Every multi-step operation runs in one [`Db::call`] closure, i.e. one transaction on the
//! database thread, which is what makes it atomic (the Lua scripts' role in Redis).

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use super::{Consumed, JobField, PaymentLedger, StatsCounters, StatsEntry};
use crate::compute::onchain::OnchainRequest;
use crate::db::Db;
use crate::error::Result;
use crate::payments::{Payment, PendingJob, Settlement};
use crate::record::now_ms;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pay_pending (
    job_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pay_pending_expiry ON pay_pending (expires_ms);
CREATE TABLE IF NOT EXISTS pay_used (
    key TEXT PRIMARY KEY,
    job_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pay_jobs (
    job_id TEXT PRIMARY KEY,
    payment TEXT,
    settlement TEXT,
    registry_attempt TEXT,
    refund_raw TEXT
);
CREATE TABLE IF NOT EXISTS pay_payer_slots (
    payer TEXT NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (payer, job_id)
);
CREATE TABLE IF NOT EXISTS pay_open (
    job_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS pay_settling (
    job_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pay_stats (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pay_counted (
    job_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS pay_minutes (
    minute INTEGER PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS pay_onchain (
    contract TEXT NOT NULL,
    request_id TEXT NOT NULL,
    body TEXT NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (contract, request_id)
);
CREATE TABLE IF NOT EXISTS pay_onchain_cursor (
    contract TEXT PRIMARY KEY,
    next_block INTEGER NOT NULL
);
";

/// The payment ledger in SQLite.
pub struct SqliteLedger {
    db: Arc<Db>,
}

impl SqliteLedger {
    /// Runs one statement with text arguments (the single-statement writes below).
    async fn execute(&self, sql: &'static str, args: Vec<String>) -> Result<()> {
        self.db
            .call(move |c| {
                c.execute(sql, rusqlite::params_from_iter(args))?;
                Ok(())
            })
            .await
    }

    /// The ledger in `db` (tables created if missing).
    pub async fn open(db: Arc<Db>) -> Result<SqliteLedger> {
        db.migrate(SCHEMA).await?;
        // The database belongs to this process alone (its exclusive lock), so a settling lock
        // found now was left by a process that died holding it: released, so the settlement it
        // interrupted resumes at once instead of after the lock's TTL.
        db.call(|c| c.execute("DELETE FROM pay_settling", []).map(|_| ()))
            .await?;
        Ok(SqliteLedger { db })
    }
}

fn column(field: JobField) -> &'static str {
    match field {
        JobField::RegistryAttempt => "registry_attempt",
        JobField::RefundRaw => "refund_raw",
    }
}

/// A JSON column as a value; a malformed one is an error of the call.
fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn used_by(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT job_id FROM pay_used WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

fn add(c: &Connection, name: &str, by: i64) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO pay_stats (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        params![name, by],
    )?;
    Ok(())
}

#[async_trait]
impl PaymentLedger for SqliteLedger {
    async fn put_pending(&self, pending: &PendingJob, ttl: Duration) -> Result<()> {
        let id = pending.record.id().to_string();
        let body = serde_json::to_string(pending)?;
        let now = now_ms() as i64;
        let expires = now + ttl.as_millis() as i64;
        self.db
            .call(move |c| {
                // Expired entries go on the way (they are unreadable already).
                c.execute("DELETE FROM pay_pending WHERE expires_ms <= ?1", [now])?;
                c.execute(
                    "INSERT OR REPLACE INTO pay_pending (job_id, body, expires_ms) VALUES (?1, ?2, ?3)",
                    params![id, body, expires],
                )?;
                Ok(())
            })
            .await
    }

    async fn pending(&self, job: Uuid) -> Result<Option<PendingJob>> {
        let id = job.to_string();
        let now = now_ms() as i64;
        let body: Option<String> = self
            .db
            .call(move |c| {
                c.query_row(
                    "SELECT body FROM pay_pending WHERE job_id = ?1 AND expires_ms > ?2",
                    params![id, now],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        Ok(match body {
            Some(b) => Some(serde_json::from_str(&b)?),
            None => None,
        })
    }

    async fn used_by(&self, used: &str) -> Result<Option<String>> {
        let key = used.to_string();
        self.db.call(move |c| used_by(c, &key)).await
    }

    async fn reserve(&self, used: &str, job: Uuid) -> Result<std::result::Result<(), String>> {
        let (key, id) = (used.to_string(), job.to_string());
        self.db
            .call(move |c| {
                if let Some(cur) = used_by(c, &key)? {
                    if cur != id {
                        return Ok(Err(cur));
                    }
                    return Ok(Ok(()));
                }
                c.execute(
                    "INSERT INTO pay_used (key, job_id) VALUES (?1, ?2)",
                    params![key, id],
                )?;
                Ok(Ok(()))
            })
            .await
    }

    async fn unreserve(&self, used: &str) -> Result<()> {
        self.execute(
            "DELETE FROM pay_used WHERE key = ?1",
            vec![used.to_string()],
        )
        .await
    }

    async fn consume(&self, job: Uuid, payment: &Payment, used: &str) -> Result<Consumed> {
        let (key, id) = (used.to_string(), job.to_string());
        let payment = serde_json::to_string(payment)?;
        self.db
            .call(move |c| {
                let paid: Option<Option<String>> = c
                    .query_row(
                        "SELECT payment FROM pay_jobs WHERE job_id = ?1",
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if matches!(paid, Some(Some(_))) {
                    return Ok(Consumed::AlreadyPaid);
                }
                match used_by(c, &key)? {
                    Some(cur) if cur != id => return Ok(Consumed::UsedBy(cur)),
                    Some(_) => {}
                    None => {
                        c.execute(
                            "INSERT INTO pay_used (key, job_id) VALUES (?1, ?2)",
                            params![key, id],
                        )?;
                    }
                }
                c.execute(
                    "INSERT INTO pay_jobs (job_id, payment) VALUES (?1, ?2)
                     ON CONFLICT (job_id) DO UPDATE SET payment = excluded.payment",
                    params![id, payment],
                )?;
                c.execute("INSERT OR IGNORE INTO pay_open (job_id) VALUES (?1)", [&id])?;
                c.execute("DELETE FROM pay_pending WHERE job_id = ?1", [&id])?;
                Ok(Consumed::Done)
            })
            .await
    }

    async fn job_payment(&self, job: Uuid) -> Result<Option<(Payment, Settlement)>> {
        let id = job.to_string();
        self.db
            .call(move |c| {
                let row: Option<(Option<String>, Option<String>)> = c
                    .query_row(
                        "SELECT payment, settlement FROM pay_jobs WHERE job_id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let Some((Some(payment), settlement)) = row else {
                    return Ok(None);
                };
                let settlement = match settlement {
                    Some(s) => from_json(&s)?,
                    None => Settlement::default(),
                };
                Ok(Some((from_json(&payment)?, settlement)))
            })
            .await
    }

    async fn save_settlement(&self, job: Uuid, settlement: &Settlement) -> Result<()> {
        self.execute(
            "INSERT INTO pay_jobs (job_id, settlement) VALUES (?1, ?2)
             ON CONFLICT (job_id) DO UPDATE SET settlement = excluded.settlement",
            vec![job.to_string(), serde_json::to_string(settlement)?],
        )
        .await
    }

    async fn job_field(&self, job: Uuid, field: JobField) -> Result<Option<String>> {
        let id = job.to_string();
        let sql = format!("SELECT {} FROM pay_jobs WHERE job_id = ?1", column(field));
        self.db
            .call(move |c| {
                Ok(c.query_row(&sql, [id], |r| r.get::<_, Option<String>>(0))
                    .optional()?
                    .flatten())
            })
            .await
    }

    async fn set_job_field(&self, job: Uuid, field: JobField, value: &str) -> Result<()> {
        let (id, value) = (job.to_string(), value.to_string());
        let col = column(field);
        let sql = format!(
            "INSERT INTO pay_jobs (job_id, {col}) VALUES (?1, ?2)
             ON CONFLICT (job_id) DO UPDATE SET {col} = excluded.{col}"
        );
        self.db
            .call(move |c| {
                c.execute(&sql, params![id, value])?;
                Ok(())
            })
            .await
    }

    async fn clear_job_field(&self, job: Uuid, field: JobField) -> Result<()> {
        let id = job.to_string();
        let sql = format!(
            "UPDATE pay_jobs SET {} = NULL WHERE job_id = ?1",
            column(field)
        );
        self.db
            .call(move |c| {
                c.execute(&sql, [id])?;
                Ok(())
            })
            .await
    }

    async fn take_payer_slot(&self, payer: Address, job: Uuid, max: usize) -> Result<bool> {
        let (payer, id) = (payer.to_string(), job.to_string());
        self.db
            .call(move |c| {
                let holds: bool = c
                    .query_row(
                        "SELECT 1 FROM pay_payer_slots WHERE payer = ?1 AND job_id = ?2",
                        params![payer, id],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                if holds {
                    return Ok(true);
                }
                let taken: i64 = c.query_row(
                    "SELECT COUNT(*) FROM pay_payer_slots WHERE payer = ?1",
                    [&payer],
                    |r| r.get(0),
                )?;
                if taken >= max as i64 {
                    return Ok(false);
                }
                c.execute(
                    "INSERT INTO pay_payer_slots (payer, job_id) VALUES (?1, ?2)",
                    params![payer, id],
                )?;
                Ok(true)
            })
            .await
    }

    async fn release_payer_slot(&self, payer: Address, job: Uuid) -> Result<()> {
        self.execute(
            "DELETE FROM pay_payer_slots WHERE payer = ?1 AND job_id = ?2",
            vec![payer.to_string(), job.to_string()],
        )
        .await
    }

    async fn open_jobs(&self) -> Result<Vec<Uuid>> {
        let ids: Vec<String> = self
            .db
            .call(|c| {
                let mut stmt = c.prepare("SELECT job_id FROM pay_open")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect()
            })
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }

    async fn close(&self, job: Uuid, payer: Address) -> Result<()> {
        let (payer, id) = (payer.to_string(), job.to_string());
        self.db
            .call(move |c| {
                c.execute("DELETE FROM pay_open WHERE job_id = ?1", [&id])?;
                c.execute(
                    "DELETE FROM pay_payer_slots WHERE payer = ?1 AND job_id = ?2",
                    params![payer, id],
                )?;
                Ok(())
            })
            .await
    }

    async fn lock_settling(&self, job: Uuid, owner: &str, ttl: Duration) -> Result<bool> {
        let (id, owner) = (job.to_string(), owner.to_string());
        let now = now_ms() as i64;
        let expires = now + ttl.as_millis() as i64;
        self.db
            .call(move |c| {
                c.execute(
                    "DELETE FROM pay_settling WHERE job_id = ?1 AND expires_ms <= ?2",
                    params![id, now],
                )?;
                let n = c.execute(
                    "INSERT OR IGNORE INTO pay_settling (job_id, owner, expires_ms) VALUES (?1, ?2, ?3)",
                    params![id, owner, expires],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn unlock_settling(&self, job: Uuid, owner: &str) -> Result<()> {
        self.execute(
            "DELETE FROM pay_settling WHERE job_id = ?1 AND owner = ?2",
            vec![job.to_string(), owner.to_string()],
        )
        .await
    }

    async fn count(&self, job: Uuid, entry: StatsEntry) -> Result<bool> {
        let id = job.to_string();
        self.db
            .call(move |c| {
                let new = c.execute(
                    "INSERT OR IGNORE INTO pay_counted (job_id) VALUES (?1)",
                    [id],
                )?;
                if new == 0 {
                    return Ok(false);
                }
                add(c, "total", 1)?;
                add(c, "delivered", i64::from(entry.delivered))?;
                add(c, "durationMs", entry.duration_ms)?;
                add(c, "revenueGwei", entry.revenue_gwei)?;
                add(c, "revenueTokenUnits", entry.revenue_token_units)?;
                Ok(true)
            })
            .await
    }

    async fn counters(&self) -> Result<StatsCounters> {
        self.db
            .call(|c| {
                let mut s = StatsCounters::default();
                let mut stmt = c.prepare("SELECT name, value FROM pay_stats")?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
                for row in rows {
                    let (name, value): (String, i64) = row?;
                    match name.as_str() {
                        "total" => s.total = value,
                        "delivered" => s.delivered = value,
                        "durationMs" => s.duration_ms = value,
                        "revenueGwei" => s.revenue_gwei = value,
                        "revenueTokenUnits" => s.revenue_token_units = value,
                        _ => {}
                    }
                }
                let (since, minutes): (Option<i64>, i64) =
                    c.query_row("SELECT MIN(minute), COUNT(*) FROM pay_minutes", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                s.up_since = since.map(|m| m as u64);
                s.up_minutes = minutes as u64;
                Ok(s)
            })
            .await
    }

    async fn beat(&self, minute: u64) -> Result<()> {
        let minute = minute as i64;
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT OR IGNORE INTO pay_minutes (minute) VALUES (?1)",
                    [minute],
                )?;
                Ok(())
            })
            .await
    }

    async fn onchain_cursor(&self, contract: Address) -> Result<Option<u64>> {
        let contract = contract.to_string();
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT next_block FROM pay_onchain_cursor WHERE contract = ?1",
                    [contract],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
            })
            .await
            .map(|b| b.map(|b| b as u64))
    }

    async fn record_onchain(
        &self,
        contract: Address,
        requests: &[OnchainRequest],
        next_block: u64,
    ) -> Result<()> {
        let rows = requests
            .iter()
            .map(|r| Ok((r.request_id.to_string(), serde_json::to_string(r)?)))
            .collect::<Result<Vec<_>>>()?;
        let contract = contract.to_string();
        self.db
            .call(move |c| {
                for (id, body) in &rows {
                    c.execute(
                        "INSERT OR IGNORE INTO pay_onchain (contract, request_id, body) VALUES (?1, ?2, ?3)",
                        params![contract, id, body],
                    )?;
                }
                c.execute(
                    "INSERT INTO pay_onchain_cursor (contract, next_block) VALUES (?1, ?2)
                     ON CONFLICT (contract) DO UPDATE
                     SET next_block = MAX(next_block, excluded.next_block)",
                    params![contract, next_block as i64],
                )?;
                Ok(())
            })
            .await
    }

    async fn open_onchain(&self, contract: Address) -> Result<Vec<OnchainRequest>> {
        let contract = contract.to_string();
        let bodies: Vec<String> = self
            .db
            .call(move |c| {
                let mut stmt =
                    c.prepare("SELECT body FROM pay_onchain WHERE contract = ?1 AND closed = 0")?;
                let rows = stmt.query_map([contract], |r| r.get(0))?;
                rows.collect()
            })
            .await?;
        super::requests_by_id(&bodies)
    }

    async fn close_onchain(&self, contract: Address, request: U256) -> Result<()> {
        self.execute(
            "UPDATE pay_onchain SET closed = 1 WHERE contract = ?1 AND request_id = ?2",
            vec![contract.to_string(), request.to_string()],
        )
        .await
    }
}
