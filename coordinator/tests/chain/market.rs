//! The marketplace flow on a real node (issue 13): prepare (402, then the official x402
//! client's signature), fund the escrow, confirm, a tier-3 job, and the deposit released to the
//! three jurors and the operator in the right amounts; a transaction that does not fund the job
//! is refused.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, Bytes, B256, U256};
use base64::Engine;
use notary_coordinator::chain::contracts::TestUSDC;
use notary_coordinator::chain::{parse_key, Chain};
use serde_json::{json, Value};

use crate::hardhat::DEV_KEYS;
use crate::payments::{addr, authorization, official_x402_client, PaidEnv};
use crate::support::{client, hello, Coordinator, HELLO_HASH};

const PAYER: usize = 4;

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

async fn balance(env: &PaidEnv, who: Address) -> U256 {
    TestUSDC::new(env.d.token, env.owner.provider())
        .balanceOf(who)
        .call()
        .await
        .unwrap()
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
    let payer = Chain::connect(
        &env.node.url,
        Some(84532),
        Some(parse_key(DEV_KEYS[PAYER]).unwrap()),
    )
    .await
    .unwrap();
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
    let deadline = Instant::now() + Duration::from_secs(90);
    let result = loop {
        let (_, r) = c.get(&format!("/jobs/{job_id}/result")).await;
        if r["settlement"]["state"] == "released" {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "never released: {} {}",
            r["settlement"],
            r["status"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
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
