//! EIP-712 worker registrations (issue 12): what a worker of the open fleet signs so that the
//! registry contract can anchor it. The typed data is
//!
//! ```text
//! WorkerRegistration(address worker,bytes32 configHash,uint64 deadline)
//! ```
//!
//! in the attestation domain `{name: "Notary", version: "1", chainId, verifyingContract}`. The
//! coordinator submits it with `registerWorkerSigned`; the contract recovers the signer and
//! refuses any signature that is not the worker's own, so no operator can register a key it does
//! not hold. `deadline` (unix seconds) is also the registration's sequence number: the contract
//! accepts a registration only before its deadline and only with a later deadline than the last
//! one it accepted for that worker, so an old signature cannot roll a worker back to an old
//! configuration.

use alloy_primitives::{Address, B256};
use alloy_sol_types::SolStruct;
use serde::{Deserialize, Serialize};

use crate::attestation::{recover_signer, AttestationDomain, WorkerKey};
use crate::digest::Digest32;
use crate::{Error, Result};

mod sol {
    alloy_sol_types::sol! {
        /// The EIP-712 struct, exactly as the registry contract declares it.
        struct WorkerRegistration {
            address worker;
            bytes32 configHash;
            uint64 deadline;
        }
    }
}

/// The signed fields of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkerRegistration {
    /// The worker's address (the signer).
    pub worker: Address,
    /// Its runtime id.
    pub config_hash: Digest32,
    /// Unix seconds after which the contract refuses it; later than the previous one.
    pub deadline: u64,
}

impl WorkerRegistration {
    fn sol(&self) -> sol::WorkerRegistration {
        sol::WorkerRegistration {
            worker: self.worker,
            configHash: B256::from(self.config_hash.0),
            deadline: self.deadline,
        }
    }

    /// The digest that is signed: `keccak256(0x1901 || domainSeparator || structHash)`.
    pub fn signing_hash(&self, domain: &AttestationDomain) -> Digest32 {
        Digest32(self.sol().eip712_signing_hash(&domain.eip712()).0)
    }

    /// The EIP-712 type string (what the contract must declare).
    pub fn type_string() -> String {
        sol::WorkerRegistration::eip712_encode_type().into_owned()
    }

    /// Signs with the worker's key (which must be `worker`'s).
    pub fn sign(&self, key: &WorkerKey, domain: &AttestationDomain) -> Result<String> {
        if key.address() != self.worker {
            return Err(Error::Signature(format!(
                "key {} cannot sign the registration of {}",
                key.address(),
                self.worker
            )));
        }
        key.sign_hash(&self.signing_hash(domain))
    }

    /// Checks that `signature` is `worker`'s own over these fields in `domain`.
    pub fn verify(&self, signature: &str, domain: &AttestationDomain) -> Result<()> {
        let signer = recover_signer(&self.signing_hash(domain), signature)?;
        if signer != self.worker {
            return Err(Error::Signature(format!(
                "signed by {signer}, not by the worker {}",
                self.worker
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_workers_own_signature_verifies() {
        let key = WorkerKey::generate();
        let other = WorkerKey::generate();
        let domain = AttestationDomain::default();
        let reg = WorkerRegistration {
            worker: key.address(),
            config_hash: Digest32([7; 32]),
            deadline: 1_765_050_000,
        };
        let sig = reg.sign(&key, &domain).unwrap();
        reg.verify(&sig, &domain).unwrap();
        assert!(
            reg.sign(&other, &domain).is_err(),
            "a key signs only its own"
        );
        let foreign = other.sign_hash(&reg.signing_hash(&domain)).unwrap();
        assert!(reg.verify(&foreign, &domain).is_err());
        let moved = AttestationDomain {
            chain_id: 31337,
            ..domain
        };
        assert!(reg.verify(&sig, &moved).is_err(), "bound to its domain");
        let later = WorkerRegistration {
            deadline: reg.deadline + 1,
            ..reg
        };
        assert!(
            later.verify(&sig, &domain).is_err(),
            "bound to its deadline"
        );
        assert_eq!(
            WorkerRegistration::type_string(),
            "WorkerRegistration(address worker,bytes32 configHash,uint64 deadline)"
        );
    }
}
