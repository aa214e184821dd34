//! Document 002's payment flow on a real chain: 402, `X-402-Payment`, every refusal reason,
//! replays across restarts, registry records, refunds exactly once, the per-payer limit.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolEvent};
use notary_coordinator::chain::contracts::VerificationRegistry as R;
use notary_coordinator::chain::{deploy, parse_key, Chain, Deployment};
use notary_coordinator::config::DataDir;
use notary_coordinator::payments::config::ChainKey;
use notary_coordinator::payments::PaymentConfig;
use notary_coordinator::Config;
use notary_queue::test_utils::RedisServer;
use serde_json::{json, Value};

use crate::contracts::owner_chain;
use crate::hardhat::{Hardhat, DEV_KEYS};
use crate::support::{client, hello, test_config, Coordinator, HELLO_HASH};

pub const PRICE: u128 = 1_000_000_000_000_000;

pub fn addr(i: usize) -> Address {
    parse_key(DEV_KEYS[i]).unwrap().address()
}

/// A chain with the contracts, a Redis, and coordinator configs with payments on. Account 0
/// deploys, owns the registry, receives payments and refunds; account 1 is the payer.
pub struct PaidEnv {
    pub node: Hardhat,
    pub redis: RedisServer,
    pub d: Deployment,
    pub prefix: String,
    pub owner: Chain,
}

impl PaidEnv {
    /// Mints `units` of the test token to `to`.
    pub async fn mint(&self, to: Address, units: u64) {
        self.owner
            .transact(
                Some(self.d.token),
                U256::ZERO,
                Bytes::from(
                    notary_coordinator::chain::contracts::TestUSDC::mintCall {
                        to,
                        value: U256::from(units),
                    }
                    .abi_encode(),
                ),
            )
            .await
            .unwrap();
    }

    /// A connection to the chain signing as dev account `i`.
    pub async fn account(&self, i: usize) -> Chain {
        Chain::connect(
            &self.node.url,
            Some(84532),
            Some(parse_key(DEV_KEYS[i]).unwrap()),
        )
        .await
        .unwrap()
    }

    pub async fn start() -> PaidEnv {
        let node = Hardhat::start().await;
        let owner = owner_chain(&node).await;
        let d = deploy(&owner).await.unwrap();
        let redis = RedisServer::start();
        PaidEnv {
            node,
            redis,
            d,
            prefix: format!("paid{}:", rand_u32()),
            owner,
        }
    }

    pub fn config(&self, confirmations: u64) -> Config {
        let mut c = test_config(Some(self.redis.url()), 1, vec![]);
        c.redis_prefix = self.prefix.clone();
        c.domain.verifying_contract = self.d.registry;
        c.payments = Some(PaymentConfig {
            rpc_url: self.node.url.clone(),
            pay_to: addr(0),
            price_wei: U256::from(PRICE),
            confirmations,
            chain_key: ChainKey(parse_key(DEV_KEYS[0]).unwrap()),
            window: Duration::from_secs(600),
            max_jobs_per_payer: 10,
            token: Some(self.d.token),
            token_price: U256::from(1000u64),
            price_wei_per_gigafuel: U256::from(1_000_000_000_000u64),
            registry_batch_max: 16,
            registry_batch_wait: Duration::from_millis(50),
            orphan_after: Duration::from_secs(120),
            escrow: Some(self.d.escrow),
            escrow_fee_bps: 1000,
            validation_registry: Some(self.d.validation),
            public_url: Some("http://notary.test".into()),
            compute_coordinator: None,
            compute_from_block: 0,
            compute_poll: Duration::from_millis(200),
        });
        c
    }

    /// Sends ETH from a dev account (unlocked on Hardhat) and returns the hash.
    pub async fn pay(&self, from: usize, to: Address, wei: u128) -> String {
        let v = self
            .node
            .rpc(
                "eth_sendTransaction",
                json!([{"from": addr(from), "to": to, "value": format!("0x{wei:x}")}]),
            )
            .await
            .unwrap();
        v.as_str().unwrap().to_string()
    }

    pub async fn balance(&self, who: Address) -> U256 {
        self.owner.provider().get_balance(who).await.unwrap()
    }
}

fn rand_u32() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// Runs `contracts/test/x402-client.mjs` (the official x402 client, paying as account 4 in the
/// test token) with `vars`; what it printed.
pub async fn official_x402_client(env: &PaidEnv, vars: &[(&str, &str)]) -> Value {
    let token = env.d.token.to_checksum(None);
    let mut all = vec![("PAYER_KEY", DEV_KEYS[4]), ("TOKEN", token.as_str())];
    all.extend_from_slice(vars);
    crate::support::node_script("x402-client.mjs", &all).await
}

/// A real `notary-coordinator` process in embedded mode (data in `dir`, one worker slot) with
/// payments on `env`'s chain (account 0's key, registry, token, escrow) and `extra` flags, on a
/// free port; returns it and its URL once it answers `/health`.
pub async fn spawn_coordinator(
    env: &PaidEnv,
    dir: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, String) {
    use crate::support::{cache_dir, target_dir, worker_bin};
    let key = dir.join("chain.key");
    std::fs::write(&key, DEV_KEYS[0]).unwrap();
    worker_bin(); // builds the workspace's binaries
    crate::support::spawn_serving(|port| {
        let mut c = std::process::Command::new(target_dir().join("notary-coordinator"));
        c.args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", &dir.join("data").display().to_string()])
            .args(["--workers", "1", "--rate-limit-per-minute", "0"])
            .args(["--module-cache-dir", &cache_dir().display().to_string()])
            .args(["--payments", "x402", "--rpc-url", &env.node.url])
            .args(["--chain-key-file", &key.display().to_string()])
            .args(["--registry", &env.d.registry.to_string()])
            .args([
                "--pay-to",
                &addr(0).to_string(),
                "--price-wei",
                &PRICE.to_string(),
            ])
            .args(["--registry-batch-wait-ms", "50"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null());
        c
    })
    .await
}

pub async fn paid_post(c: &Coordinator, body: Value, job: &str, tx: &str) -> (u16, Value) {
    c.post(
        "/verify",
        body,
        &[("x-402-job-id", job), ("x-402-payment", tx)],
    )
    .await
}

/// Pays pending `job` with `tx` and asks for an immediate 202 (`Prefer: respond-async`).
async fn paid_post_async(c: &Coordinator, job: &str, tx: &str) -> (u16, Value) {
    c.post(
        "/verify",
        json!({}),
        &[
            ("x-402-job-id", job),
            ("x-402-payment", tx),
            ("prefer", "respond-async"),
        ],
    )
    .await
}

async fn redis_settlement(env: &PaidEnv, job: &str) -> Value {
    let mut conn = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let text: String = redis::cmd("HGET")
        .arg(format!("{}pay:job:{job}", env.prefix))
        .arg("settlement")
        .query_async(&mut conn)
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Simulates a coordinator that died in the middle of settling a job: the job's settlement is
/// no longer final (its registry and refund hashes forgotten), the job is open again, and its
/// final event is handed to the settlement consumer again (as an event is when its reader dies
/// before acknowledging it).
async fn reset_settlement(env: &PaidEnv, job: &str) {
    let mut conn = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut s = redis_settlement(env, job).await;
    s["settled"] = json!(false);
    s["refundTxHash"] = Value::Null;
    s["registryTxHash"] = Value::Null;
    let _: () = redis::cmd("HSET")
        .arg(format!("{}pay:job:{job}", env.prefix))
        .arg("settlement")
        .arg(s.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("SADD")
        .arg(format!("{}pay:open", env.prefix))
        .arg(job)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("XGROUP")
        .arg("SETID")
        .arg(notary_protocol::keys::events(&env.prefix))
        .arg("settlement")
        .arg("0")
        .query_async(&mut conn)
        .await
        .unwrap();
}

pub fn job_word(job_id: &str) -> B256 {
    let id = uuid::Uuid::parse_str(job_id).unwrap();
    let mut w = [0u8; 32];
    w[..16].copy_from_slice(id.as_bytes());
    B256::from(w)
}

#[tokio::test]
async fn paid_verification_is_recorded_and_payments_cannot_be_replayed() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(1)).await;

    // 402 with document 002's fields.
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["status"], "pending_payment");
    let job = body["jobId"].as_str().unwrap().to_string();
    let req = &body["paymentRequirements"];
    assert_eq!(req["scheme"], "exact");
    assert_eq!(req["network"], "base-sepolia");
    assert_eq!(req["amount"], PRICE.to_string());
    assert_eq!(req["asset"], Address::ZERO.to_checksum(None));
    assert_eq!(
        req["payTo"].as_str().unwrap().parse::<Address>().unwrap(),
        addr(0)
    );
    assert!(req["expiry"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        body["message"],
        "Please submit payment and retry with X-402-Payment header"
    );
    let (status, pending) = c.get(&format!("/verify/{job}")).await;
    assert_eq!(status, 402);
    assert_eq!(pending["status"], "pending_payment");

    // Pay 0.001 ETH, retry with the hash: 200 VALID with a registry record.
    let tx = env.pay(1, addr(0), PRICE).await;
    let (status, body) = paid_post(&c, json!({}), &job, &tx).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["result"], "VALID");
    assert_eq!(body["jobId"], job.as_str());
    assert_eq!(body["payment"]["txHash"], tx.as_str());
    assert_eq!(body["payment"]["amount"], PRICE.to_string());
    assert_eq!(
        body["payment"]["payer"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        addr(1)
    );
    let registry_tx: B256 = body["registryTxHash"].as_str().unwrap().parse().unwrap();
    let receipt = env
        .owner
        .provider()
        .get_transaction_receipt(registry_tx)
        .await
        .unwrap()
        .unwrap();
    assert!(receipt.status());
    assert_eq!(receipt.to, Some(env.d.registry));

    // The record reads back from the contract, signed by the worker that attested.
    let registry = R::new(env.d.registry, env.owner.provider());
    let id = registry.recordOfJob(job_word(&job)).call().await.unwrap();
    assert_ne!(id, B256::ZERO);
    let rec = registry.getRecord(id).call().await.unwrap();
    let worker: Address = body["attestation"]["worker"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rec.signers, vec![worker]);
    assert_eq!(hex::encode(rec.attestation.outputHash), HELLO_HASH);
    assert_eq!(rec.attestation.result, 1);
    let sig: Bytes = body["attestation"]["signature"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let digest: B256 = body["attestation"]["signingHash"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        registry.recoverSigner(digest, sig).call().await.unwrap(),
        worker
    );
    let (status, again) = c.get(&format!("/verify/{job}")).await;
    assert_eq!(status, 200);
    assert_eq!(again["registryTxHash"], body["registryTxHash"]);

    // A quote: the base price plus the fuel part of a capped dry run (10^12 wei per 10^9 fuel).
    let (status, q) = c.post("/quote", hello(HELLO_HASH), &[]).await;
    assert_eq!(status, 200, "{q}");
    let fuel = q["estimatedFuel"].as_u64().unwrap();
    assert_eq!(
        Some(fuel),
        body["fuelUsed"].as_u64(),
        "the dry run burns what the job burnt"
    );
    assert_eq!(q["fuelCapped"], false);
    assert_eq!(
        q["amount"].as_str().unwrap().parse::<u128>().unwrap(),
        PRICE + fuel as u128 * 1_000_000_000_000 / 1_000_000_000
    );
    assert!(q["validUntil"].as_u64().unwrap() > q["quotedAt"].as_u64().unwrap());
    let endless =
        json!({"taskType": "code-execution", "code": "for(;;){}", "expectedHash": "0".repeat(64)});
    let (status, q) = c.post("/quote", endless, &[]).await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["fuelCapped"], true, "{q}");
    assert_eq!(q["estimatedFuel"], q["fuelBudget"]);
    let (status, _) = c
        .post("/quote", json!({"taskType": "code-execution"}), &[])
        .await;
    assert_eq!(status, 400);

    // Document 002's stats, from the settled job.
    let (status, stats) = c.get("/notary/stats").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["totalVerifications"], 1);
    assert_eq!(stats["successRate"], 100.0);
    assert_eq!(stats["revenueETH"], "0.001000");
    assert_eq!(stats["network"], "base-sepolia");
    assert_eq!(stats["serviceVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        stats["verifierAddress"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        worker
    );
    assert_eq!(stats["activeWorkers"], 1, "{stats}");
    assert!(stats["uptimePercentage"].as_f64().unwrap() > 0.0);
    assert!(stats["averageDurationMs"].as_i64().unwrap() >= 0);

    // With payments on, /openapi.json describes the paid routes and /verify's 402.
    let (status, doc) = c.get("/openapi.json").await;
    assert_eq!(status, 200);
    for (path, method) in [
        ("/verify", "post"),
        ("/verify/{id}", "get"),
        ("/quote", "post"),
        ("/notary/stats", "get"),
        ("/facilitator/supported", "get"),
        ("/facilitator/verify", "post"),
        ("/facilitator/settle", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not described"
        );
    }
    assert!(doc["paths"]["/verify"]["post"]["responses"]["402"].is_object());
    // And the accepted payment was counted (the metrics registry is per process: at least 1).
    let metrics = client()
        .get(format!("{}/metrics", c.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let valid = metrics
        .lines()
        .find(|l| l.starts_with("notary_payment_checks_total{outcome=\"valid\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(valid >= 1.0, "{metrics}");

    // A settlement re-run after a crash right after the registry write (settlement not yet
    // marked final): the settlement consumer finds the record on chain; no second write, no
    // refund.
    let payer_before = env.balance(addr(1)).await;
    reset_settlement(&env, &job).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = c.get(&format!("/verify/{job}")).await;
        let settled = redis_settlement(&env, &job).await;
        if settled["settled"] == true {
            assert_eq!(v["registryTxHash"], body["registryTxHash"], "{v}");
            assert!(v["refundTxHash"].is_null(), "{v}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not re-settled: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(env.balance(addr(1)).await, payer_before);
    assert_eq!(registry.recordCount().call().await.unwrap(), U256::from(1));

    // The same payment for another job: refused, also after a restart.
    let (_, second) = c.verify(hello(HELLO_HASH)).await;
    let job2 = second["jobId"].as_str().unwrap().to_string();
    let (status, body) = paid_post(&c, json!({}), &job2, &tx).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"], "Payment Failed");
    assert_eq!(body["reason"], "already_used");
    c.shutdown().await;
    let c = Coordinator::start(env.config(1)).await;
    let (status, body) = paid_post(&c, json!({}), &job2, &tx).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["reason"], "already_used");
    // A body-only retry (no job id) with the used hash: refused too.
    let (status, body) = c
        .post("/verify", hello(HELLO_HASH), &[("x-402-payment", &tx)])
        .await;
    assert_eq!(
        (status, body["reason"].clone()),
        (402, json!("already_used"))
    );
    c.shutdown().await;
}

#[tokio::test]
async fn every_bad_payment_is_refused_with_its_reason() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(2)).await;
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let job = body["jobId"].as_str().unwrap().to_string();

    let expect = |reason: &'static str| {
        move |(status, body): (u16, Value)| {
            assert_eq!(status, 402, "{body}");
            assert_eq!(body["error"], "Payment Failed", "{body}");
            assert_eq!(body["reason"], reason, "{body}");
            assert_eq!(body["status"], "pending_payment");
            assert!(body["message"].as_str().unwrap().len() > 10);
        }
    };
    expect("malformed")(paid_post(&c, json!({}), &job, "0x1234").await);
    let unknown = format!("0x{}", "ab".repeat(32));
    expect("not_found")(paid_post(&c, json!({}), &job, &unknown).await);
    let cheap = env.pay(1, addr(0), PRICE / 2).await;
    env.node.mine(2).await;
    expect("wrong_amount")(paid_post(&c, json!({}), &job, &cheap).await);
    let elsewhere = env.pay(1, addr(2), PRICE).await;
    env.node.mine(2).await;
    expect("wrong_recipient")(paid_post(&c, json!({}), &job, &elsewhere).await);

    // A reverted transaction: value sent to the registry (no payable function), mined with an
    // explicit gas limit so the node does not refuse it at estimation.
    env.node.automine(false).await;
    let reverted = env
        .node
        .rpc(
            "eth_sendTransaction",
            json!([{"from": addr(1), "to": env.d.registry, "value": format!("0x{PRICE:x}"), "gas": "0x30000"}]),
        )
        .await
        .unwrap();
    env.node.mine(3).await;
    env.node.automine(true).await;
    expect("reverted")(paid_post(&c, json!({}), &job, reverted.as_str().unwrap()).await);

    // A good payment with too few confirmations: refused and not consumed; counts once mined on.
    let good = env.pay(1, addr(0), PRICE).await;
    let (status, body) = paid_post(&c, json!({}), &job, &good).await;
    expect("not_confirmed")((status, body.clone()));
    assert!(
        body["message"].as_str().unwrap().contains("1 of 2"),
        "{body}"
    );
    env.node.mine(1).await;
    let (status, body) = paid_post(&c, json!({}), &job, &good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "VALID");
    // An unknown job id: 404.
    let (status, _) = paid_post(&c, json!({}), &uuid::Uuid::new_v4().to_string(), &good).await;
    assert_eq!(status, 404);
    c.shutdown().await;

    // A payment mined after the requirements expired (a 1 s payment window).
    let mut config = env.config(1);
    if let Some(p) = config.payments.as_mut() {
        p.window = Duration::from_secs(1);
    }
    let c = Coordinator::start(config).await;
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let job = body["jobId"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let late = env.pay(1, addr(0), PRICE).await;
    expect("expired")(paid_post(&c, json!({}), &job, &late).await);
    c.shutdown().await;
}

#[tokio::test]
async fn registry_failure_refunds_the_payer_exactly_once() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(1)).await;
    // Force an infrastructure failure the honest way: the registry no longer accepts the
    // worker (deregistered on chain by its owner), so the write reverts.
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let job = body["jobId"].as_str().unwrap().to_string();
    let registry = R::new(env.d.registry, env.owner.provider());
    let worker_count = registry.workerCount().call().await.unwrap();
    assert_eq!(
        worker_count,
        U256::from(1),
        "the coordinator registered its worker"
    );
    // Find the registered worker from its event, and deregister it.
    let logs = env
        .owner
        .provider()
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(env.d.registry)
                .event_signature(R::WorkerRegistered::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let worker = Address::from_word(logs[0].topics()[1]);
    env.owner
        .transact(
            Some(env.d.registry),
            U256::ZERO,
            Bytes::from(R::deregisterWorkerCall { worker }.abi_encode()),
        )
        .await
        .unwrap();

    let tx = env.pay(1, addr(0), PRICE).await;
    let before = env.balance(addr(1)).await;
    let (status, body) = paid_post(&c, json!({}), &job, &tx).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"], "Registry Write Failed");
    assert_eq!(body["refundEligible"], true);
    assert_eq!(body["result"], "VALID", "the verdict is still shown");
    let refund: B256 = body["refundTxHash"].as_str().unwrap().parse().unwrap();
    let after = env.balance(addr(1)).await;
    assert_eq!(
        after - before,
        U256::from(PRICE),
        "refunded exactly the price"
    );
    let refund_tx = env
        .owner
        .provider()
        .get_transaction_by_hash(refund)
        .await
        .unwrap()
        .unwrap();
    use alloy::consensus::Transaction as _;
    assert_eq!(refund_tx.inner.to(), Some(addr(1)));
    assert_eq!(refund_tx.inner.value(), U256::from(PRICE));

    // Second triggers: a retry of the request, a restart (the settlement consumer), and a simulated crash
    // after the refund was sent but before the settlement was marked final. None pays again.
    let (status, again) = paid_post(&c, json!({}), &job, &tx).await;
    assert_eq!(status, 500);
    assert_eq!(again["refundTxHash"], body["refundTxHash"]);
    c.shutdown().await;
    reset_settlement(&env, &job).await;
    let c = Coordinator::start(env.config(1)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = c.get(&format!("/verify/{job}")).await;
        if v["refundTxHash"].is_string() {
            assert_eq!(
                v["refundTxHash"], body["refundTxHash"],
                "the same refund, re-sent"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sweeper did not settle: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(env.balance(addr(1)).await, after, "no second refund");
    let (_, stats) = c.get("/notary/stats").await;
    assert_eq!(stats["totalVerifications"], 1, "{stats}");
    assert_eq!(
        stats["successRate"], 0.0,
        "a refunded job is not a delivered one"
    );
    assert_eq!(stats["revenueETH"], "0.000000");
    c.shutdown().await;
}

#[tokio::test]
async fn the_eleventh_concurrent_job_of_one_payer_gets_429() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(1)).await;
    // Jobs that run until their fuel is spent (about half a second each) on one worker slot:
    // ten stay unfinished for a few seconds.
    let slow = json!({
        "taskType": "code-execution",
        "code": "let x = 0; for (let i = 0; i < 30000000; i++) { x = (x + i) % 1000003; } console.log(x);",
        "expectedHash": "0".repeat(64),
    });
    let mut accepted = 0;
    let mut first_job = String::new();
    for i in 0..11 {
        let (status, body) = c.verify(slow.clone()).await;
        assert_eq!(status, 402);
        let job = body["jobId"].as_str().unwrap().to_string();
        let tx = env.pay(1, addr(0), PRICE).await;
        let resp = client()
            .post(format!("{}/verify", c.url))
            .header("x-402-job-id", &job)
            .header("x-402-payment", &tx)
            .header("prefer", "respond-async")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        if i == 0 {
            first_job = job.clone();
        }
        if i < 10 {
            assert_eq!(status, 202, "job {i}: {body}");
            accepted += 1;
        } else {
            assert_eq!(status, 429, "{body}");
            assert_eq!(body["error"], "Rate Limited");
            assert_eq!(body["params"]["limit"], 10);
            // The payment was not consumed: the same job pays with it once a slot is free.
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            loop {
                let (status, body) = paid_post(&c, json!({}), &job, &tx).await;
                if status != 429 {
                    assert!(status == 200 || status == 202, "{status} {body}");
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "no slot freed");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    assert_eq!(accepted, 10);
    // Another payer is not limited by the first one.
    let (_, body) = c.verify(slow.clone()).await;
    let job = body["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(2, addr(0), PRICE).await;
    let (status, body) = paid_post_async(&c, &job, &tx).await;
    assert_eq!(status, 202, "{body}");
    // Jobs whose clients went away (202) are still settled, by the settlement consumer: the first one's
    // result (ERROR: the loop runs out of fuel, a guest fault, not refunded) is recorded.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, v) = c.get(&format!("/verify/{first_job}")).await;
        if v["registryTxHash"].is_string() {
            assert_eq!((status, v["result"].clone()), (200, json!("ERROR")), "{v}");
            assert_eq!(v["refundEligible"], false);
            assert!(v["refundTxHash"].is_null());
            assert_eq!(
                v["payment"]["payer"]
                    .as_str()
                    .unwrap()
                    .parse::<Address>()
                    .unwrap(),
                addr(1)
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never recorded: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.shutdown().await;
}

#[tokio::test]
async fn the_official_x402_client_pays_with_eip3009_and_cannot_replay() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(1)).await;
    // The payer holds test USDC (6 decimals); the price is 1000 units (0.001 USDC).
    let token =
        notary_coordinator::chain::contracts::TestUSDC::new(env.d.token, env.owner.provider());
    env.mint(addr(4), 5_000_000u64).await;

    // The 402 carries PAYMENT-REQUIRED for v2 clients.
    let resp = client()
        .post(format!("{}/verify", c.url))
        .json(&hello(HELLO_HASH))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 402);
    let header = resp.headers()["payment-required"]
        .to_str()
        .unwrap()
        .to_string();
    use base64::Engine;
    let required: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(required["x402Version"], 2);
    let accepts = &required["accepts"][0];
    assert_eq!(accepts["network"], "eip155:84532");
    assert_eq!(accepts["scheme"], "exact");
    assert_eq!(accepts["amount"], "1000");
    assert_eq!(accepts["extra"]["name"], "USDC");
    assert_eq!(accepts["extra"]["version"], "2");

    let before_payer = token.balanceOf(addr(4)).call().await.unwrap();
    let v = official_x402_client(
        &env,
        &[
            ("NOTARY_URL", c.url.as_str()),
            ("BODY", &hello(HELLO_HASH).to_string()),
        ],
    )
    .await;
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["body"]["result"], "VALID");
    assert!(v["body"]["registryTxHash"].is_string(), "{v}");
    assert_eq!(
        v["body"]["payment"]["payer"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        addr(4)
    );
    assert_eq!(v["paymentResponse"]["success"], true);
    assert_eq!(v["paymentResponse"]["network"], "eip155:84532");
    let settle: B256 = v["paymentResponse"]["transaction"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let receipt = env
        .owner
        .provider()
        .get_transaction_receipt(settle)
        .await
        .unwrap()
        .unwrap();
    assert!(receipt.status());
    assert_eq!(receipt.to, Some(env.d.token));
    assert_eq!(
        before_payer - token.balanceOf(addr(4)).call().await.unwrap(),
        U256::from(1000u64)
    );
    assert_eq!(
        token.balanceOf(addr(0)).call().await.unwrap(),
        U256::from(1000u64)
    );
    // The replayed authorization: refused, nothing paid twice.
    assert_eq!(v["replayStatus"], 402, "{v}");
    assert_eq!(v["replayBody"]["error"], "Payment Failed");
    assert_eq!(v["replayBody"]["reason"], "already_used");
    assert_eq!(
        token.balanceOf(addr(0)).call().await.unwrap(),
        U256::from(1000u64)
    );
    c.shutdown().await;
}

/// Signs an EIP-3009 authorization the way x402 clients do.
pub fn authorization(
    key: &str,
    token: Address,
    to: Address,
    value: u64,
    valid_before: u64,
) -> Value {
    use alloy::sol_types::SolStruct;
    use notary_coordinator::payments::x402::TransferWithAuthorization;
    let signer = notary_protocol::WorkerKey::from_hex(key).unwrap();
    let nonce = B256::from(notary_protocol::sha256(uuid::Uuid::new_v4().as_bytes()).0);
    let msg = TransferWithAuthorization {
        from: signer.address(),
        to,
        value: U256::from(value),
        validAfter: U256::ZERO,
        validBefore: U256::from(valid_before),
        nonce,
    };
    let domain = alloy::sol_types::eip712_domain! {
        name: "USDC", version: "2", chain_id: 84532, verifying_contract: token,
    };
    let digest = notary_protocol::Digest32(msg.eip712_signing_hash(&domain).0);
    json!({
        "x402Version": 2,
        "payload": {
            "authorization": {
                "from": signer.address(), "to": to, "value": value.to_string(),
                "validAfter": "0", "validBefore": valid_before.to_string(), "nonce": nonce,
            },
            "signature": signer.sign_hash(&digest).unwrap(),
        },
    })
}

#[tokio::test]
async fn facilitator_routes_verify_and_settle_for_other_servers() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(1)).await;
    env.mint(addr(4), 1_000_000u64).await;
    let (status, supported) = c.get("/facilitator/supported").await;
    assert_eq!(status, 200);
    assert_eq!(supported["kinds"][0]["network"], "eip155:84532");
    assert_eq!(supported["kinds"][0]["scheme"], "exact");

    // Another x402 server (account 5) is paid 2500 units through Notary.
    let requirements = json!({
        "scheme": "exact", "network": "eip155:84532", "amount": "2500",
        "asset": env.d.token, "payTo": addr(5), "maxTimeoutSeconds": 300,
        "extra": {"name": "USDC", "version": "2"},
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let payload = authorization(DEV_KEYS[4], env.d.token, addr(5), 2500, now + 300);
    let request =
        json!({"x402Version": 2, "paymentPayload": payload, "paymentRequirements": requirements});
    let (status, v) = c.post("/facilitator/verify", request.clone(), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(v["isValid"], true, "{v}");
    assert_eq!(
        v["payer"].as_str().unwrap().parse::<Address>().unwrap(),
        addr(4)
    );

    // Too little, wrong recipient, expired: invalid with a reason.
    let mut cheap = request.clone();
    cheap["paymentRequirements"]["amount"] = json!("999999");
    let (_, v) = c.post("/facilitator/verify", cheap, &[]).await;
    assert_eq!(
        (v["isValid"].clone(), v["invalidReason"].clone()),
        (json!(false), json!("wrong_amount"))
    );
    let mut other = request.clone();
    other["paymentRequirements"]["payTo"] = json!(addr(3));
    let (_, v) = c.post("/facilitator/verify", other, &[]).await;
    assert_eq!(v["invalidReason"], "wrong_recipient");
    let expired = json!({"x402Version": 2, "paymentRequirements": requirements,
        "paymentPayload": authorization(DEV_KEYS[4], env.d.token, addr(5), 2500, now - 1)});
    let (_, v) = c.post("/facilitator/verify", expired, &[]).await;
    assert_eq!(v["invalidReason"], "expired");
    let mut foreign = request.clone();
    foreign["paymentRequirements"]["asset"] = json!(env.d.registry);
    let (_, v) = c.post("/facilitator/settle", foreign, &[]).await;
    assert_eq!(
        (v["success"].clone(), v["errorReason"].clone()),
        (json!(false), json!("unsupported_asset"))
    );

    let (status, v) = c.post("/facilitator/settle", request.clone(), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(v["success"], true, "{v}");
    let tx: B256 = v["transaction"].as_str().unwrap().parse().unwrap();
    assert!(env
        .owner
        .provider()
        .get_transaction_receipt(tx)
        .await
        .unwrap()
        .unwrap()
        .status());
    let token =
        notary_coordinator::chain::contracts::TestUSDC::new(env.d.token, env.owner.provider());
    assert_eq!(
        token.balanceOf(addr(5)).call().await.unwrap(),
        U256::from(2500u64)
    );
    // The same authorization again: refused, nothing moves.
    let (_, v) = c.post("/facilitator/settle", request, &[]).await;
    assert_eq!(v["success"], false);
    assert_eq!(v["errorReason"], "nonce_already_used");
    assert_eq!(
        token.balanceOf(addr(5)).call().await.unwrap(),
        U256::from(2500u64)
    );
    c.shutdown().await;
}

#[tokio::test]
async fn the_chain_key_never_reaches_a_log_or_a_response() {
    let env = PaidEnv::start().await;
    let port = notary_queue::test_utils::free_port();
    let url = format!("http://127.0.0.1:{port}");
    crate::support::warm_module_cache();
    // The real binary, key in the environment, the most verbose logs.
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_notary-coordinator"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--workers", "1"])
        .args(["--redis", &env.redis.url(), "--redis-prefix", &env.prefix])
        .args(["--payments", "x402", "--rpc-url", &env.node.url])
        .args([
            "--registry",
            &env.d.registry.to_string(),
            "--token",
            &env.d.token.to_string(),
        ])
        .args([
            "--module-cache-dir",
            &crate::support::cache_dir().display().to_string(),
        ])
        .env("NOTARY_CHAIN_KEY", DEV_KEYS[0])
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while client().get(format!("{url}/health")).send().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "coordinator did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut bodies = String::new();
    let r = client()
        .post(format!("{url}/verify"))
        .json(&hello(HELLO_HASH))
        .send()
        .await
        .unwrap();
    let headers = format!("{:?}", r.headers());
    let first: Value = r.json().await.unwrap();
    bodies.push_str(&headers);
    bodies.push_str(&first.to_string());
    let job = first["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(1, addr(0), PRICE).await;
    let r = client()
        .post(format!("{url}/verify"))
        .header("x-402-job-id", &job)
        .header("x-402-payment", &tx)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    bodies.push_str(&r.text().await.unwrap());
    for path in [
        "/notary/stats",
        "/facilitator/supported",
        &format!("/verify/{job}"),
    ] {
        bodies.push_str(
            &client()
                .get(format!("{url}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    // SIGTERM: a graceful stop, then read everything it logged.
    std::process::Command::new("kill")
        .arg(child.id().unwrap().to_string())
        .status()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let logs =
        String::from_utf8_lossy(&out.stderr).to_lowercase() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        logs.contains("payments on"),
        "the run logged nothing useful: {logs}"
    );
    let secret = DEV_KEYS[0].trim_start_matches("0x");
    assert!(!logs.contains(secret), "the chain key is in the logs");
    assert!(
        !bodies.to_lowercase().contains(secret),
        "the chain key is in a response"
    );
}

#[tokio::test]
async fn jobs_completing_together_share_one_registry_batch() {
    let env = PaidEnv::start().await;
    let mut config = env.config(1);
    if let Some(p) = config.payments.as_mut() {
        p.registry_batch_wait = Duration::from_millis(1500);
    }
    let c = Coordinator::start(config).await;
    let mut jobs = Vec::new();
    for _ in 0..4 {
        let (_, body) = c.verify(hello(HELLO_HASH)).await;
        let job = body["jobId"].as_str().unwrap().to_string();
        let tx = env.pay(1, addr(0), PRICE).await;
        jobs.push((job, tx));
    }
    let answers = futures::future::join_all(
        jobs.iter()
            .map(|(job, tx)| paid_post(&c, json!({}), job, tx)),
    )
    .await;
    let mut hashes = std::collections::BTreeSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        hashes.insert(body["registryTxHash"].as_str().unwrap().to_string());
    }
    assert!(hashes.len() < 4, "no batching: {hashes:?}");
    let registry = R::new(env.d.registry, env.owner.provider());
    for (job, _) in &jobs {
        assert_ne!(
            registry.recordOfJob(job_word(job)).call().await.unwrap(),
            B256::ZERO
        );
    }
    for h in &hashes {
        let r = env
            .owner
            .provider()
            .get_transaction_receipt(h.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        println!("registry tx {h}: gas {}", r.gas_used);
    }
    c.shutdown().await;
}

#[tokio::test]
async fn a_wall_clock_timeout_is_refunded_on_chain() {
    let env = PaidEnv::start().await;
    let mut config = env.config(1);
    // Fuel enough for the loop to outlast the 5 s wall clock: TIMEOUT, not out of fuel.
    config.sandbox.fuel = Some(1_000_000_000_000_000);
    let c = Coordinator::start(config).await;
    let endless = json!({
        "taskType": "code-execution", "code": "for (;;) {}",
        "expectedHash": "0".repeat(64), "timeoutSeconds": 5,
    });
    let (_, body) = c.verify(endless).await;
    let job = body["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(1, addr(0), PRICE).await;
    let before = env.balance(addr(1)).await;
    let (status, body) = paid_post(&c, json!({}), &job, &tx).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "TIMEOUT");
    assert_eq!(body["refundEligible"], true);
    assert!(body["refundTxHash"].is_string(), "{body}");
    assert!(
        body["registryTxHash"].is_null(),
        "a timeout is not recorded as a result"
    );
    assert_eq!(env.balance(addr(1)).await - before, U256::from(PRICE));
    c.shutdown().await;
}

#[tokio::test]
async fn a_paid_job_that_was_never_stored_is_refunded() {
    let env = PaidEnv::start().await;
    let mut config = env.config(1);
    if let Some(p) = config.payments.as_mut() {
        p.orphan_after = Duration::from_secs(1);
    }
    let c = Coordinator::start(config).await;
    // The state a coordinator leaves when it dies right after taking a payment: the payment is
    // recorded and the job open, but the job record was never written.
    let tx = env.pay(1, addr(0), PRICE).await;
    let job = uuid::Uuid::new_v4().to_string();
    let payment = json!({
        "scheme": "exact", "txHash": tx, "payer": addr(1), "amount": format!("0x{PRICE:x}"),
        "verifiedAtMs": 1, "asset": Address::ZERO,
    });
    let mut conn = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(format!("{}pay:job:{job}", env.prefix))
        .arg("payment")
        .arg(payment.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    let before = env.balance(addr(1)).await;
    let _: () = redis::cmd("SADD")
        .arg(format!("{}pay:open", env.prefix))
        .arg(&job)
        .query_async(&mut conn)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = redis_settlement_opt(&env, &job).await;
        if s.as_ref().is_some_and(|s| s["settled"] == true) {
            assert!(s.unwrap()["refundTxHash"].is_string());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "orphan never refunded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(env.balance(addr(1)).await - before, U256::from(PRICE));
    c.shutdown().await;
}

#[tokio::test]
async fn a_stored_refund_whose_nonce_was_taken_is_signed_again_and_paid_once() {
    let env = PaidEnv::start().await;
    let mut config = env.config(1);
    if let Some(p) = config.payments.as_mut() {
        p.orphan_after = Duration::from_secs(1);
    }
    // A crash between storing a signed refund and broadcasting it, after which the chain key
    // sent another transaction with the same nonce: the stored refund can never be mined.
    let (dead, guard) = env
        .owner
        .sign(Some(addr(1)), U256::from(PRICE), Bytes::new())
        .await
        .unwrap();
    drop(guard);
    env.owner
        .transact(Some(addr(0)), U256::from(1u64), Bytes::new())
        .await
        .unwrap();
    let tx = env.pay(1, addr(0), PRICE).await;
    let job = uuid::Uuid::new_v4().to_string();
    let payment = json!({
        "scheme": "exact", "txHash": tx, "payer": addr(1), "amount": format!("0x{PRICE:x}"),
        "verifiedAtMs": 1, "asset": Address::ZERO,
    });
    let mut conn = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = format!("{}pay:job:{job}", env.prefix);
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("payment")
        .arg(payment.to_string())
        .arg("refundRaw")
        .arg(json!({"hash": dead.hash, "raw": dead.raw}).to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    let before = env.balance(addr(1)).await;
    let c = Coordinator::start(config).await;
    let _: () = redis::cmd("SADD")
        .arg(format!("{}pay:open", env.prefix))
        .arg(&job)
        .query_async(&mut conn)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let s = loop {
        if let Some(s) = redis_settlement_opt(&env, &job).await {
            if s["settled"] == true {
                break s;
            }
        }
        assert!(std::time::Instant::now() < deadline, "never refunded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let refund: B256 = s["refundTxHash"].as_str().unwrap().parse().unwrap();
    assert_ne!(refund, dead.hash, "a new refund was signed");
    assert!(env
        .owner
        .provider()
        .get_transaction_by_hash(dead.hash)
        .await
        .unwrap()
        .is_none());
    assert_eq!(env.balance(addr(1)).await - before, U256::from(PRICE));
    c.shutdown().await;
}

async fn redis_settlement_opt(env: &PaidEnv, job: &str) -> Option<Value> {
    let mut conn = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let text: Option<String> = redis::cmd("HGET")
        .arg(format!("{}pay:job:{job}", env.prefix))
        .arg("settlement")
        .query_async(&mut conn)
        .await
        .unwrap();
    text.map(|t| serde_json::from_str(&t).unwrap())
}

#[tokio::test]
async fn a_job_past_its_delivery_limit_is_refunded_on_chain() {
    use notary_queue::{Leases as _, RedisQueue, RedisQueueConfig};
    let env = PaidEnv::start().await;
    // No in-process workers, one delivery: a worker that leases the job and dies makes it
    // fail as VM Spawn Failed once its lease expires (1.5 s).
    let mut config = env.config(1);
    config.workers = 0;
    config.max_deliveries = 1;
    let c = Coordinator::start(config).await;
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let job = body["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(1, addr(0), PRICE).await;
    let (status, body) = paid_post_async(&c, &job, &tx).await;
    assert_eq!(status, 202, "{body}");
    let mut qc = RedisQueueConfig::new(env.redis.url());
    qc.key_prefix = env.prefix.clone();
    let queue = RedisQueue::new_lazy(qc).unwrap();
    let lease = queue
        .lease("doomed-worker", Duration::from_secs(5))
        .await
        .unwrap()
        .expect("the paid job was queued");
    assert_eq!(lease.job.job_id, job);
    drop(lease); // the worker dies: no heartbeat, no result
    let before = env.balance(addr(1)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let v = loop {
        let (status, v) = c.get(&format!("/verify/{job}")).await;
        if v["refundTxHash"].is_string() {
            assert_eq!(status, 200);
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "not refunded: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorCode"], "VM Spawn Failed");
    assert_eq!(v["refundEligible"], true);
    assert_eq!(env.balance(addr(1)).await - before, U256::from(PRICE));
    c.shutdown().await;
}

/// Payments without Redis: an embedded coordinator keeps its payment ledger in its database
/// file, so a payment it took is still used after a restart on the same data directory.
#[tokio::test]
async fn an_embedded_coordinator_takes_payments_and_refuses_them_again_after_a_restart() {
    let env = PaidEnv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let embedded = || {
        let mut c = env.config(1);
        c.redis = None;
        c.data_dir = DataDir::Path(dir.path().to_path_buf());
        c.workers = 1;
        c
    };
    let c = Coordinator::start(embedded()).await;

    // 402, pay, 200 VALID recorded in the registry.
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 402, "{body}");
    let job = body["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(1, addr(0), PRICE).await;
    let (status, body) = paid_post(&c, json!({}), &job, &tx).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "VALID");
    assert_eq!(body["payment"]["txHash"], tx.as_str());
    let registry_tx = body["registryTxHash"].as_str().unwrap().to_string();
    let registry = R::new(env.d.registry, env.owner.provider());
    assert_ne!(
        registry.recordOfJob(job_word(&job)).call().await.unwrap(),
        B256::ZERO
    );

    // A job whose client does not wait (202) is settled by the settlement consumer.
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let job2 = body["jobId"].as_str().unwrap().to_string();
    let tx2 = env.pay(2, addr(0), PRICE).await;
    let (status, body) = paid_post_async(&c, &job2, &tx2).await;
    assert_eq!(status, 202, "{body}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = c.get(&format!("/verify/{job2}")).await;
        if v["registryTxHash"].is_string() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never recorded: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, stats) = c.get("/notary/stats").await;
    assert_eq!(stats["totalVerifications"], 2, "{stats}");
    assert_eq!(
        stats["activeWorkers"], 1,
        "the one in-process slot: {stats}"
    );
    c.shutdown().await;

    // Restarted on the same directory: the payments are still used, the settlements kept.
    let c = Coordinator::start(embedded()).await;
    let (status, v) = c.get(&format!("/verify/{job}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["registryTxHash"], registry_tx.as_str(), "{v}");
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let job3 = body["jobId"].as_str().unwrap().to_string();
    let (status, body) = paid_post(&c, json!({}), &job3, &tx).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["reason"], "already_used", "{body}");
    let (status, body) = c
        .post("/verify", hello(HELLO_HASH), &[("x-402-payment", &tx2)])
        .await;
    assert_eq!(
        (status, body["reason"].clone()),
        (402, json!("already_used")),
        "{body}"
    );
    let (_, stats) = c.get("/notary/stats").await;
    assert_eq!(stats["totalVerifications"], 2, "counted once: {stats}");
    assert_eq!(registry.recordCount().call().await.unwrap(), U256::from(2));
    c.shutdown().await;
}

/// The embedded orphan: a coordinator without Redis that died after taking a payment and
/// before storing the job leaves the payment in its database; after the restart the sweep
/// refunds it (there is no record, so no event).
#[tokio::test]
async fn an_embedded_coordinator_refunds_a_paid_job_that_was_never_stored() {
    use notary_coordinator::db::{Db, Durability};
    use notary_coordinator::payments::ledger::{Consumed, PaymentLedger, SqliteLedger};
    use notary_coordinator::payments::{Payment, Payments};

    let env = PaidEnv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tx = env.pay(1, addr(0), PRICE).await;
    let job = uuid::Uuid::new_v4();
    {
        // The state the dead coordinator left: the payment consumed, the job never stored.
        let db = Arc::new(
            Db::open(
                Some(&dir.path().join("notary.sqlite3")),
                Durability::Process,
            )
            .unwrap(),
        );
        let ledger = SqliteLedger::open(db).await.unwrap();
        let hash: B256 = tx.parse().unwrap();
        let payment = Payment {
            scheme: "exact".into(),
            tx_hash: hash,
            payer: addr(1),
            amount: U256::from(PRICE),
            verified_at_ms: 1,
            asset: Address::ZERO,
        };
        assert_eq!(
            ledger
                .consume(job, &payment, &Payments::used_tx(hash))
                .await
                .unwrap(),
            Consumed::Done
        );
    }
    let before = env.balance(addr(1)).await;
    let mut config = env.config(1);
    config.redis = None;
    config.data_dir = DataDir::Path(dir.path().to_path_buf());
    if let Some(p) = config.payments.as_mut() {
        p.orphan_after = Duration::from_secs(1);
    }
    // The database thread of the handle above lets go of the file lock asynchronously.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while Db::open(
        Some(&dir.path().join("notary.sqlite3")),
        Durability::Process,
    )
    .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "database still locked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let c = Coordinator::start(config).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while env.balance(addr(1)).await == before {
        assert!(
            std::time::Instant::now() < deadline,
            "orphan never refunded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Refunded exactly the price, once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(env.balance(addr(1)).await - before, U256::from(PRICE));
    // And the payment stays used.
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let job2 = body["jobId"].as_str().unwrap().to_string();
    let (status, body) = paid_post(&c, json!({}), &job2, &tx).await;
    assert_eq!(
        (status, body["reason"].clone()),
        (402, json!("already_used")),
        "{body}"
    );
    c.shutdown().await;
}

/// Document 002's flow on the durable embedded default, through the real binary: a coordinator
/// SIGKILLed with a paid job running comes back with its finished paid job (and registry
/// record), runs the interrupted one again and settles it, and still refuses the used payments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkilled_embedded_coordinator_keeps_its_paid_jobs_and_used_payments() {
    use crate::support::busy_guest;

    let env = PaidEnv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let spawn = || spawn_coordinator(&env, dir.path(), &[]);
    let (mut first, url) = spawn().await;
    let c = Coordinator::remote(url);
    // Paid and finished before the kill.
    let (_, body) = c.verify(hello(HELLO_HASH)).await;
    let done = body["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(1, addr(0), PRICE).await;
    let (status, done_view) = paid_post(&c, json!({}), &done, &tx).await;
    assert_eq!(status, 200, "{done_view}");
    assert!(done_view["registryTxHash"].is_string(), "{done_view}");
    // Paid and running when the process is killed.
    let (status, body) = c.verify(busy_guest(2000, 10)).await;
    assert_eq!(status, 402, "{body}");
    let running = body["jobId"].as_str().unwrap().to_string();
    let tx2 = env.pay(1, addr(0), PRICE).await;
    let (status, body) = paid_post_async(&c, &running, &tx2).await;
    assert_eq!(status, 202, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    let (mut second, url) = spawn().await;
    let c = Coordinator::remote(url);
    let (status, v) = c.get(&format!("/verify/{done}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["registryTxHash"], done_view["registryTxHash"], "{v}");
    // The interrupted job runs again (second delivery) and is settled on chain.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let v = loop {
        let (_, v) = c.get(&format!("/verify/{running}")).await;
        if v["registryTxHash"].is_string() {
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "never settled: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(v["result"], "VALID", "{v}");
    assert_eq!(v["attempts"], 2, "{v}");
    assert_eq!(v["payment"]["txHash"], tx2.as_str(), "{v}");
    // Both payments stay used.
    for used in [&tx, &tx2] {
        let (status, body) = c
            .post(
                "/verify",
                hello(HELLO_HASH),
                &[("x-402-payment", used.as_str())],
            )
            .await;
        assert_eq!(
            (status, body["reason"].clone()),
            (402, json!("already_used")),
            "{body}"
        );
    }
    let registry = R::new(env.d.registry, env.owner.provider());
    assert_eq!(registry.recordCount().call().await.unwrap(), U256::from(2));
    let _ = second.kill();
    let _ = second.wait();
}
