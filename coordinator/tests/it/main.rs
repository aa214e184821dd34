//! Coordinator integration tests: real HTTP on port 0, real wasm, real Redis, real worker
//! processes.

mod api;
mod assignment_store;
mod connections;
mod embedded_restart;
mod fleet;
mod guests;
mod hostile;
mod intake;
mod job_store;
mod juries;
mod ledger;
mod module_store;
mod modules;
mod observability;
mod open_fleet;
mod openapi;
mod protect;
mod redis_faults;
mod replay_cache;
mod restart;
mod support;
mod tasks;
mod webhooks;
mod worker_book;
mod worker_faults;
