//! The contracts on a real node: the registry accepts exactly the protocol's EIP-712
//! signatures, keeps records (revoked, never deleted), batches; `contracts deploy` works.

use std::time::Instant;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use notary_coordinator::chain::contracts::{TestUSDC, VerificationRegistry as R};
use notary_coordinator::chain::{deploy, parse_key, Chain};
use notary_coordinator::payments::registry::{to_sol, write_batch};
use notary_protocol::{Attestation, AttestationDomain, Digest32, Verdict, WorkerKey};
use uuid::Uuid;

use crate::hardhat::{Hardhat, DEV_KEYS};

pub async fn owner_chain(node: &Hardhat) -> Chain {
    Chain::connect(
        &node.url,
        Some(84532),
        Some(parse_key(DEV_KEYS[0]).unwrap()),
    )
    .await
    .unwrap()
}

pub fn attestation(seed: u8) -> Attestation {
    Attestation {
        job_id: Uuid::new_v4(),
        code_hash: Digest32([seed; 32]),
        input_hash: Digest32([2; 32]),
        output_hash: Digest32([3; 32]),
        expected_hash: Digest32([3; 32]),
        fuel_used: 1_284_428,
        result: Verdict::Valid,
        runtime_id: Digest32([9; 32]),
    }
}

async fn call(chain: &Chain, to: Address, data: Vec<u8>) -> alloy::rpc::types::TransactionReceipt {
    chain
        .transact(Some(to), U256::ZERO, Bytes::from(data))
        .await
        .unwrap()
}

#[tokio::test]
async fn registry_accepts_protocol_signatures_and_keeps_records() {
    let node = Hardhat::start().await;
    let chain = owner_chain(&node).await;
    let d = deploy(&chain).await.unwrap();
    let registry = R::new(d.registry, chain.provider());
    assert_eq!(registry.version().call().await.unwrap(), "1.1.0");
    let domain = AttestationDomain {
        chain_id: 84532,
        verifying_contract: d.registry,
    };
    // The contract's domain separator is alloy's, i.e. the protocol's.
    assert_eq!(
        registry.DOMAIN_SEPARATOR().call().await.unwrap(),
        domain.eip712().separator()
    );

    let worker = WorkerKey::generate();
    let signed = worker.sign(attestation(1), &domain).unwrap();
    let (att, sig) = to_sol(&signed);
    assert_eq!(
        registry.signingHash(att.clone()).call().await.unwrap(),
        B256::from(signed.fields.signing_hash(&domain).0)
    );
    assert_eq!(
        registry
            .recoverSigner(
                B256::from(signed.fields.signing_hash(&domain).0),
                sig.clone()
            )
            .call()
            .await
            .unwrap(),
        worker.address()
    );

    // Not registered yet: refused.
    let record = R::recordResultCall {
        a: att.clone(),
        signatures: vec![sig.clone()],
    }
    .abi_encode();
    assert!(chain
        .send(Some(d.registry), U256::ZERO, Bytes::from(record.clone()))
        .await
        .is_err());

    call(
        &chain,
        d.registry,
        R::registerWorkerCall {
            worker: worker.address(),
            configHash: B256::from([9; 32]),
        }
        .abi_encode(),
    )
    .await;
    let single = call(&chain, d.registry, record.clone()).await;
    let id = registry.recordOfJob(att.jobId).call().await.unwrap();
    assert_eq!(
        id,
        registry.hashAttestation(att.clone()).call().await.unwrap()
    );
    let back = registry.getRecord(id).call().await.unwrap();
    assert_eq!(back.attestation.outputHash, att.outputHash);
    assert_eq!(back.signers, vec![worker.address()]);
    assert!(!back.revoked);
    // The same record twice: refused.
    assert!(chain
        .send(Some(d.registry), U256::ZERO, Bytes::from(record))
        .await
        .is_err());

    // A signature by someone else over the same fields: refused.
    let rogue = WorkerKey::generate().sign(attestation(5), &domain).unwrap();
    let (ratt, rsig) = to_sol(&rogue);
    assert!(chain
        .send(
            Some(d.registry),
            U256::ZERO,
            Bytes::from(
                R::recordResultCall {
                    a: ratt,
                    signatures: vec![rsig]
                }
                .abi_encode()
            )
        )
        .await
        .is_err());
    // A signature in another domain (wrong chain id): refused.
    let other_domain = AttestationDomain {
        chain_id: 1,
        verifying_contract: d.registry,
    };
    let wrong = worker.sign(attestation(6), &other_domain).unwrap();
    assert!(write_batch(&chain, d.registry, &[vec![wrong]])
        .await
        .is_err());

    // Revoked, never deleted.
    call(
        &chain,
        d.registry,
        R::revokeCall {
            recordId: id,
            reason: "test".into(),
        }
        .abi_encode(),
    )
    .await;
    assert!(registry.getRecord(id).call().await.unwrap().revoked);

    // Batches: gas per record falls with the batch size.
    let batch: Vec<_> = (10..20)
        .map(|i| worker.sign(attestation(i), &domain).unwrap())
        .collect();
    let records: Vec<_> = batch.iter().map(|s| vec![s.clone()]).collect();
    let hash = write_batch(&chain, d.registry, &records).await.unwrap();
    let receipt = chain
        .provider()
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .unwrap();
    for s in &batch {
        let (a, _) = to_sol(s);
        assert_ne!(
            registry.recordOfJob(a.jobId).call().await.unwrap(),
            B256::ZERO
        );
    }
    println!(
        "gas: one record {} ; batch of 10 {} ({} per record)",
        single.gas_used,
        receipt.gas_used,
        receipt.gas_used / 10
    );
    assert!(receipt.gas_used / 10 < single.gas_used);
    assert_eq!(registry.recordCount().call().await.unwrap(), U256::from(11));
}

#[tokio::test]
async fn test_token_implements_eip3009_in_usdcs_domain() {
    let node = Hardhat::start().await;
    let chain = owner_chain(&node).await;
    let d = deploy(&chain).await.unwrap();
    let token = TestUSDC::new(d.token, chain.provider());
    assert_eq!(token.name().call().await.unwrap(), "USDC");
    assert_eq!(token.version().call().await.unwrap(), "2");
    assert_eq!(token.decimals().call().await.unwrap(), 6);
    let domain = alloy::sol_types::eip712_domain! {
        name: "USDC", version: "2", chain_id: 84532, verifying_contract: d.token,
    };
    assert_eq!(
        token.DOMAIN_SEPARATOR().call().await.unwrap(),
        domain.separator()
    );
}

#[tokio::test]
async fn contracts_deploy_subcommand_prints_addresses() {
    let node = Hardhat::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("deployer.key");
    std::fs::write(&key_file, DEV_KEYS[3]).unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_notary-coordinator"))
        .args(["contracts", "deploy", "--rpc-url", &node.url, "--key-file"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    println!("deploy took {:?}: {v}", started.elapsed());
    assert_eq!(v["chainId"], 84532);
    let owner = parse_key(DEV_KEYS[3]).unwrap().address();
    assert_eq!(
        v["owner"].as_str().unwrap().parse::<Address>().unwrap(),
        owner
    );
    let chain = owner_chain(&node).await;
    for field in ["registry", "token", "escrow"] {
        let addr: Address = v[field].as_str().unwrap().parse().unwrap();
        let code = chain.provider().get_code_at(addr).await.unwrap();
        assert!(!code.is_empty(), "no code at the {field}");
    }
    let registry = R::new(
        v["registry"].as_str().unwrap().parse().unwrap(),
        chain.provider(),
    );
    assert_eq!(registry.owner().call().await.unwrap(), owner);
    // The key never reaches the output.
    let secret = DEV_KEYS[3].trim_start_matches("0x");
    assert!(!stdout.contains(secret));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
}

#[tokio::test]
async fn a_quorum_of_two_needs_two_distinct_registered_workers() {
    let node = Hardhat::start().await;
    let chain = owner_chain(&node).await;
    let d = deploy(&chain).await.unwrap();
    let registry = R::new(d.registry, chain.provider());
    let domain = AttestationDomain {
        chain_id: 84532,
        verifying_contract: d.registry,
    };
    let (a, b) = (WorkerKey::generate(), WorkerKey::generate());
    for w in [&a, &b] {
        call(
            &chain,
            d.registry,
            R::registerWorkerCall {
                worker: w.address(),
                configHash: B256::from([9; 32]),
            }
            .abi_encode(),
        )
        .await;
    }
    call(
        &chain,
        d.registry,
        R::setQuorumCall { newQuorum: 2 }.abi_encode(),
    )
    .await;
    assert_eq!(registry.quorum().call().await.unwrap(), 2);
    let fields = attestation(7);
    let sa = a.sign(fields, &domain).unwrap();
    let sb = b.sign(fields, &domain).unwrap();
    let (att, sig_a) = to_sol(&sa);
    let (_, sig_b) = to_sol(&sb);
    let record = |sigs: Vec<Bytes>| {
        Bytes::from(
            R::recordResultCall {
                a: att.clone(),
                signatures: sigs,
            }
            .abi_encode(),
        )
    };
    // One signature, or the same worker twice: refused.
    assert!(chain
        .send(Some(d.registry), U256::ZERO, record(vec![sig_a.clone()]))
        .await
        .is_err());
    assert!(chain
        .send(
            Some(d.registry),
            U256::ZERO,
            record(vec![sig_a.clone(), sig_a.clone()])
        )
        .await
        .is_err());
    // Two distinct registered workers: recorded with both signers.
    let receipt = chain
        .transact(Some(d.registry), U256::ZERO, record(vec![sig_a, sig_b]))
        .await
        .unwrap();
    println!("gas: a 2-of-2 record {}", receipt.gas_used);
    let id = registry.recordOfJob(att.jobId).call().await.unwrap();
    let rec = registry.getRecord(id).call().await.unwrap();
    assert_eq!(rec.signers, vec![a.address(), b.address()]);
    // Only the owner manages workers and the quorum.
    let stranger = Chain::connect(
        &node.url,
        Some(84532),
        Some(parse_key(DEV_KEYS[2]).unwrap()),
    )
    .await
    .unwrap();
    assert!(stranger
        .send(
            Some(d.registry),
            U256::ZERO,
            Bytes::from(R::setQuorumCall { newQuorum: 1 }.abi_encode())
        )
        .await
        .is_err());
}
