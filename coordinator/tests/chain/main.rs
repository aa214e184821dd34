//! Chain tests: a real Hardhat 2 node (chain id 84532) started per test, real Redis, real wasm,
//! real HTTP. Run alone with `scripts/test.sh -p notary-coordinator --test chain`.

mod compute;
mod contracts;
mod escrow;
mod hardhat;
mod juries;
mod market;
mod market_crash;
mod middleware;
mod onchain;
mod open_fleet;
mod payments;
#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;
mod validation;
