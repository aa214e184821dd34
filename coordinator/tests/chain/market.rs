//! The marketplace flow on a real node (issue 13): prepare (402, then the official x402
//! client's signature), fund the escrow, confirm, a tier-3 job, and the deposit released to the
//! three jurors and the operator in the right amounts; a transaction that does not fund the job
//! is refused.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, Bytes, B256, U256};
use base64::Engine;
use notary_coordinator::chain::contracts::TestUSDC;
use serde_json::{json, Value};

use crate::hardhat::DEV_KEYS;
use crate::payments::{addr, authorization, official_x402_client, PaidEnv};
use crate::support::{client, hello, Coordinator, HELLO_HASH};

/// The dev account that pays in the marketplace tests.
pub const PAYER: usize = 4;

async fn post(
    c: &Coordinator,
    path: &str,
    body: &Value,
    signature: Option<&str>,
) -> (u16, HeaderValueMap, Value) {
    let mut req = client().post(format!("{}{path}", c.url)).json(body);
    if let Some(sig) = signature {
        req = req.header("payment-signature", sig);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

type HeaderValueMap = reqwest::header::HeaderMap;

/// `who`'s balance of the test token.
pub async fn balance(env: &PaidEnv, who: Address) -> U256 {
    TestUSDC::new(env.d.token, env.owner.provider())
        .balanceOf(who)
        .call()
        .await
        .unwrap()
}

/// Sends the calls `prepared` names (approve, then fund) as the payer; the funding's hash.
pub async fn fund(env: &PaidEnv, prepared: &Value) -> B256 {
    let payer = env.account(PAYER).await;
    let mut hash = B256::ZERO;
    for step in ["approve", "fund"] {
        let call = &prepared["funding"][step];
        let to: Address = call["to"].as_str().unwrap().parse().unwrap();
        let data: Bytes = call["data"].as_str().unwrap().parse().unwrap();
        hash = payer
            .transact(Some(to), U256::ZERO, data)
            .await
            .unwrap()
            .transaction_hash;
    }
    hash
}

/// The payer's x402 commitment to pay `amount` into the escrow (`PAYMENT-SIGNATURE`).
pub fn commitment(env: &PaidEnv, amount: u64) -> String {
    let auth = authorization(
        DEV_KEYS[PAYER],
        env.d.token,
        env.d.escrow,
        amount,
        u64::MAX / 2,
    );
    base64::engine::general_purpose::STANDARD.encode(auth.to_string())
}

/// Waits until `job`'s settlement is `state`; its result.
async fn settled(c: &Coordinator, job: &str, state: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (_, r) = c.get(&format!("/jobs/{job}/result")).await;
        if r["settlement"]["state"] == state {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "never {state}: {} {}",
            r["settlement"],
            r["status"]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_funded_tier_3_job_releases_its_deposit_to_the_jurors_and_the_operator() {
    let env = PaidEnv::start().await;
    let (c, _workers) = crate::juries::jury_of_three(&env).await;
    env.mint(addr(PAYER), 1_000_000).await;
    let mut body = hello(HELLO_HASH);
    body["trustTier"] = json!(3);

    // 402 first: the requirements pay the escrow three seats' price.
    let (status, headers, required) = post(&c, "/jobs/prepare", &body, None).await;
    assert_eq!(status, 402, "{required}");
    assert!(headers.contains_key("payment-required"));
    assert_eq!(
        required["paymentRequirements"]["payTo"],
        env.d.escrow.to_checksum(None)
    );
    assert_eq!(required["paymentRequirements"]["amount"], "3000");

    // A signature for less, or to someone else: refused.
    let sign = |to: Address, value: u64| {
        let auth = authorization(DEV_KEYS[PAYER], env.d.token, to, value, u64::MAX / 2);
        base64::engine::general_purpose::STANDARD.encode(auth.to_string())
    };
    for bad in [sign(env.d.escrow, 2999), sign(addr(0), 3000)] {
        let (status, _, v) = post(&c, "/jobs/prepare", &body, Some(&bad)).await;
        assert_eq!(
            (status, &v["reason"]),
            (402, &json!("invalid_signature")),
            "{v}"
        );
    }
    // The official x402 client answers the 402 with its signature: the prepared job.
    let v = official_x402_client(
        &env,
        &[
            ("NOTARY_URL", c.url.as_str()),
            ("ROUTE", "/jobs/prepare"),
            ("BODY", &body.to_string()),
        ],
    )
    .await;
    assert_eq!(v["status"], 200, "{v}");
    let prepared = v["body"].clone();
    assert_eq!(prepared["status"], "prepared");
    assert_eq!(prepared["payer"], addr(PAYER).to_checksum(None));
    assert!(
        prepared["jurySeed"].is_string() && prepared["poolHash"].is_string(),
        "{prepared}"
    );
    let prepare_id = prepared["prepareId"].as_str().unwrap().to_string();
    let job_id = prepared["jobId"].as_str().unwrap().to_string();

    // Confirming what is not a funding: refused with the reason.
    let confirm = |tx: String| json!({"prepareId": prepare_id, "transactionHash": tx});
    let (status, _, v) = post(
        &c,
        "/jobs",
        &confirm(B256::repeat_byte(7).to_string()),
        None,
    )
    .await;
    assert_eq!((status, &v["reason"]), (402, &json!("not_found")), "{v}");
    let (status, _, v) = post(&c, "/jobs", &json!({"prepareId": prepare_id}), None).await;
    assert_eq!(
        (status, &v["params"]["field"]),
        (400, &json!("transactionHash")),
        "{v}"
    );

    // The payer funds it with the calls the answer names.
    let payer = env.account(PAYER).await;
    let call = |c: &Value| {
        (
            c["to"].as_str().unwrap().parse::<Address>().unwrap(),
            c["data"].as_str().unwrap().parse::<Bytes>().unwrap(),
        )
    };
    let (to, data) = call(&prepared["funding"]["approve"]);
    let approve = payer.transact(Some(to), U256::ZERO, data).await.unwrap();
    let (status, _, v) = post(
        &c,
        "/jobs",
        &confirm(approve.transaction_hash.to_string()),
        None,
    )
    .await;
    assert_eq!((status, &v["reason"]), (402, &json!("not_funded")), "{v}");
    let (to, data) = call(&prepared["funding"]["fund"]);
    let fund = payer.transact(Some(to), U256::ZERO, data).await.unwrap();
    assert_eq!(balance(&env, env.d.escrow).await, U256::from(3000));

    let (status, _, started) = post(
        &c,
        "/jobs",
        &confirm(fund.transaction_hash.to_string()),
        None,
    )
    .await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["jobId"], job_id.as_str());
    let (status, again) = c
        .post("/jobs", confirm(fund.transaction_hash.to_string()), &[])
        .await;
    assert_eq!(status, 202, "a retry points at the same job: {again}");

    // The jury decides; the deposit goes to its three jurors and the operator's fee.
    let result = settled(&c, &job_id, "released", Duration::from_secs(90)).await;
    assert_eq!(result["result"], "VALID", "{result}");
    let payouts = result["settlement"]["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 4, "{result}");
    let jurors: Vec<Address> = result["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["worker"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(jurors.len(), 3, "{result}");
    for juror in &jurors {
        assert_eq!(balance(&env, *juror).await, U256::from(900), "{result}");
        let (_, worker) = c.get(&format!("/workers/{juror}")).await;
        assert_eq!(worker["earnings"], 900, "{worker}");
    }
    assert_eq!(
        balance(&env, addr(0)).await,
        U256::from(300),
        "the operator's 10%"
    );
    assert_eq!(balance(&env, env.d.escrow).await, U256::ZERO);

    // The same funding for another prepared job: it does not fund that one.
    let (_, _, second) = post(&c, "/jobs/prepare", &body, Some(&sign(env.d.escrow, 3000))).await;
    let reuse = json!({"prepareId": second["prepareId"], "transactionHash": fund.transaction_hash.to_string()});
    let (status, v) = c.post("/jobs", reuse, &[]).await;
    assert_eq!((status, &v["reason"]), (402, &json!("not_funded")), "{v}");
    c.shutdown().await;
}

/// Eight workers (the coordinator's own and seven processes), one of them lying. Jobs are
/// prepared until the published seed seats the liar in the first jury (anyone can compute the
/// order from `jurySeed` and the pool); that one is funded. Its first jury splits 2-1, a fresh
/// jury of five decides, and only those five are paid: five shares of 900 from a tier-3 deposit
/// of 3000, the extra 1500 from the operator (its fee, then the chain key's own balance).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_juror_is_not_paid_and_the_escalation_is_paid_by_the_operator() {
    use alloy::primitives::keccak256;
    use notary_protocol::WorkerKey;

    use crate::support::{wait_alive, WorkerProcess};

    let env = PaidEnv::start().await;
    let keys: Vec<WorkerKey> = (0..7).map(|_| WorkerKey::generate()).collect();
    let liar = keys[6].address();
    let mut config = env.config(1);
    config.allowed_workers = keys.iter().map(|k| k.address()).collect();
    let c = Coordinator::start(config).await;
    let _workers: Vec<_> = keys
        .iter()
        .map(|k| {
            let fault: &[&str] = if k.address() == liar {
                &["--fault", "wrong-output"]
            } else {
                &[]
            };
            WorkerProcess::spawn_with(&env.redis.url(), &env.prefix, 1, k, fault)
        })
        .collect();
    wait_alive(&env.redis.url(), &env.prefix, 8).await;
    env.mint(addr(PAYER), 1_000_000).await;
    // The operator's balance that pays the escalated seats beyond the deposit.
    env.mint(addr(0), 10_000).await;

    let (_, stats) = c.get("/notary/stats").await;
    let own: Address = stats["verifierAddress"].as_str().unwrap().parse().unwrap();
    let mut pool: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    pool.push(own);
    pool.sort();
    let pool_bytes: Vec<u8> = pool.iter().flat_map(|a| a.to_vec()).collect();
    let first_jury = |seed: &str| {
        let seed = hex::decode(seed).unwrap();
        let mut order = pool.clone();
        order.sort_by_key(|a| keccak256([seed.as_slice(), a.as_slice()].concat()));
        order[..3].to_vec()
    };

    let mut body = hello(HELLO_HASH);
    body["trustTier"] = json!(3);
    body["escalation"] = json!("auto");
    let mut prepared = Value::Null;
    for _ in 0..40 {
        let (status, _, p) = post(&c, "/jobs/prepare", &body, Some(&commitment(&env, 3000))).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(
            p["poolHash"].as_str().unwrap(),
            hex::encode(keccak256(&pool_bytes)),
            "the pool is the eight workers"
        );
        if first_jury(p["jurySeed"].as_str().unwrap()).contains(&liar) {
            prepared = p;
            break;
        }
    }
    assert!(
        prepared.is_object(),
        "a seed seating the liar in 40 tries (3 in 8 each)"
    );
    let job_id = prepared["jobId"].as_str().unwrap().to_string();
    let funding = fund(&env, &prepared).await;
    let confirm =
        json!({"prepareId": prepared["prepareId"], "transactionHash": funding.to_string()});
    let (status, v) = c.post("/jobs", confirm, &[]).await;
    assert_eq!(status, 202, "{v}");
    let result = settled(&c, &job_id, "released", Duration::from_secs(120)).await;
    assert_eq!(result["result"], "VALID", "{result}");
    let (_, view) = c.get(&format!("/jobs/{job_id}")).await;
    assert_eq!(
        view["settlement"], result["settlement"],
        "the full record: {view}"
    );
    assert_eq!(view["payment"]["scheme"], "escrow", "{view}");
    let rounds = view["jury"]["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "split, then a fresh jury: {view}");
    assert_eq!(
        rounds[0]["dissenting"],
        json!([liar.to_checksum(None)]),
        "{view}"
    );
    let deciding: Vec<Address> = rounds[1]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(deciding.len(), 5);
    let payouts = result["settlement"]["payouts"].as_array().unwrap();
    assert_eq!(
        payouts.len(),
        5,
        "five seats, nothing left for the operator: {result}"
    );
    for juror in &deciding {
        assert_eq!(balance(&env, *juror).await, U256::from(900), "{result}");
    }
    for worker in pool.iter().filter(|w| !deciding.contains(w)) {
        assert_eq!(
            balance(&env, *worker).await,
            U256::ZERO,
            "only the deciding jury is paid"
        );
    }
    let (_, w) = c.get(&format!("/workers/{liar}")).await;
    assert_eq!(w["earnings"], 0, "{w}");
    assert_eq!(
        balance(&env, addr(0)).await,
        U256::from(10_000 - 1500),
        "the operator paid the two extra seats"
    );
    assert_eq!(balance(&env, env.d.escrow).await, U256::ZERO);
    c.shutdown().await;
}

/// `--max-jobs-per-payer` holds in the marketplace too: a confirmation past the payer's limit
/// is a 429 that leaves the deposit unused, and the same confirmation succeeds once the payer's
/// running job has settled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payer_at_its_limit_confirms_again_once_a_job_has_ended() {
    use crate::support::busy_guest;

    let env = PaidEnv::start().await;
    let mut config = env.config(1);
    if let Some(p) = config.payments.as_mut() {
        p.max_jobs_per_payer = 1;
    }
    let c = Coordinator::start(config).await;
    env.mint(addr(PAYER), 1_000_000).await;
    let mut confirmations = Vec::new();
    for body in [busy_guest(2000, 30), hello(HELLO_HASH)] {
        let (status, _, prepared) =
            post(&c, "/jobs/prepare", &body, Some(&commitment(&env, 1000))).await;
        assert_eq!(status, 200, "{prepared}");
        let funding = fund(&env, &prepared).await;
        confirmations.push((
            prepared["jobId"].as_str().unwrap().to_string(),
            json!({"prepareId": prepared["prepareId"], "transactionHash": funding.to_string()}),
        ));
    }
    let (status, v) = c.post("/jobs", confirmations[0].1.clone(), &[]).await;
    assert_eq!(status, 202, "{v}");
    let (status, v) = c.post("/jobs", confirmations[1].1.clone(), &[]).await;
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["params"]["limit"], 1, "{v}");
    settled(&c, &confirmations[0].0, "released", Duration::from_secs(60)).await;
    let (status, v) = c.post("/jobs", confirmations[1].1.clone(), &[]).await;
    assert_eq!(
        status, 202,
        "the same confirmation, now within the limit: {v}"
    );
    let result = settled(&c, &confirmations[1].0, "released", Duration::from_secs(60)).await;
    assert_eq!(result["result"], "VALID", "{result}");
    c.shutdown().await;
}
