//! On-chain compute requests (issue 14, document 001's `pending.onchain`): a consumer contract
//! asks a `ComputeCoordinator` (`contracts/src/ComputeCoordinator.sol`) for a run, or a
//! subscription of `frequency` runs one `period` apart, and this coordinator, the contract's
//! node, runs each interval and delivers the result back on chain.
//!
//! - [`watch`]: the [`OnchainWatcher`] task reads `ComputeRequested` events once they have
//!   `--confirmations` blocks (so a reorg shallower than that never shows it a request that
//!   vanishes), from a block cursor stored in the payment ledger with the requests it found
//!   (one atomic write, so a restart neither misses nor repeats a block), and submits each
//!   interval's job when it is due.
//! - [`deliver`]: the [`DeliveryConsumer`] (an event consumer of the job service) sends
//!   `deliverCompute` with the deciding workers' signatures once an interval's job is final.
//!
//! An interval is a compute chain ([`super::ChainStep`]; one container for `requestCompute`,
//! those of `requestChain` otherwise) whose id (its first step's job id) is derived from
//! (chain, contract, request, interval) ([`interval_job_id`]), so every coordinator and every
//! restart names it alike and submits it once. Its first step reads the request's `input` as
//! its stdin (its attested `inputHash` is the contract's `sha256(input)`), each step carries
//! its chain link as its `expectedHash` (the first is the contract's `containersHash`), the
//! steps run with at most `maxFuel` together, and is judged by a jury of the smallest trust tier whose majority is
//! `redundancy` seats (escalating automatically on a split), so every verdict carries enough
//! signatures. The contract accepts a delivery
//! only with `redundancy` distinct registered signers over the attestation and only once per
//! interval, so "exactly once" is the chain's to enforce; the coordinator reads `delivered`
//! first and sends nothing for an interval already delivered.

pub mod deliver;
pub mod watch;

use alloy::primitives::{Address, Bytes, B256, U256};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::deliver::DeliveryConsumer;
pub use self::watch::OnchainWatcher;
use crate::jury;

/// A request as the contract's `ComputeRequested` event told it, stored until every interval
/// is delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnchainRequest {
    /// The contract's request id.
    pub request_id: U256,
    /// The contract that asked (and receives the results).
    pub consumer: Address,
    /// The chain's first link (`sha256("notary-chain:v1" ‖ module hashes)`).
    pub containers_hash: B256,
    /// The modules of a chain asked for by `requestChain`, in order; empty for a one-container
    /// request by `containersHash` alone (the registered module with that link is run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<B256>,
    /// The module's stdin.
    pub input: Bytes,
    /// Fuel a run may use.
    pub max_fuel: u64,
    /// Distinct registered workers that must sign a delivery.
    pub redundancy: u16,
    /// Runs asked for.
    pub frequency: u32,
    /// Seconds between runs.
    pub period: u32,
    /// When the request was made (its block's time, unix seconds): interval i is due
    /// `created_at + i × period`.
    pub created_at: u64,
    /// The block it was made in.
    pub block: u64,
}

impl OnchainRequest {
    /// `interval` of this request on `contract`, as its chain's steps carry it.
    pub fn job(&self, contract: Address, interval: u32) -> OnchainJob {
        OnchainJob {
            contract,
            request_id: self.request_id,
            interval,
            redundancy: self.redundancy,
            max_fuel: self.max_fuel,
        }
    }

    /// When `interval` may be delivered (unix seconds), as the contract's `dueAt`.
    pub fn due_at(&self, interval: u32) -> u64 {
        self.created_at + u64::from(interval) * u64::from(self.period)
    }
}

/// A job's place in an on-chain request (part of its [`super::ChainStep`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnchainJob {
    /// The `ComputeCoordinator`.
    pub contract: Address,
    /// The request.
    pub request_id: U256,
    /// Which run of it (0-based).
    pub interval: u32,
    /// Signers the delivery needs.
    pub redundancy: u16,
    /// Fuel this step may use: the request's `maxFuel` less what the chain's earlier steps
    /// used (the contract bounds their sum).
    pub max_fuel: u64,
}

/// The job id of `interval` of `request` on `contract` of chain `chain_id`: the same for every
/// coordinator and across restarts.
pub fn interval_job_id(chain_id: u64, contract: Address, request: U256, interval: u32) -> Uuid {
    super::derived_id(
        &[
            b"notary-onchain:v1".as_slice(),
            &chain_id.to_be_bytes(),
            contract.as_slice(),
            &request.to_be_bytes::<32>(),
            &interval.to_be_bytes(),
        ]
        .concat(),
    )
}

/// The smallest trust tier whose majority is at least `redundancy` jurors, so any verdict it
/// reaches carries enough signatures for the contract (`None`: more than the largest tier's
/// majority, 4).
pub fn tier_for(redundancy: u16) -> Option<u8> {
    jury::TIERS
        .iter()
        .copied()
        .find(|t| jury::majority(*t) >= usize::from(redundancy.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_ids_differ_by_every_part_and_are_stable() {
        let c = Address::repeat_byte(1);
        let id = interval_job_id(1, c, U256::from(1), 0);
        assert_eq!(id, interval_job_id(1, c, U256::from(1), 0));
        for other in [
            interval_job_id(2, c, U256::from(1), 0),
            interval_job_id(1, Address::repeat_byte(2), U256::from(1), 0),
            interval_job_id(1, c, U256::from(2), 0),
            interval_job_id(1, c, U256::from(1), 1),
        ] {
            assert_ne!(id, other);
        }
        assert_eq!(id.get_version_num(), 8);
    }

    #[test]
    fn redundancy_picks_the_smallest_tier_that_seats_it() {
        assert_eq!(tier_for(0), Some(1));
        assert_eq!(tier_for(1), Some(1));
        assert_eq!(tier_for(2), Some(3));
        assert_eq!(tier_for(3), Some(5));
        assert_eq!(tier_for(4), Some(7));
        assert_eq!(tier_for(5), None);
    }
}
