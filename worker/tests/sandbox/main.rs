//! Sandbox integration tests: real wasmtime, guests written inline in WAT (and JavaScript when
//! the QuickJS runtime has been built).
//!
//! Lines starting with `MEASURE` (run with `--nocapture`) report timings.

mod cache;
mod engines;
mod exec;
mod fault;
mod js;
mod limits;
mod profile;
mod registry;
mod run;
mod sleep;
mod support;
mod validator;
