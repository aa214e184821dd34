//! Anchored registrations (issue 12): the registry takes a worker only with the worker's own
//! EIP-712 signature (a registration signed by another key, replayed or expired is refused by
//! the contract itself), and a worker of the open fleet that registers over HTTP is anchored
//! by the coordinator, then has its paid job recorded on chain with its signature.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::sol_types::SolCall;
use notary_coordinator::chain::contracts::VerificationRegistry as R;
use notary_coordinator::chain::{deploy, parse_key, Chain};
use notary_protocol::actor::sign_request;
use notary_protocol::{AttestationDomain, Digest32, WorkerKey, WorkerRegistration};
use serde_json::{json, Value};

use crate::contracts::owner_chain;
use crate::hardhat::{Hardhat, DEV_KEYS};
use crate::payments::{addr, job_word, paid_post, PaidEnv, PRICE};
use crate::support::{client, hello, Coordinator, WorkerProcess, HELLO_HASH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn register_call(reg: &WorkerRegistration, signature: &str) -> Bytes {
    Bytes::from(
        R::registerWorkerSignedCall {
            worker: reg.worker,
            configHash: B256::from(reg.config_hash.0),
            deadline: reg.deadline,
            signature: signature.parse().unwrap(),
        }
        .abi_encode(),
    )
}

#[tokio::test]
async fn the_registry_anchors_only_a_workers_own_signed_registration() {
    let node = Hardhat::start().await;
    let owner = owner_chain(&node).await;
    let d = deploy(&owner).await.unwrap();
    let registry = R::new(d.registry, owner.provider());
    let domain = AttestationDomain {
        chain_id: 84532,
        verifying_contract: d.registry,
    };
    let worker = WorkerKey::generate();
    let reg = WorkerRegistration {
        worker: worker.address(),
        config_hash: Digest32([9; 32]),
        deadline: now() + 600,
    };
    assert_eq!(
        registry
            .registrationHash(reg.worker, B256::from(reg.config_hash.0), reg.deadline)
            .call()
            .await
            .unwrap(),
        B256::from(reg.signing_hash(&domain).0),
        "the contract's digest is the protocol's"
    );

    // Signed by another key (the operator's own, say): refused by the contract.
    let operator = WorkerKey::from_hex(DEV_KEYS[0]).unwrap();
    for forger in [operator, WorkerKey::generate()] {
        let forged = forger.sign_hash(&reg.signing_hash(&domain)).unwrap();
        let refused = owner
            .send(Some(d.registry), U256::ZERO, register_call(&reg, &forged))
            .await;
        assert!(
            format!("{:?}", refused.unwrap_err()).contains("revert"),
            "a registration signed by another key is refused"
        );
    }
    assert!(!registry.workers(reg.worker).call().await.unwrap().active);

    // The worker's own signature: registered, marked self-signed.
    let own = reg.sign(&worker, &domain).unwrap();
    owner
        .transact(Some(d.registry), U256::ZERO, register_call(&reg, &own))
        .await
        .unwrap();
    let held = registry.workers(reg.worker).call().await.unwrap();
    assert!(held.active && held.selfSigned);
    assert_eq!(held.configHash, B256::from([9; 32]));
    assert_eq!(
        registry
            .registrationDeadline(reg.worker)
            .call()
            .await
            .unwrap(),
        reg.deadline
    );

    // The same signature again, or an older one: refused (no rollback to an old config).
    let older = WorkerRegistration {
        config_hash: Digest32([8; 32]),
        deadline: reg.deadline - 1,
        ..reg
    };
    for (r, sig) in [
        (reg, own.clone()),
        (older, older.sign(&worker, &domain).unwrap()),
    ] {
        assert!(owner
            .send(Some(d.registry), U256::ZERO, register_call(&r, &sig))
            .await
            .is_err());
    }
    // Past its deadline: refused.
    let expired = WorkerRegistration {
        deadline: now() - 10,
        ..reg
    };
    let sig = expired.sign(&worker, &domain).unwrap();
    assert!(owner
        .send(Some(d.registry), U256::ZERO, register_call(&expired, &sig))
        .await
        .is_err());
    // Only the owner anchors, even with a valid signature.
    let stranger = Chain::connect(
        &node.url,
        Some(84532),
        Some(parse_key(DEV_KEYS[1]).unwrap()),
    )
    .await
    .unwrap();
    let newer = WorkerRegistration {
        config_hash: Digest32([7; 32]),
        deadline: reg.deadline + 1,
        ..reg
    };
    let sig = newer.sign(&worker, &domain).unwrap();
    assert!(stranger
        .send(Some(d.registry), U256::ZERO, register_call(&newer, &sig))
        .await
        .is_err());
    // A later registration with a new config hash updates it.
    owner
        .transact(Some(d.registry), U256::ZERO, register_call(&newer, &sig))
        .await
        .unwrap();
    let held = registry.workers(reg.worker).call().await.unwrap();
    assert_eq!(held.configHash, B256::from([7; 32]));
    assert_eq!(registry.workerCount().call().await.unwrap(), U256::from(1));
}

async fn register(c: &Coordinator, key: &WorkerKey, body: &Value) -> (u16, Value) {
    let path = "/providers/register";
    let text = body.to_string();
    let h = sign_request(key, "POST", path, now(), text.as_bytes()).unwrap();
    let mut req = client()
        .post(format!("{}{path}", c.url))
        .header("content-type", "application/json")
        .body(text);
    for (name, value) in h.pairs() {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_fleet_worker_is_anchored_and_its_paid_job_recorded() {
    let env = PaidEnv::start().await;
    let mut config = env.config(1);
    config.workers = 0;
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let c = Coordinator::start(config).await;
    let (status, domain) = c.get("/notary/domain").await;
    assert_eq!(status, 200);
    assert_eq!(domain["chainId"], 84532);
    assert_eq!(
        domain["verifyingContract"],
        env.d.registry.to_checksum(None)
    );
    assert_eq!(domain["anchorsRegistrations"], true);
    let domain = AttestationDomain {
        chain_id: 84532,
        verifying_contract: env.d.registry,
    };
    let registry = R::new(env.d.registry, env.owner.provider());

    // Over HTTP: no anchor, or an anchor someone else signed, and nothing is kept.
    let key = WorkerKey::generate();
    let runtime = Digest32([5; 32]);
    let body = |anchor: Value| json!({"configHash": format!("0x{runtime}"), "engine": "cranelift", "anchor": anchor});
    let (status, refused) = register(&c, &key, &body(Value::Null)).await;
    assert_eq!(
        (status, &refused["params"]["field"]),
        (400, &json!("anchor")),
        "{refused}"
    );
    let reg = WorkerRegistration {
        worker: key.address(),
        config_hash: runtime,
        deadline: now() + 600,
    };
    let forged = WorkerKey::generate()
        .sign_hash(&reg.signing_hash(&domain))
        .unwrap();
    let (status, refused) = register(
        &c,
        &key,
        &body(json!({"deadline": reg.deadline, "signature": forged})),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["params"]["field"], "anchor.signature", "{refused}");
    let (status, _) = c.get(&format!("/workers/{}", key.address())).await;
    assert_eq!(status, 404, "a refused registration is not kept");
    assert!(!registry.workers(key.address()).call().await.unwrap().active);

    // Its own: anchored on chain, and the answer names the transaction.
    let own = reg.sign(&key, &domain).unwrap();
    let (status, view) = register(
        &c,
        &key,
        &body(json!({"deadline": reg.deadline, "signature": own})),
    )
    .await;
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["anchor"]["selfSigned"], true, "{view}");
    assert_eq!(view["anchor"]["active"], true, "{view}");
    assert!(view["anchor"]["txHash"].is_string(), "{view}");
    let held = registry.workers(key.address()).call().await.unwrap();
    assert!(held.active && held.selfSigned);
    assert_eq!(held.configHash, B256::from(runtime.0));
    let (_, shown) = c.get(&format!("/workers/{}", key.address())).await;
    assert_eq!(
        shown["anchor"]["registrationDeadline"], reg.deadline,
        "{shown}"
    );

    // A real worker process registers itself (anchored by the coordinator) and runs a paid
    // job, which the registry records with its signature.
    let worker = WorkerKey::generate();
    let _process = WorkerProcess::remote(&c.url, 1, &worker);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !registry
        .workers(worker.address())
        .call()
        .await
        .unwrap()
        .active
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker was not anchored"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, pending) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 402, "{pending}");
    let job = pending["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(1, addr(0), PRICE).await;
    let (status, view) = paid_post(&c, json!({}), &job, &tx).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "completed", "{view}");
    assert!(view["registryTxHash"].is_string(), "{view}");
    let id = registry.recordOfJob(job_word(&job)).call().await.unwrap();
    let rec = registry.getRecord(id).call().await.unwrap();
    assert_eq!(rec.signers, vec![worker.address()]);

    // Anyone can check it: the re-run, the coordinator's record and the chain's agree; against
    // a registry without the record, the difference is named.
    let reverify = |registry: Address| {
        std::process::Command::new(crate::support::worker_bin())
            .args([
                "reverify",
                "--coordinator",
                &c.url,
                &job,
                "--rpc-url",
                &env.node.url,
            ])
            .args(["--registry", &registry.to_string(), "--module-cache-dir"])
            .arg(crate::support::cache_dir())
            .output()
            .unwrap()
    };
    let out = reverify(env.d.registry);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["registry"]["matches"], true, "{summary}");
    assert_eq!(summary["allMatch"], true, "{summary}");
    let other = deploy(&env.owner).await.unwrap().registry;
    let out = reverify(other);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let differences = summary["registry"]["differences"].to_string();
    assert!(differences.contains("no record of job"), "{summary}");
    assert!(differences.contains("signed for registry"), "{summary}");
    c.shutdown().await;
}
