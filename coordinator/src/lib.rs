//! # notary-coordinator
//!
//! The front of Notary: clients `POST /verify` code, an input and the sha256 they expect the
//! output to have; the coordinator validates the request, records the job, queues it, and
//! answers with the attested verdict (or a `checkStatusAt` link when it takes longer).
//!
//! # Layout
//!
//! From the leaves to the root; a module only uses modules above it in this list.
//!
//! - [`error`]: the crate's internal [`Error`] and [`Result`].
//! - [`record`]: a job's record and outcome, the domain types every layer shares.
//! - [`metrics`]: Prometheus metrics (`GET /metrics`), one function per event.
//! - [`db`]: the embedded SQLite database (one writer thread, group commit).
//! - [`store`]: job records and the durable event log of final jobs (Redis, or SQLite).
//! - [`modules`]: the module registry (`POST /modules`), content-addressed.
//! - [`tasks`]: `data-transformation` and `api-replay` as JavaScript generated around the
//!   user's code.
//! - [`jobs`]: **the job service**, the one owner of a job's life: submit, await, the intake
//!   of worker reports, the completion policy, the only final write, and the event consumers
//!   that react to final jobs.
//! - [`jury`]: the selection and verdict rules of juries (issue 11), as pure functions.
//! - [`workers`]: the worker book: jurors' votes and suspensions, and the open fleet's
//!   registrations and approvals (issue 12).
//! - [`actors`]: actor-signed requests of open-fleet workers: signature, clock window and the
//!   replay cache.
//! - [`assignments`]: the leases remote workers hold over HTTP, by random id.
//! - [`webhooks`]: signed notifications of final jobs to registered URLs: the `webhooks`
//!   event consumer fills a durable outbox that a delivery task drains with retries.
//! - [`chain`]: JSON-RPC access, contract bindings, `contracts deploy`.
//! - [`payments`]: x402 payments, refunds and registry writes (the settlement consumer), with
//!   their state in a payment ledger (Redis, or the embedded database).
//! - [`protect`]: per-IP rate limit, circuit breaker, load caps and backend readiness, as
//!   one middleware in front of the routes.
//! - [`config`]: flags, `NOTARY_*` environment and a TOML file, merged and resolved.
//!   It aggregates each part's settings (sandbox, payments, protections).
//! - [`api`]: the axum router and handlers ([`api::app`]): they parse requests and answer
//!   with source document 002's fields and status codes; the job service does the rest.
//! - [`http_server`]: the HTTP/1.1 accept loop: header, idle and body timeouts, connection
//!   limits (total and per client IP), the descriptor limit, graceful draining.
//! - [`server`]: the composition root: backends chosen from the configuration, background
//!   tasks started and drained, [`run`].
//!
//! Binaries stay thin: `main.rs` parses options and calls [`run`] with a listener and a
//! shutdown future, which is also how the tests start real servers on port 0.

pub mod actors;
pub mod api;
pub mod assignments;
pub mod chain;
pub mod compute;
pub mod config;
pub mod db;
pub mod error;
pub mod http_server;
pub mod jobs;
pub mod jury;
pub mod metrics;
pub mod modules;
pub mod payments;
pub mod protect;
pub mod record;
pub mod redis_conn;
pub mod server;
pub mod store;
pub mod tasks;
pub mod webhooks;
pub mod workers;

pub use config::{Config, Settings};
pub use error::{Error, Result};
pub use server::run;
