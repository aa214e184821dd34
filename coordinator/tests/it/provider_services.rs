//! Provider services (issue 12): a registered provider declares, lists and withdraws what it
//! serves (refusals name the field or the reason), `GET /workers/:address` shows them, and jury
//! selection seats a provider that declared services only for jobs one of them covers.

use std::time::Duration;

use notary_protocol::{Address, WorkerKey};
use serde_json::{json, Value};

use crate::support::{
    actor_request, hello, test_config, wait_alive, Coordinator, WorkerProcess, HELLO_HASH,
};

const RUNTIME: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

async fn call(
    c: &Coordinator,
    key: &WorkerKey,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let resp = actor_request(c, key, method, path, body.as_ref(), None).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn services_of(key: &WorkerKey) -> String {
    format!("/providers/{}/services", key.address())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_declares_lists_and_withdraws_its_services() {
    let c = Coordinator::embedded(0).await;
    let provider = WorkerKey::generate();
    let verifier = WorkerKey::generate();
    let registration = json!({"configHash": RUNTIME, "engine": "cranelift"});
    let (status, _) = call(
        &c,
        &provider,
        "POST",
        "/providers/register",
        Some(registration.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &c,
        &verifier,
        "POST",
        "/verifiers/register",
        Some(registration),
    )
    .await;
    assert_eq!(status, 201);
    let js = json!({"language": "javascript", "price": "1000"});

    // Who may declare: the provider itself, registered as one.
    let stranger = WorkerKey::generate();
    for (key, path, reason) in [
        (&stranger, services_of(&provider), "not_your_provider"),
        (&stranger, services_of(&stranger), "not_registered"),
        (&verifier, services_of(&verifier), "wrong_role"),
    ] {
        let (status, v) = call(&c, key, "POST", &path, Some(js.clone())).await;
        assert_eq!(
            (status, &v["params"]["reason"]),
            (403, &json!(reason)),
            "{v}"
        );
    }
    // What: one target, a whole price, nothing else.
    let hash = format!("0x{}", "ab".repeat(32));
    for (body, field) in [
        (json!({"price": "1"}), "moduleHash"),
        (
            json!({"language": "wasm", "moduleHash": hash, "price": "1"}),
            "language",
        ),
        (json!({"language": "python", "price": "1"}), "language"),
        (json!({"moduleHash": "ab", "price": "1"}), "moduleHash"),
        (json!({"language": "wasm"}), "price"),
        (json!({"language": "wasm", "price": "-1"}), "price"),
        (json!({"language": "wasm", "price": "1.5"}), "price"),
        (json!({"language": "wasm", "price": 1.5}), "price"),
        (
            json!({"language": "wasm", "price": "1", "currency": "usd"}),
            "currency",
        ),
    ] {
        let (status, v) = call(
            &c,
            &provider,
            "POST",
            &services_of(&provider),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, &v["params"]["field"]),
            (400, &json!(field)),
            "{body}: {v}"
        );
    }

    let (status, first) = call(&c, &provider, "POST", &services_of(&provider), Some(js)).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["serviceId"], "language:javascript");
    assert_eq!(first["language"], "javascript");
    assert_eq!(first["price"], "1000");
    let dearer = json!({"language": "javascript", "price": 2500});
    let (status, again) = call(&c, &provider, "POST", &services_of(&provider), Some(dearer)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["price"], "2500");
    assert_eq!(again["createdAtMs"], first["createdAtMs"]);
    let module = json!({"moduleHash": hash, "price": "0"});
    let (status, m) = call(&c, &provider, "POST", &services_of(&provider), Some(module)).await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["serviceId"], format!("module:{}", "ab".repeat(32)));

    let (status, list) = c.get(&services_of(&provider)).await;
    assert_eq!(status, 200);
    assert_eq!(list["services"], json!([again, m]), "{list}");
    let (_, worker) = c.get(&format!("/workers/{}", provider.address())).await;
    assert_eq!(worker["services"], list["services"], "{worker}");
    assert_eq!(c.get(&services_of(&verifier)).await.0, 404);
    assert_eq!(c.get("/providers/0x12/services").await.0, 400);

    let path = format!("{}/language:javascript", services_of(&provider));
    let (status, v) = call(&c, &stranger, "DELETE", &path, None).await;
    assert_eq!(
        (status, &v["params"]["reason"]),
        (403, &json!("not_your_provider"))
    );
    assert_eq!(call(&c, &provider, "DELETE", &path, None).await.0, 204);
    assert_eq!(call(&c, &provider, "DELETE", &path, None).await.0, 404);
    let (_, list) = c.get(&services_of(&provider)).await;
    assert_eq!(list["services"], json!([m]));
    c.shutdown().await;
}

/// Four remote workers; two declare only `wasm`: a tier-3 JavaScript job finds two workers
/// serving it (503 `jury_unavailable`) until one of them adds `javascript`; the jury's pool
/// then leaves out the one that still serves only wasm, and the job completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn juries_seat_only_providers_serving_the_job() {
    let redis = notary_queue::test_utils::RedisServer::start();
    let mut config = test_config(Some(redis.url()), 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let keys: Vec<WorkerKey> = (0..4).map(|_| WorkerKey::generate()).collect();
    let _workers: Vec<WorkerProcess> = keys
        .iter()
        .map(|k| WorkerProcess::remote(&c.url, 1, k))
        .collect();
    wait_alive(&redis.url(), &prefix, 4).await;
    // Registered (the worker registers before it polls): declare.
    let wasm = json!({"language": "wasm", "price": "5"});
    for key in &keys[2..] {
        let (status, v) = call(&c, key, "POST", &services_of(key), Some(wasm.clone())).await;
        assert_eq!(status, 201, "{v}");
    }
    let mut job = hello(HELLO_HASH);
    job["trustTier"] = json!(3);
    let (status, refused) = c.verify(job.clone()).await;
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["params"]["reason"], "jury_unavailable", "{refused}");
    assert_eq!(refused["params"]["eligibleWorkers"], 2, "{refused}");

    let js = json!({"language": "javascript", "price": "5"});
    let (status, _) = call(&c, &keys[2], "POST", &services_of(&keys[2]), Some(js)).await;
    assert_eq!(status, 201);
    let id = crate::support::submit_async(&c, job).await;
    let view = c.wait_final(&id, Duration::from_secs(90)).await;
    assert_eq!(view["status"], "completed", "{view}");
    let pool: Vec<Address> = serde_json::from_value(view["jury"]["pool"].clone()).unwrap();
    let mut expected: Vec<Address> = keys[..3].iter().map(WorkerKey::address).collect();
    expected.sort();
    assert_eq!(
        pool, expected,
        "the wasm-only provider is not in the pool: {view}"
    );
    c.shutdown().await;
}
