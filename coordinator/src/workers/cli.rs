//! `notary-coordinator workers …`: the operator's view of the worker book, and lifting a
//! suspension. It opens the same backend a coordinator with the same flags (or environment, or
//! `--config` file) would: Redis with `--redis` (a fleet), else the embedded database, which a
//! running embedded coordinator holds locked (stop it first).

use std::sync::Arc;

use clap::{Parser, Subcommand};
use notary_protocol::Address;

use super::{RedisWorkerBook, SqliteWorkerBook, WorkerBook};
use crate::config::{DataDir, Settings};
use crate::db::Db;
use crate::error::Result;

/// `notary-coordinator workers`.
#[derive(Parser, Debug)]
#[command(
    name = "notary-coordinator workers",
    about = "Jurors' records, registrations, approvals and suspensions"
)]
pub struct WorkersCli {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
    /// Where the book is: the coordinator's own options.
    #[command(flatten)]
    pub settings: Settings,
}

/// A `workers` action.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Every booked worker: jobs, agreements, dissents, suspension (one line each).
    List,
    /// Lets a suspended worker sit on new juries again (its recent dissents are forgiven).
    Unsuspend {
        /// The worker's 0x address.
        address: Address,
    },
    /// Approves a registered worker for juries (`--worker-approval manual`).
    Approve {
        /// The worker's 0x address.
        address: Address,
    },
}

/// Runs `cli`; returns what to print.
pub async fn run(cli: WorkersCli) -> Result<String> {
    let config = cli.settings.with_file()?.resolve()?;
    let book: Arc<dyn WorkerBook> = match &config.redis {
        Some(url) => Arc::new(RedisWorkerBook::new_lazy(
            url,
            &config.redis_prefix,
            config.suspension,
        )?),
        None => {
            let path = match &config.data_dir {
                DataDir::Memory => None,
                DataDir::Path(dir) => Some(dir.join("notary.sqlite3")),
            };
            let db = Arc::new(Db::open(path.as_deref(), config.durability)?);
            SqliteWorkerBook::open(db, config.suspension).await?
        }
    };
    match cli.action {
        Action::List => {
            let mut lines = Vec::new();
            for w in book.workers().await? {
                let s = book.stats(w).await?;
                let registration = match book.registration(w).await? {
                    Some(r) => format!(
                        " roles={} config_hash=0x{} engine={} {}",
                        r.roles
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        r.config_hash,
                        r.engine,
                        if r.approved { "approved" } else { "unapproved" }
                    ),
                    None => String::new(),
                };
                lines.push(format!(
                    "{} jobs={} agreements={} dissents={} recent_dissents={} {}{registration}",
                    w.to_checksum(None),
                    s.jobs,
                    s.agreements,
                    s.dissents,
                    s.recent_dissents,
                    if s.suspended_at_ms.is_some() {
                        "suspended"
                    } else {
                        "eligible"
                    }
                ));
            }
            Ok(lines.join("\n"))
        }
        Action::Unsuspend { address } => {
            if book.unsuspend(address).await? {
                tracing::warn!(worker = %address, "suspension lifted by an operator");
                Ok(format!("{address}: suspension lifted"))
            } else {
                Ok(format!("{address}: was not suspended"))
            }
        }
        Action::Approve { address } => {
            if book.approve(address).await? {
                tracing::warn!(worker = %address, "worker approved for juries by an operator");
                Ok(format!("{address}: approved"))
            } else {
                Err(crate::error::Error::Config(format!(
                    "{address} has not registered (POST /providers/register or /verifiers/register)"
                )))
            }
        }
    }
}
