//! The worker book in the embedded database: `workers` (counters, suspension) and
//! `worker_dissents` (one row per dissent, for the window). Each booking is one closure of the
//! database thread, so it is atomic ([`crate::db`]).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use notary_protocol::Address;
use rusqlite::{params, OptionalExtension};

use super::{Booked, SuspensionRule, Vote, WorkerBook, WorkerStats};
use crate::db::Db;
use crate::error::Result;
use crate::record::now_ms;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS workers (
    address TEXT PRIMARY KEY,
    jobs INTEGER NOT NULL DEFAULT 0,
    agreements INTEGER NOT NULL DEFAULT 0,
    dissents INTEGER NOT NULL DEFAULT 0,
    suspended_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS worker_dissents (
    address TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS worker_dissents_by_worker ON worker_dissents (address, at_ms);
";

/// The worker book in SQLite.
pub struct SqliteWorkerBook {
    db: Arc<Db>,
    rule: SuspensionRule,
}

impl SqliteWorkerBook {
    /// The book in `db` (tables created if missing).
    pub async fn open(db: Arc<Db>, rule: SuspensionRule) -> Result<Arc<Self>> {
        db.migrate(SCHEMA).await?;
        Ok(Arc::new(SqliteWorkerBook { db, rule }))
    }

    /// The addresses a query of one `address` column returns.
    async fn addresses(&self, sql: &'static str) -> Result<Vec<Address>> {
        let rows: Vec<String> = self
            .db
            .call(move |c| {
                let mut stmt = c.prepare_cached(sql)?;
                let rows = stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                Ok(rows)
            })
            .await?;
        Ok(rows.iter().filter_map(|a| a.parse().ok()).collect())
    }

    fn since(&self, at_ms: u64) -> i64 {
        at_ms.saturating_sub(self.rule.window.as_millis() as u64) as i64
    }
}

fn key(worker: &Address) -> String {
    format!("{worker:#x}")
}

#[async_trait]
impl WorkerBook for SqliteWorkerBook {
    async fn record(&self, worker: Address, vote: Vote, at_ms: u64) -> Result<Booked> {
        let (address, since, max) = (key(&worker), self.since(at_ms), self.rule.max_dissents);
        self.db
            .call(move |c| {
                let (agreed, dissented) = match vote {
                    Vote::Agreed => (1, 0),
                    Vote::Dissented => (0, 1),
                    Vote::Undecided => (0, 0),
                };
                c.execute(
                    "INSERT INTO workers (address, jobs, agreements, dissents) VALUES (?1, 1, ?2, ?3)
                     ON CONFLICT (address) DO UPDATE SET jobs = jobs + 1,
                       agreements = agreements + ?2, dissents = dissents + ?3",
                    params![address, agreed, dissented],
                )?;
                let mut booked = Booked::Counted;
                if vote == Vote::Dissented {
                    c.execute(
                        "INSERT INTO worker_dissents (address, at_ms) VALUES (?1, ?2)",
                        params![address, at_ms as i64],
                    )?;
                    c.execute(
                        "DELETE FROM worker_dissents WHERE address = ?1 AND at_ms < ?2",
                        params![address, since],
                    )?;
                    let recent: i64 = c.query_row(
                        "SELECT COUNT(*) FROM worker_dissents WHERE address = ?1",
                        [&address],
                        |r| r.get(0),
                    )?;
                    if recent > max as i64 {
                        let changed = c.execute(
                            "UPDATE workers SET suspended_at_ms = ?2
                             WHERE address = ?1 AND suspended_at_ms IS NULL",
                            params![address, at_ms as i64],
                        )?;
                        if changed == 1 {
                            booked = Booked::Suspended;
                        }
                    }
                }
                Ok(booked)
            })
            .await
    }

    async fn suspended(&self) -> Result<HashSet<Address>> {
        let rows = self
            .addresses("SELECT address FROM workers WHERE suspended_at_ms IS NOT NULL")
            .await?;
        Ok(rows.into_iter().collect())
    }

    async fn unsuspend(&self, worker: Address) -> Result<bool> {
        let address = key(&worker);
        self.db
            .call(move |c| {
                let changed = c.execute(
                    "UPDATE workers SET suspended_at_ms = NULL
                     WHERE address = ?1 AND suspended_at_ms IS NOT NULL",
                    [&address],
                )?;
                if changed == 1 {
                    c.execute("DELETE FROM worker_dissents WHERE address = ?1", [&address])?;
                }
                Ok(changed == 1)
            })
            .await
    }

    async fn stats(&self, worker: Address) -> Result<WorkerStats> {
        let (address, since) = (key(&worker), self.since(now_ms()));
        self.db
            .call(move |c| {
                let row = c
                    .query_row(
                        "SELECT jobs, agreements, dissents, suspended_at_ms FROM workers
                         WHERE address = ?1",
                        [&address],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, i64>(2)?,
                                r.get::<_, Option<i64>>(3)?,
                            ))
                        },
                    )
                    .optional()?;
                let recent: i64 = c.query_row(
                    "SELECT COUNT(*) FROM worker_dissents WHERE address = ?1 AND at_ms >= ?2",
                    params![address, since],
                    |r| r.get(0),
                )?;
                Ok(
                    row.map_or_else(WorkerStats::default, |(jobs, agreements, dissents, at)| {
                        WorkerStats {
                            jobs: jobs as u64,
                            agreements: agreements as u64,
                            dissents: dissents as u64,
                            recent_dissents: recent as u64,
                            suspended_at_ms: at.map(|a| a as u64),
                        }
                    }),
                )
            })
            .await
    }

    async fn workers(&self) -> Result<Vec<Address>> {
        let mut rows = self.addresses("SELECT address FROM workers").await?;
        rows.sort();
        Ok(rows)
    }
}
