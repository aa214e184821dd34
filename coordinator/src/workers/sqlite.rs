//! The worker book in the embedded database: `workers` (counters, suspension),
//! `worker_dissents` (one row per dissent, for the window) and `worker_registrations` (the open
//! fleet's registrations). Each booking or registration is one closure of the database thread,
//! so it is atomic ([`crate::db`]).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use notary_protocol::{Address, Digest32};
use rusqlite::{params, OptionalExtension};

use super::Service;
use super::{
    Booked, Registered, Registration, Role, SuspensionRule, Vote, WorkerBook, WorkerStats,
};
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
CREATE TABLE IF NOT EXISTS worker_registrations (
    address TEXT PRIMARY KEY,
    provider INTEGER NOT NULL DEFAULT 0,
    verifier INTEGER NOT NULL DEFAULT 0,
    config_hash TEXT NOT NULL,
    engine TEXT NOT NULL,
    description TEXT,
    approved INTEGER NOT NULL DEFAULT 0,
    registered_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS worker_earnings (
    address TEXT NOT NULL,
    job_id TEXT NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (address, job_id)
);
CREATE TABLE IF NOT EXISTS worker_services (
    address TEXT NOT NULL,
    service_id TEXT NOT NULL,
    service TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (address, service_id)
);
";

/// The columns `registration` reads, in its order.
const REGISTRATION: &str = "SELECT provider, verifier, config_hash, engine, description, approved,
    registered_at_ms, updated_at_ms FROM worker_registrations WHERE address = ?1";

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
        let mut rows = self
            .addresses("SELECT address FROM workers UNION SELECT address FROM worker_registrations")
            .await?;
        rows.sort();
        Ok(rows)
    }

    async fn register(
        &self,
        registration: &Registration,
        approve: bool,
        at_ms: u64,
    ) -> Result<(Registered, bool)> {
        let r = registration.clone();
        let address = key(&r.address);
        let (provider, verifier) = match r.role {
            Role::Provider => (1, 0),
            Role::Verifier => (0, 1),
        };
        let first = self
            .db
            .call(move |c| {
                let existed: bool = c
                    .query_row(
                        "SELECT 1 FROM worker_registrations WHERE address = ?1",
                        [&address],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                c.execute(
                    "INSERT INTO worker_registrations (address, provider, verifier, config_hash,
                       engine, description, approved, registered_at_ms, updated_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                     ON CONFLICT (address) DO UPDATE SET
                       provider = MAX(provider, ?2), verifier = MAX(verifier, ?3),
                       config_hash = ?4, engine = ?5, description = ?6,
                       approved = MAX(approved, ?7), updated_at_ms = ?8",
                    params![
                        address,
                        provider,
                        verifier,
                        r.config_hash.to_hex(),
                        r.engine,
                        r.description,
                        i64::from(approve),
                        at_ms as i64
                    ],
                )?;
                Ok(!existed)
            })
            .await?;
        let registered = self
            .registration(registration.address)
            .await?
            .ok_or_else(|| crate::error::Error::Store("a registration vanished".into()))?;
        Ok((registered, first))
    }

    async fn registration(&self, worker: Address) -> Result<Option<Registered>> {
        let address = key(&worker);
        let row = self
            .db
            .call(move |c| {
                let row = c
                    .query_row(REGISTRATION, [&address], |r| {
                        Ok((
                            r.get::<_, bool>(0)?,
                            r.get::<_, bool>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, bool>(5)?,
                            r.get::<_, i64>(6)?,
                            r.get::<_, i64>(7)?,
                        ))
                    })
                    .optional()?;
                Ok(row)
            })
            .await?;
        let Some((provider, verifier, config_hash, engine, description, approved, at, updated)) =
            row
        else {
            return Ok(None);
        };
        let roles = [(provider, Role::Provider), (verifier, Role::Verifier)]
            .into_iter()
            .filter_map(|(has, role)| has.then_some(role))
            .collect();
        Ok(Some(Registered {
            roles,
            config_hash: Digest32::from_hex(&config_hash).map_err(|e| {
                crate::error::Error::Store(format!("stored config hash of {worker}: {e}"))
            })?,
            engine,
            description,
            approved,
            registered_at_ms: at as u64,
            updated_at_ms: updated as u64,
        }))
    }

    async fn approve(&self, worker: Address) -> Result<bool> {
        let address = key(&worker);
        self.db
            .call(move |c| {
                let changed = c.execute(
                    "UPDATE worker_registrations SET approved = 1 WHERE address = ?1",
                    [&address],
                )?;
                Ok(changed == 1)
            })
            .await
    }

    async fn approved(&self) -> Result<HashSet<Address>> {
        let rows = self
            .addresses("SELECT address FROM worker_registrations WHERE approved = 1")
            .await?;
        Ok(rows.into_iter().collect())
    }

    async fn put_service(&self, worker: Address, service: &Service) -> Result<(Service, bool)> {
        let address = key(&worker);
        let mut stored = service.clone();
        let json = serde_json::to_string(service)?;
        let (id, at) = (service.service_id.clone(), service.updated_at_ms as i64);
        let (created, first) = self
            .db
            .call(move |c| {
                // One call is one transaction: the read and the upsert are one step.
                let known: Option<i64> = c
                    .query_row(
                        "SELECT created_at_ms FROM worker_services WHERE address = ?1 AND service_id = ?2",
                        params![address, id],
                        |r| r.get(0),
                    )
                    .optional()?;
                c.execute(
                    "INSERT INTO worker_services (address, service_id, service, created_at_ms)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (address, service_id) DO UPDATE SET service = excluded.service",
                    params![address, id, json, at],
                )?;
                Ok((known.unwrap_or(at), known.is_none()))
            })
            .await?;
        stored.created_at_ms = created as u64;
        Ok((stored, first))
    }

    async fn services(&self, worker: Address) -> Result<Vec<Service>> {
        let address = key(&worker);
        let rows: Vec<(String, i64)> = self
            .db
            .call(move |c| {
                let mut stmt = c.prepare(
                    "SELECT service, created_at_ms FROM worker_services WHERE address = ?1 ORDER BY service_id",
                )?;
                let rows = stmt
                    .query_map([&address], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(json, created)| {
                let mut service: Service = serde_json::from_str(&json)?;
                service.created_at_ms = created as u64;
                Ok(service)
            })
            .collect()
    }

    async fn remove_service(&self, worker: Address, service_id: &str) -> Result<bool> {
        let (address, id) = (key(&worker), service_id.to_string());
        self.db
            .call(move |c| {
                let removed = c.execute(
                    "DELETE FROM worker_services WHERE address = ?1 AND service_id = ?2",
                    params![address, id],
                )?;
                Ok(removed == 1)
            })
            .await
    }

    async fn credit(&self, worker: Address, job: uuid::Uuid, units: u64) -> Result<bool> {
        let (address, job) = (key(&worker), job.to_string());
        self.db
            .call(move |c| {
                let added = c.execute(
                    "INSERT OR IGNORE INTO worker_earnings (address, job_id, units) VALUES (?1, ?2, ?3)",
                    params![address, job, units.min(i64::MAX as u64) as i64],
                )?;
                Ok(added == 1)
            })
            .await
    }

    async fn earnings(&self, worker: Address) -> Result<u64> {
        let address = key(&worker);
        let total: i64 = self
            .db
            .call(move |c| {
                c.query_row(
                    "SELECT COALESCE(SUM(units), 0) FROM worker_earnings WHERE address = ?1",
                    [&address],
                    |r| r.get(0),
                )
            })
            .await?;
        Ok(total.max(0) as u64)
    }
}
