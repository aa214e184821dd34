//! Integration tests of `notary-queue`: the conformance suite run against both backends, the
//! Redis-only crash/restart tests, and the `test_utils` Redis server itself.

mod conformance;
mod redis_only;
mod sharded;
mod support;
