//! notary-loadtest integration tests: the library entry point against a mock `/verify` on
//! 127.0.0.1 port 0, the node baseline, and the binary's exit codes.

mod baseline;
mod binary;
mod mock;
mod service;
