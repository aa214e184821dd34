//! Notary as an ERC-8004 validator (issue 13): an agent's owner registers the agent, opens a
//! validation request naming Notary's chain key, pays for a job naming the `requestHash`, and
//! reads the verdict back from the Validation Registry with `getValidationStatus`.

use std::time::{Duration, Instant};

use alloy::primitives::{Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolEvent};
use notary_coordinator::chain::contracts::{AgentIdentityRegistry as Identity, ValidationRegistry};
use notary_coordinator::chain::Chain;
use serde_json::{json, Value};

use crate::payments::{addr, paid_post, PaidEnv, PRICE};
use crate::support::{hello, Coordinator, HELLO_HASH};

const AGENT_OWNER: usize = 2;
const STRANGER: usize = 3;

/// Opens a validation request for `agent` naming `validator`; returns its hash.
async fn open_request(
    owner: &Chain,
    env: &PaidEnv,
    agent: U256,
    validator: alloy::primitives::Address,
    n: u8,
) -> B256 {
    let hash = B256::repeat_byte(0x40 + n);
    let call = ValidationRegistry::validationRequestCall {
        validatorAddress: validator,
        agentId: agent,
        requestURI: format!("https://agent.example/work/{n}"),
        requestHash: hash,
    };
    owner
        .transact(
            Some(env.d.validation),
            U256::ZERO,
            Bytes::from(call.abi_encode()),
        )
        .await
        .unwrap();
    hash
}

/// Pays for `body` with ETH from account 1; the final view.
async fn paid_job(env: &PaidEnv, c: &Coordinator, body: Value) -> Value {
    let (status, pending) = c.verify(body).await;
    assert_eq!(status, 402, "{pending}");
    let job = pending["jobId"].as_str().unwrap().to_string();
    let tx = env.pay(1, addr(0), PRICE).await;
    let (status, view) = paid_post(c, json!({}), &job, &tx).await;
    assert_eq!(status, 200, "{view}");
    view
}

/// Waits for the registry to hold an answer to `request`.
async fn answered(
    registry: &ValidationRegistry::ValidationRegistryInstance<alloy::providers::DynProvider>,
    request: B256,
) -> ValidationRegistry::getValidationStatusReturn {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = registry.getValidationStatus(request).call().await.unwrap();
        if status.lastUpdate != U256::ZERO {
            return status;
        }
        assert!(Instant::now() < deadline, "never answered: {request}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_naming_an_erc8004_request_answers_it_in_the_validation_registry() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(1)).await;
    let owner = env.account(AGENT_OWNER).await;
    let registry = ValidationRegistry::new(env.d.validation, env.owner.provider().clone());

    // The agent is an ERC-721 token of the identity registry; only its owner opens requests.
    let receipt = owner
        .transact(
            Some(env.d.identity),
            U256::ZERO,
            Bytes::from(
                Identity::registerCall {
                    agentURI: "https://agent.example/card.json".into(),
                }
                .abi_encode(),
            ),
        )
        .await
        .unwrap();
    let agent = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| Identity::Registered::decode_log(&l.inner).ok())
        .expect("a Registered event")
        .agentId;
    let stranger = env.account(STRANGER).await;
    let refused = stranger
        .transact(
            Some(env.d.validation),
            U256::ZERO,
            Bytes::from(
                ValidationRegistry::validationRequestCall {
                    validatorAddress: addr(0),
                    agentId: agent,
                    requestURI: String::new(),
                    requestHash: B256::repeat_byte(1),
                }
                .abi_encode(),
            ),
        )
        .await;
    assert!(
        refused.is_err(),
        "a stranger cannot open a request for the agent"
    );

    let valid = open_request(&owner, &env, agent, addr(0), 1).await;
    let invalid = open_request(&owner, &env, agent, addr(0), 2).await;
    let elsewhere = open_request(&owner, &env, agent, addr(5), 3).await;

    // Refused before any payment: malformed, unknown, or naming another validator.
    let with = |hash: Value, expected: &str| {
        let mut body = hello(expected);
        body["erc8004RequestHash"] = hash;
        body
    };
    for (hash, needle) in [
        (json!("0x1234"), "0x and 64 hex"),
        (
            json!(B256::repeat_byte(9).to_string()),
            "no validation request",
        ),
        (json!(elsewhere.to_string()), "names the validator"),
    ] {
        let (status, v) = c.verify(with(hash, HELLO_HASH)).await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["params"]["field"], "erc8004RequestHash", "{v}");
        assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
    }

    // A VALID job answers 100; an INVALID one 0; each with its result URL, the attestation's
    // digest and the deciding tier.
    let view = paid_job(&env, &c, with(json!(valid.to_string()), HELLO_HASH)).await;
    assert_eq!(view["result"], "VALID", "{view}");
    assert_eq!(view["erc8004RequestHash"], valid.to_string(), "{view}");
    let status = answered(&registry, valid).await;
    assert_eq!(status.validatorAddress, addr(0));
    assert_eq!(status.agentId, agent);
    assert_eq!(status.response, 100);
    assert_eq!(status.tag, "notary.tier-1");
    assert_eq!(
        status.responseHash.to_string(),
        view["attestation"]["signingHash"].as_str().unwrap(),
        "the attestation digest"
    );

    let wrong = "00".repeat(32);
    let view = paid_job(&env, &c, with(json!(invalid.to_string()), &wrong)).await;
    assert_eq!(view["result"], "INVALID", "{view}");
    let status = answered(&registry, invalid).await;
    assert_eq!(status.response, 0);
    assert_eq!(status.tag, "notary.tier-1");

    // The answer names the job's result URL, and each request was answered once.
    let logs = env
        .owner
        .provider()
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(env.d.validation)
                .event_signature(ValidationRegistry::ValidationResponse::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let answers: Vec<_> = logs
        .iter()
        .map(|l| ValidationRegistry::ValidationResponse::decode_log(&l.inner).unwrap())
        .collect();
    assert_eq!(answers.len(), 2, "one answer per request");
    let job = view["jobId"].as_str().unwrap();
    let last = answers
        .iter()
        .find(|a| a.requestHash == invalid)
        .expect("the INVALID job's answer");
    assert_eq!(
        last.responseURI,
        format!("http://notary.test/jobs/{job}/result")
    );
    let (status, result) = c.get(&format!("/jobs/{job}/result")).await;
    assert_eq!((status, &result["result"]), (200, &json!("INVALID")));
    c.shutdown().await;
}
