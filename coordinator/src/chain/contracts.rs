//! Bindings of the committed contract artifacts (`contracts/artifacts/*.json`, compiled by
//! `contracts/compile.js` with solc-js). Embedding the artifacts, rather than compiling at build
//! time, keeps the Rust build free of a Solidity toolchain; CI checks they match the sources.
#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    VerificationRegistry,
    "../contracts/artifacts/VerificationRegistry.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    NotaryEscrow,
    "../contracts/artifacts/NotaryEscrow.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    TestUSDC,
    "../contracts/artifacts/TestUSDC.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    AgentIdentityRegistry,
    "../contracts/artifacts/AgentIdentityRegistry.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    ValidationRegistry,
    "../contracts/artifacts/ValidationRegistry.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    ComputeCoordinator,
    "../contracts/artifacts/ComputeCoordinator.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    SampleConsumer,
    "../contracts/artifacts/SampleConsumer.json"
);

/// Base Sepolia USDC, the asset x402 clients pay with by default.
pub const BASE_SEPOLIA_USDC: alloy::primitives::Address =
    alloy::primitives::address!("036CbD53842c5426634e7929541eC2318f3dCF7e");

/// The registry's attestation as `ComputeCoordinator` takes it (the same struct, declared by
/// each contract).
pub fn compute_attestation(a: &VerificationRegistry::Attestation) -> IAttestations::Attestation {
    IAttestations::Attestation {
        jobId: a.jobId,
        codeHash: a.codeHash,
        inputHash: a.inputHash,
        outputHash: a.outputHash,
        expectedHash: a.expectedHash,
        fuelUsed: a.fuelUsed,
        result: a.result,
        runtimeId: a.runtimeId,
    }
}
