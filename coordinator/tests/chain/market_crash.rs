//! A marketplace deposit refunded exactly once across a coordinator crash (issue 13): a real
//! `notary-coordinator` process is SIGKILLed while its signed refund waits in the node's
//! mempool (mining paused), and the restarted process finishes that same transaction.

use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolEvent};
use notary_coordinator::chain::contracts::NotaryEscrow;
use serde_json::{json, Value};

use crate::market::{balance, commitment, fund, PAYER};
use crate::payments::{addr, spawn_coordinator, PaidEnv};
use crate::support::Coordinator;

/// The escrow's `refund` transaction waiting in the pending block, if any.
async fn pending_refund(env: &PaidEnv) -> Option<B256> {
    let block = env
        .node
        .rpc("eth_getBlockByNumber", json!(["pending", true]))
        .await
        .unwrap();
    let selector = format!("0x{}", hex::encode(NotaryEscrow::refundCall::SELECTOR));
    block["transactions"]
        .as_array()?
        .iter()
        .find(|tx| {
            tx["to"].as_str().map(str::to_lowercase)
                == Some(env.d.escrow.to_string().to_lowercase())
                && tx["input"]
                    .as_str()
                    .is_some_and(|i| i.starts_with(&selector))
        })
        .and_then(|tx| tx["hash"].as_str()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refunded_deposit_is_paid_back_once_across_a_coordinator_crash() {
    let env = PaidEnv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--token",
        &env.d.token.to_string(),
        "--escrow",
        &env.d.escrow.to_string(),
        // Fuel enough for the loop to outlast its 5 s wall clock: TIMEOUT, refund-eligible.
        "--fuel",
        "1000000000000000",
    ]
    .map(String::from);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (mut first, url) = spawn_coordinator(&env, dir.path(), &flags).await;
    let c = Coordinator::remote(url);
    env.mint(addr(PAYER), 1_000_000).await;

    // Prepare, fund and confirm a job that will time out.
    let endless = json!({
        "taskType": "code-execution", "code": "for (;;) {}",
        "expectedHash": "0".repeat(64), "timeoutSeconds": 5,
    });
    let prepared: Value = crate::support::client()
        .post(format!("{}/jobs/prepare", c.url))
        .header("payment-signature", commitment(&env, 1000))
        .json(&endless)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prepared["status"], "prepared", "{prepared}");
    let job = prepared["jobId"].as_str().unwrap().to_string();
    let funding = fund(&env, &prepared).await;
    let before = balance(&env, addr(PAYER)).await;
    let confirm =
        json!({"prepareId": prepared["prepareId"], "transactionHash": funding.to_string()});
    let (status, v) = c.post("/jobs", confirm, &[]).await;
    assert_eq!(status, 202, "{v}");

    // Mining stops; the job times out and its refund is signed, stored and broadcast, but
    // never mined. The coordinator is killed while it waits for it.
    env.node
        .rpc("evm_setAutomine", json!([false]))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let refund = loop {
        if let Some(hash) = pending_refund(&env).await {
            break hash;
        }
        assert!(Instant::now() < deadline, "no refund was broadcast");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert_eq!(
        balance(&env, addr(PAYER)).await,
        before,
        "nothing refunded yet"
    );

    // Mining resumes; the restarted coordinator finishes the same refund, and only it.
    env.node
        .rpc("evm_setAutomine", json!([true]))
        .await
        .unwrap();
    env.node.rpc("evm_mine", json!([])).await.unwrap();
    let (mut second, url) = spawn_coordinator(&env, dir.path(), &flags).await;
    let c = Coordinator::remote(url);
    let deadline = Instant::now() + Duration::from_secs(60);
    let result = loop {
        let (_, r) = c.get(&format!("/jobs/{job}/result")).await;
        if r["settlement"]["state"] == "refunded" {
            break r;
        }
        assert!(Instant::now() < deadline, "never refunded: {r}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(result["result"], "TIMEOUT", "{result}");
    assert_eq!(
        result["settlement"]["refundTxHash"],
        refund.to_string(),
        "the transaction signed before the crash: {result}"
    );
    assert_eq!(
        balance(&env, addr(PAYER)).await,
        before + U256::from(1000),
        "the deposit came back once"
    );
    assert_eq!(balance(&env, env.d.escrow).await, U256::ZERO);
    let refunds = env
        .owner
        .provider()
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(env.d.escrow)
                .event_signature(NotaryEscrow::Refunded::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    assert_eq!(refunds.len(), 1, "one Refunded event");
    let _ = second.kill();
    let _ = second.wait();
}
