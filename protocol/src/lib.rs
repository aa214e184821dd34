//! # notary-protocol
//!
//! The vocabulary every Notary process shares, with no I/O of its own:
//!
//! - [`digest`]: [`Digest32`], the sha256 (or keccak) value that appears in jobs, results and
//!   attestations, with one hex text form everywhere.
//! - [`canonical`]: RFC 8785 canonical JSON. `inputData` is hashed and handed to guests in this
//!   form, so the same logical input always has the same bytes and the same hash.
//! - [`job`]: [`JobSpec`], the unit of work a coordinator queues and a worker leases, and
//!   [`derive_seed`], the deterministic randomness seed of a job.
//! - [`attestation`]: the EIP-712 [`Attestation`] a worker signs over a job's result, the
//!   [`WorkerKey`] that signs it and [`recover_signer`] that checks it. The same typed-data hash
//!   is what the on-chain registry verifies with `ecrecover`.
//! - [`report`]: [`WorkerReport`], what a worker submits after running a job.
//! - [`module`]: [`ModulePackage`] and [`ModuleManifest`], what `notary-pack` writes and the
//!   coordinator's module registry stores.
//! - [`actor`]: actor-signed HTTP requests (EIP-191 over a fixed text), how workers of an
//!   open fleet prove a request is theirs.
//! - [`registration`]: the EIP-712 [`WorkerRegistration`] a worker signs so the registry
//!   contract anchors it (the contract refuses any other key's signature).
//! - [`keys`]: the Redis key names of job records, so every coordinator agrees on them.
//!
//! Coordinators and workers only ever exchange these types (as JSON), which keeps the fleet's
//! wire format in one reviewed place.

pub mod actor;
pub mod attestation;
pub mod canonical;
pub mod digest;
mod error;
pub mod job;
pub mod keys;
pub mod module;
pub mod own_signatures;
pub mod registration;
pub mod report;

pub use attestation::{
    recover_signer, Attestation, AttestationDomain, SignedAttestation, Verdict, WorkerKey,
};
pub use digest::{sha256, Digest32};
pub use error::{Error, Result};
pub use job::{derive_seed, JobSpec, Language, ProgramSpec, TaskType};
pub use module::{ModuleLanguage, ModuleManifest, ModulePackage};
pub use registration::WorkerRegistration;
pub use report::{RuntimeInfo, WorkerReport};

/// Ethereum address type used for worker identities and contracts.
pub use alloy_primitives::Address;
