//! The data-transformation and api-replay task types, end to end.

use notary_protocol::canonical::to_canonical_string;
use serde_json::{json, Value};

use crate::modules::submit_and_wait;
use crate::support::*;

fn transformation(code: &str, input: Value, expected: &str) -> Value {
    json!({"taskType": "data-transformation", "code": code, "inputData": input, "expectedHash": expected})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_transformation_hashes_canonical_json() {
    let c = Coordinator::embedded(2).await;
    // The expected value, canonicalized by the Rust implementation (not by the guest).
    let canonical = to_canonical_string(&json!({
        "a": {"x": "é\n", "y": [1.5, 2, 0.1]},
        "b": 4,
        "c": 1e21,
        "d": [null, true, "z"],
    }))
    .unwrap();
    assert_eq!(
        canonical,
        "{\"a\":{\"x\":\"é\\n\",\"y\":[1.5,2,0.1]},\"b\":4,\"c\":1e+21,\"d\":[null,true,\"z\"]}"
    );
    let expected = sha256_hex(canonical.as_bytes());

    // Two programs building the same value with different key orders, number spellings and
    // shapes (an arrow expression; a module exporting an async function that also logs).
    let a = transformation(
        "(input) => ({d: [null, true, 'z'], c: 1e21, b: input.n * 2.0, a: {y: [3 / 2, 2.0, 0.1], x: 'é\\n'}})",
        json!({"n": 2}),
        &expected,
    );
    let b = transformation(
        "module.exports = async function (input) {\n  console.log('not part of the output');\n  const out = {};\n  out.a = {x: 'é\\n', y: [1.5, 2, 1 / 10]};\n  out.b = input.n + input.n;\n  out.c = 1000000000000000000000;\n  out.d = [null, true, 'z', undefined].slice(0, 3);\n  out.skipped = undefined;\n  return out;\n};",
        json!({"n": 2.0}),
        &expected,
    );
    let ra = submit_and_wait(&c, a).await;
    let rb = submit_and_wait(&c, b).await;
    for r in [&ra, &rb] {
        assert_eq!(r["result"], "VALID", "{r}");
        assert_eq!(r["actualHash"], expected);
        assert_eq!(r["output"], canonical);
        assert_eq!(r["taskType"], "data-transformation");
    }
    // Different programs: different code hashes, same output hash.
    assert_ne!(ra["codeHash"], rb["codeHash"]);

    // A thrown error is ERROR, with the error in the message.
    let thrown = submit_and_wait(
        &c,
        transformation(
            "(input) => { throw new RangeError('no rows in ' + input.table) }",
            json!({"table": "t1"}),
            &expected,
        ),
    )
    .await;
    assert_eq!(thrown["result"], "ERROR", "{thrown}");
    let message = thrown["errorMessage"].as_str().unwrap();
    assert!(message.contains("RangeError: no rows in t1"), "{message}");

    // A rejected promise and a non-function are ERROR too.
    let rejected = submit_and_wait(
        &c,
        transformation(
            "async () => { throw new Error('later') }",
            json!(1),
            &expected,
        ),
    )
    .await;
    assert_eq!(rejected["result"], "ERROR", "{rejected}");
    assert!(rejected["errorMessage"].as_str().unwrap().contains("later"));
    let not_fn = submit_and_wait(&c, transformation("42", json!(1), &expected)).await;
    assert_eq!(not_fn["result"], "ERROR", "{not_fn}");
    assert!(
        not_fn["errorMessage"]
            .as_str()
            .unwrap()
            .contains("must be a function"),
        "{not_fn}"
    );
    c.shutdown().await;
}

fn transcript() -> Value {
    json!({
        "exchanges": [
            {
                "request": {"method": "GET", "url": "https://api.example.com/users/1", "headers": {"accept": "application/json"}},
                "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"id": 1, "name": "Ada"}}
            },
            {
                "request": {"method": "POST", "url": "https://api.example.com/orders/search", "body": "{\"user\":1}"},
                "response": {"status": 200, "headers": {"content-type": "application/json"},
                             "body": {"orders": [{"id": "o1", "total": 1250}, {"id": "o2", "total": 399}]}}
            },
            {
                "request": {"method": "GET", "url": "https://api.example.com/health"},
                "response": {"status": 200, "body": "ok"}
            }
        ]
    })
}

const SUMMARY: &str = r#"
const user = await (await fetch('https://api.example.com/users/1')).json();
const res = await fetch('https://api.example.com/orders/search', {method: 'post', body: JSON.stringify({user: user.id})});
const {orders} = await res.json();
const total = orders.reduce((sum, o) => sum + o.total, 0);
console.log(`${user.name}: ${orders.length} orders, ${(total / 100).toFixed(2)} total (${res.status} ${res.headers.get('Content-Type')})`);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_replay_answers_fetch_from_the_transcript() {
    let c = Coordinator::embedded(2).await;
    let program = format!("(async () => {{{SUMMARY}}})();");
    let expected_output = "Ada: 2 orders, 16.49 total (200 application/json)\n";
    let expected = sha256_hex(expected_output.as_bytes());
    let body = submit_and_wait(
        &c,
        json!({"taskType": "api-replay", "code": program, "inputData": transcript(), "expectedHash": expected}),
    )
    .await;
    assert_eq!(body["result"], "VALID", "{body}");
    assert_eq!(body["output"], expected_output);

    // A request that is not in the transcript ends the run: ERROR, naming the request, even
    // though the program tries to catch it.
    let program = "(async () => {\n  try { await fetch('https://api.example.com/users/2'); } catch (e) { console.log('caught'); }\n  console.log('carried on');\n})();";
    let body = submit_and_wait(
        &c,
        json!({"taskType": "api-replay", "code": program, "inputData": transcript(), "expectedHash": expected}),
    )
    .await;
    assert_eq!(body["result"], "ERROR", "{body}");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("request not in the transcript: GET https://api.example.com/users/2"),
        "{message}"
    );
    assert_eq!(body["output"], "");

    // A malformed transcript is refused before anything runs.
    let (status, body) = c
        .verify(json!({"taskType": "api-replay", "code": "1", "inputData": {"exchanges": [{"request": {}}]}, "expectedHash": expected}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["params"]["field"], "inputData");
    c.shutdown().await;
}

/// A registered JavaScript module can be the function of a data-transformation job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_transformation_by_module_hash() {
    let c = Coordinator::embedded(1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("totals.js");
    std::fs::write(
        &file,
        "module.exports = (rows) => rows.reduce((acc, r) => ({...acc, [r.city]: (acc[r.city] || 0) + r.amount}), {});\n",
    )
    .unwrap();
    let package = notary_pack::build_package(
        &file,
        &notary_pack::PackOptions::default(),
        &notary_worker::sandbox::ValidationLimits::default(),
    )
    .unwrap();
    let hash = notary_pack::publish(&c.url, &package).await.unwrap();
    let expected = sha256_hex(br#"{"Berlin":1,"Paris":3}"#);
    let body = submit_and_wait(
        &c,
        json!({
            "taskType": "data-transformation",
            "moduleHash": hash.to_hex(),
            "inputData": [{"city": "Paris", "amount": 2.5}, {"city": "Berlin", "amount": 1}, {"city": "Paris", "amount": 0.5}],
            "expectedHash": expected,
        }),
    )
    .await;
    assert_eq!(body["result"], "VALID", "{body}");
    assert_eq!(body["moduleHash"], hash.to_hex());
    c.shutdown().await;
}
