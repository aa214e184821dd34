//! Webhooks and their outbox in the embedded database ([`crate::db`]).
//!
//! Tables: `webhooks` (the registration as JSON), `webhook_deliveries` (one row per delivery
//! id: the body, attempts made, `due_ms`, the claim token, `finished_ms` once done, which keeps
//! the id taken so a re-delivered event adds nothing) and `webhook_attempts` (the history).
//! A claim is one transaction that selects the due rows and moves their `due_ms` forward by
//! the lease, so a delivery claimed by a process that then died is due again after the lease,
//! including after a restart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::{
    Attempt, Claimed, NewDelivery, Next, WebhookStore, FINISHED_RETENTION, MAX_ATTEMPTS_KEPT,
};
use crate::db::Db;
use crate::error::Result;
use crate::record::now_ms;
use crate::webhooks::Webhook;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    webhook TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    delivery TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_ms INTEGER,
    token TEXT,
    finished_ms INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (due_ms)
    WHERE finished_ms IS NULL;
CREATE INDEX IF NOT EXISTS webhook_deliveries_finished ON webhook_deliveries (finished_ms)
    WHERE finished_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS webhook_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    attempt TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_attempts_by_webhook ON webhook_attempts (webhook_id, seq);
";

/// Claims between two sweeps of finished deliveries past [`FINISHED_RETENTION`] (about a
/// minute of idle polling).
const SWEEP_EVERY: u64 = 600;

/// Webhooks and their outbox in SQLite.
pub struct SqliteWebhooks {
    db: Arc<Db>,
    claims: AtomicU64,
}

impl SqliteWebhooks {
    /// The store in `db` (tables created if missing).
    pub async fn open(db: Arc<Db>) -> Result<Arc<Self>> {
        db.migrate(SCHEMA).await?;
        Ok(Arc::new(SqliteWebhooks {
            db,
            claims: AtomicU64::new(0),
        }))
    }
}

fn json_err(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

#[async_trait]
impl WebhookStore for SqliteWebhooks {
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<()> {
        let (id, body) = (webhook.id.to_string(), serde_json::to_string(webhook)?);
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO webhooks (id, webhook) VALUES (?1, ?2)",
                    params![id, body],
                )?;
                Ok(())
            })
            .await
    }

    async fn webhook(&self, id: Uuid) -> Result<Option<Webhook>> {
        let id = id.to_string();
        let body: Option<String> = self
            .db
            .call(move |c| {
                c.query_row("SELECT webhook FROM webhooks WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
            })
            .await?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    async fn delete_webhook(&self, id: Uuid) -> Result<bool> {
        let id = id.to_string();
        self.db
            .call(move |c| {
                let n = c.execute("DELETE FROM webhooks WHERE id = ?1", [&id])?;
                c.execute("DELETE FROM webhook_attempts WHERE webhook_id = ?1", [&id])?;
                Ok(n > 0)
            })
            .await
    }

    async fn enqueue(&self, delivery: &NewDelivery) -> Result<bool> {
        let (id, webhook, body) = (
            delivery.id.clone(),
            delivery.webhook_id.to_string(),
            serde_json::to_string(delivery)?,
        );
        let now = now_ms() as i64;
        self.db
            .call(move |c| {
                let n = c.execute(
                    "INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, delivery, due_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, webhook, body, now],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn claim(&self, now_ms: u64, max: usize, lease: Duration) -> Result<Vec<Claimed>> {
        let now = now_ms as i64;
        let until = now + lease.as_millis() as i64;
        let sweep = self
            .claims
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY);
        self.db
            .call(move |c| {
                let rows: Vec<(String, String, u32)> = {
                    let mut stmt = c.prepare_cached(
                        "SELECT id, delivery, attempts FROM webhook_deliveries
                         WHERE finished_ms IS NULL AND due_ms <= ?1 ORDER BY due_ms LIMIT ?2",
                    )?;
                    let rows = stmt
                        .query_map(params![now, max as i64], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    rows
                };
                let mut claimed = Vec::with_capacity(rows.len());
                for (id, body, attempts) in rows {
                    let token = Uuid::new_v4().to_string();
                    c.execute(
                        "UPDATE webhook_deliveries SET due_ms = ?2, token = ?3 WHERE id = ?1",
                        params![id, until, token],
                    )?;
                    let delivery: NewDelivery = serde_json::from_str(&body).map_err(json_err)?;
                    claimed.push(Claimed {
                        delivery,
                        attempts,
                        token,
                    });
                }
                // Finished deliveries are kept only to make enqueue idempotent for a while.
                if sweep {
                    let oldest = now - FINISHED_RETENTION.as_millis() as i64;
                    c.execute(
                        "DELETE FROM webhook_deliveries WHERE finished_ms IS NOT NULL AND finished_ms < ?1",
                        [oldest],
                    )?;
                }
                Ok(claimed)
            })
            .await
    }

    async fn record(&self, claimed: &Claimed, attempt: &Attempt, next: Next) -> Result<bool> {
        let (id, token) = (claimed.delivery.id.clone(), claimed.token.clone());
        let webhook = claimed.delivery.webhook_id;
        let body = serde_json::to_string(attempt)?;
        let now = now_ms() as i64;
        self.db
            .call(move |c| {
                let (due, finished): (Option<i64>, Option<i64>) = match next {
                    Next::RetryAt(at) => (Some(at as i64), None),
                    Next::Finished | Next::DisableWebhook => (None, Some(now)),
                };
                let n = c.execute(
                    "UPDATE webhook_deliveries
                     SET attempts = attempts + 1, due_ms = ?3, finished_ms = ?4, token = NULL
                     WHERE id = ?1 AND token = ?2 AND finished_ms IS NULL",
                    params![id, token, due, finished],
                )?;
                if n == 0 {
                    return Ok(false);
                }
                let wid = webhook.to_string();
                c.execute(
                    "INSERT INTO webhook_attempts (webhook_id, attempt) VALUES (?1, ?2)",
                    params![wid, body],
                )?;
                c.execute(
                    "DELETE FROM webhook_attempts WHERE webhook_id = ?1 AND seq NOT IN
                     (SELECT seq FROM webhook_attempts WHERE webhook_id = ?1 ORDER BY seq DESC LIMIT ?2)",
                    params![wid, MAX_ATTEMPTS_KEPT as i64],
                )?;
                if next == Next::DisableWebhook {
                    let current: Option<String> = c
                        .query_row("SELECT webhook FROM webhooks WHERE id = ?1", [&wid], |r| {
                            r.get(0)
                        })
                        .optional()?;
                    if let Some(current) = current {
                        let mut w: Webhook = serde_json::from_str(&current).map_err(json_err)?;
                        w.disabled = true;
                        let text = serde_json::to_string(&w).map_err(json_err)?;
                        c.execute(
                            "UPDATE webhooks SET webhook = ?2 WHERE id = ?1",
                            params![wid, text],
                        )?;
                    }
                }
                Ok(true)
            })
            .await
    }

    async fn attempts(&self, webhook: Uuid, limit: usize) -> Result<Vec<Attempt>> {
        let id = webhook.to_string();
        let rows: Vec<String> = self
            .db
            .call(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT attempt FROM webhook_attempts WHERE webhook_id = ?1
                     ORDER BY seq DESC LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map(params![id, limit as i64], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                Ok(rows)
            })
            .await?;
        rows.iter().map(|r| Ok(serde_json::from_str(r)?)).collect()
    }

    async fn outbox_depth(&self) -> Result<u64> {
        self.db
            .call(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE finished_ms IS NULL",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .await
            .map(|n| n as u64)
    }
}
