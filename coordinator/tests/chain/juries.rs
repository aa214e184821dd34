//! A paid jury (issue 11): the 402 of a tier-3 job asks three times the price, and the
//! registry record of the completed job carries the three jurors' signatures, each recovered
//! and checked by the contract.

use std::collections::HashSet;

use alloy::primitives::Address;
use notary_coordinator::chain::contracts::VerificationRegistry as R;
use notary_protocol::WorkerKey;

use serde_json::json;

use crate::payments::{addr, job_word, paid_post, PaidEnv, PRICE};
use crate::support::{hello, Coordinator, WorkerProcess, HELLO_HASH};

/// A paid coordinator that can seat a jury of three: its own worker slot and two worker
/// processes (three identities), all alive.
pub async fn jury_of_three(env: &PaidEnv) -> (Coordinator, Vec<WorkerProcess>) {
    let keys = [WorkerKey::generate(), WorkerKey::generate()];
    let mut config = env.config(1);
    config.allowed_workers = keys.iter().map(|k| k.address()).collect();
    let c = Coordinator::start(config).await;
    let workers: Vec<_> = keys
        .iter()
        .map(|k| WorkerProcess::spawn(&env.redis.url(), &env.prefix, 1, k))
        .collect();
    crate::support::wait_alive(&env.redis.url(), &env.prefix, 3).await;
    (c, workers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_tier_3_job_is_recorded_with_three_juror_signatures() {
    let env = PaidEnv::start().await;
    let (c, _workers) = jury_of_three(&env).await;

    let mut body = hello(HELLO_HASH);
    body["trustTier"] = json!(3);
    // The quote names the tier, its seats and the price per seat.
    let (status, q) = c.post("/quote", body.clone(), &[]).await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(
        (q["trustTier"].clone(), q["seats"].clone()),
        (json!(3), json!(3)),
        "{q}"
    );
    let per_seat: u128 = q["perSeat"].as_str().unwrap().parse().unwrap();
    assert!(per_seat >= PRICE, "{q}");
    assert_eq!(q["amount"], (3 * per_seat).to_string(), "{q}");
    let (status, pending) = c.verify(body).await;
    assert_eq!(status, 402, "{pending}");
    assert_eq!(
        pending["paymentRequirements"]["amount"],
        (3 * PRICE).to_string(),
        "three seats, three times the price"
    );
    assert_eq!(pending["trustTier"], 3);
    let job = pending["jobId"].as_str().unwrap().to_string();
    let one_seat = env.pay(1, addr(0), PRICE).await;
    let (status, refused) = paid_post(&c, json!({}), &job, &one_seat).await;
    assert_eq!(status, 402, "{refused}");
    assert_eq!(refused["reason"], "wrong_amount", "{refused}");

    let tx = env.pay(1, addr(0), 3 * PRICE).await;
    let (status, view) = paid_post(&c, json!({}), &job, &tx).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "completed", "{view}");
    assert_eq!(view["result"], "VALID");
    assert_eq!(view["payment"]["amount"], (3 * PRICE).to_string());
    assert!(view["registryTxHash"].is_string(), "{view}");

    let registry = R::new(env.d.registry, env.owner.provider());
    let id = registry.recordOfJob(job_word(&job)).call().await.unwrap();
    let rec = registry.getRecord(id).call().await.unwrap();
    let signers: HashSet<Address> = rec.signers.iter().copied().collect();
    assert_eq!(rec.signers.len(), 3, "the jury size is readable on chain");
    let jurors: HashSet<Address> = view["jury"]["rounds"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        signers, jurors,
        "every juror's signature, recovered on chain"
    );
    assert_eq!(hex::encode(rec.attestation.outputHash), HELLO_HASH);
    assert!(rec.recordedAt > 0 && !rec.revoked);
    c.shutdown().await;
}
