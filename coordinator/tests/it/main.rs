//! Coordinator integration tests: real HTTP on port 0, real wasm, real Redis, real worker
//! processes.

mod api;
mod fleet;
mod guests;
mod intake;
mod modules;
mod restart;
mod support;
mod tasks;
