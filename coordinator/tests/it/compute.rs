//! Document 001's compute-node routes (issue 14) with real JavaScript modules on an embedded
//! node: a three-step chain's final and intermediate results, a failing middle step, a batch
//! with a bad item among good ones, the caller's `pending` filter, and the chain's link in
//! each step's attestation.

use std::time::{Duration, Instant};

use notary_protocol::sha256;
use serde_json::{json, Value};

use crate::support::*;

/// Publishes JavaScript `source` as the module `name@0.1.0`.
async fn publish(c: &Coordinator, name: &str, source: &str) {
    publish_file(c, name, "js", source).await;
}

async fn node() -> Coordinator {
    let c = Coordinator::embedded(2).await;
    publish(
        &c,
        "add",
        "console.log(JSON.stringify({n: inputData.n + 1}));",
    )
    .await;
    publish(
        &c,
        "double",
        "console.log(JSON.stringify({n: inputData.n * 2}));",
    )
    .await;
    publish(&c, "boom", "throw new Error('boom: ' + inputData.n);").await;
    publish(&c, "words", "console.log('n is ' + inputData.n);").await;
    c
}

/// Waits until every chain in `ids` is no longer running; their results.
async fn finished(c: &Coordinator, ids: &[&str], intermediate: bool) -> Vec<Value> {
    let query: Vec<String> = ids.iter().map(|id| format!("id={id}")).collect();
    let path = format!("/api/jobs?{}&intermediate={intermediate}", query.join("&"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, v) = c.get(&path).await;
        assert_eq!(status, 200, "{v}");
        let all = v.as_array().unwrap().clone();
        if all.len() == ids.len() && all.iter().all(|r| r["status"] != "running") {
            return all;
        }
        assert!(Instant::now() < deadline, "still running: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts a chain of `containers` on `data`; its id.
async fn chain(c: &Coordinator, containers: &[&str], data: Value) -> String {
    let (status, v) = c
        .post(
            "/api/jobs",
            json!({"containers": containers, "data": data}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_step_chain_passes_each_output_on_and_attests_the_chain() {
    let c = node().await;
    let id = chain(
        &c,
        &["add@0.1.0", "double@0.1.0", "words@0.1.0"],
        json!({"n": 4}),
    )
    .await;
    let r = &finished(&c, &[&id], true).await[0];
    assert_eq!(r["status"], "success", "{r}");
    assert_eq!(
        r["result"],
        json!({"container": "words@0.1.0", "output": "n is 10\n"}),
        "(4 + 1) * 2, as text: {r}"
    );
    assert_eq!(
        r["intermediate_results"],
        json!([
            {"container": "add@0.1.0", "output": {"n": 5}},
            {"container": "double@0.1.0", "output": {"n": 10}},
        ]),
        "{r}"
    );
    // Each step is a job of its own; each reads exactly what the previous one wrote, and each
    // signs the chain's link (its expectedHash) so the last attestation names the chain.
    let steps: Vec<String> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0], id);
    let mut link = None::<String>;
    let mut previous_output = None::<String>;
    for step in &steps {
        let (_, job) = c.get(&format!("/jobs/{step}")).await;
        let fields = &job["attestation"]["fields"];
        if let Some(out) = &previous_output {
            assert_eq!(&fields["inputHash"], out, "input = the previous output");
        }
        if let Some(l) = &link {
            assert_eq!(&fields["expectedHash"], l, "the link to the previous step");
        }
        previous_output = Some(fields["outputHash"].as_str().unwrap().to_string());
        let signing = job["attestation"]["signingHash"].as_str().unwrap();
        let mut bytes = hex::decode(fields["expectedHash"].as_str().unwrap()).unwrap();
        bytes.extend(hex::decode(signing.trim_start_matches("0x")).unwrap());
        link = Some(sha256(&bytes).to_hex());
    }
    assert_eq!(r["chain_hash"].as_str(), link.as_deref(), "{r}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_middle_step_is_that_containers_error_and_the_chain_stops() {
    let c = node().await;
    let id = chain(
        &c,
        &["add@0.1.0", "boom@0.1.0", "double@0.1.0"],
        json!({"n": 1}),
    )
    .await;
    let r = &finished(&c, &[&id], true).await[0];
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["result"]["container"], "boom@0.1.0", "{r}");
    assert!(
        r["result"]["error"].as_str().unwrap().contains("boom: 2"),
        "{r}"
    );
    assert_eq!(
        r["intermediate_results"],
        json!([{"container": "add@0.1.0", "output": {"n": 2}}])
    );
    assert_eq!(
        r["steps"].as_array().unwrap().len(),
        2,
        "the third never ran"
    );
    // Without ?intermediate, no intermediate results.
    let r = &finished(&c, &[&id], false).await[0];
    assert!(r.get("intermediate_results").is_none(), "{r}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_and_a_batch_with_one_bad_item() {
    let c = node().await;
    for (body, needle) in [
        (json!({"containers": [], "data": {}}), "must not be empty"),
        (
            json!({"containers": ["nope@1"], "data": {}}),
            "unknown container",
        ),
        (json!({"containers": ["add@0.1.0"]}), "data is required"),
        (
            json!({"containers": ["add@0.1.0"], "data": {}, "x": 1}),
            "unknown field",
        ),
        (
            json!({"containers": vec!["add@0.1.0"; 9], "data": {}}),
            "at most 8 containers",
        ),
    ] {
        let (status, v) = c.post("/api/jobs", body, &[]).await;
        assert_eq!(status, 400, "{v}");
        assert!(
            v["error"].as_str().unwrap().contains(needle),
            "{needle}: {v}"
        );
        assert!(v.get("message").is_none(), "document 001's shape: {v}");
    }
    let (status, v) = c
        .post("/api/jobs/batch", json!({"containers": []}), &[])
        .await;
    assert_eq!(status, 400, "not an array: {v}");

    let (status, v) = c
        .post(
            "/api/jobs/batch",
            json!([
                {"containers": ["add@0.1.0"], "data": {"n": 1}},
                {"containers": ["missing@9"], "data": {"n": 1}},
                {"containers": ["double@0.1.0"], "data": {"n": 3}},
            ]),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items[1]["error"]
        .as_str()
        .unwrap()
        .contains("unknown container"));
    let (a, b) = (
        items[0]["id"].as_str().unwrap(),
        items[2]["id"].as_str().unwrap(),
    );
    let results = finished(&c, &[a, b], false).await;
    assert_eq!(results[0]["result"]["output"], json!({"n": 2}));
    assert_eq!(results[1]["result"]["output"], json!({"n": 6}));
    // Unknown ids are left out; a bad id is a 400.
    let (status, v) = c
        .get(&format!("/api/jobs?id={a}&id={}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!((status, v.as_array().unwrap().len()), (200, 1), "{v}");
    let (status, _) = c.get("/api/jobs?id=xyz").await;
    assert_eq!(status, 400);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_chains_are_listed_and_filtered_by_pending() {
    let c = node().await;
    let done = chain(&c, &["add@0.1.0"], json!({"n": 1})).await;
    finished(&c, &[&done], false).await;
    // A long one, still running while we look.
    publish_wat(&c, "slow", CHATTY).await;
    let slow = chain(&c, &["slow@0.1.0"], json!({})).await;
    let (_, all) = c.get("/api/jobs").await;
    let all: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(all, vec![slow.as_str(), done.as_str()], "newest first");
    let (_, pending) = c.get("/api/jobs?pending=true").await;
    assert_eq!(pending, json!([slow]));
    let (_, over) = c.get("/api/jobs?pending=false").await;
    assert_eq!(over, json!([done]));
    let (status, v) = c.get("/api/jobs?pending=maybe").await;
    assert_eq!(status, 400, "{v}");
    finished(&c, &[&slow], false).await;
    c.shutdown().await;
}

/// Publishes a wasm guest (WebAssembly text) as `name@0.1.0`.
async fn publish_wat(c: &Coordinator, name: &str, wat: &str) {
    publish_file(c, name, "wat", wat).await;
}

/// Writes "first\n", computes for about a second, writes "second\n".
const CHATTY: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "first\n")
  (data (i32.const 272) "second\n")
  (func $say (param $at i32) (param $len i32)
    (i32.store (i32.const 200) (local.get $at))
    (i32.store (i32.const 204) (local.get $len))
    (drop (call $write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 208))))
  (func (export "_start")
    (local $i i64) (local $x i64)
    (call $say (i32.const 256) (i32.const 6))
    (local.set $i (i64.const 200000000))
    (loop $l
      (local.set $x (i64.div_u (i64.or (local.get $x) (i64.const 0x7000000000000000)) (i64.const 7)))
      (br_if $l (i64.ne (local.tee $i (i64.sub (local.get $i) (i64.const 1))) (i64.const 0))))
    (call $say (i32.const 272) (i32.const 7))))"#;

/// Streams a job of `container` (a guest that prints "first", computes, prints "second"):
/// the first line arrives while the job still runs, the streamed bytes hash to the recorded
/// (attested) output, and the chain succeeds. The output.
async fn stream_and_check(c: &Coordinator, container: &str) -> String {
    let mut resp = client()
        .post(format!("{}/api/jobs/stream", c.url))
        .json(&json!({"containers": [container], "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut received = Vec::new();
    let mut running_when_first_line_came = None;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        received.extend_from_slice(&chunk);
        let text = String::from_utf8_lossy(&received).to_string();
        if running_when_first_line_came.is_none() && text.contains("first\n") {
            let id = text.lines().next().unwrap().to_string();
            let (_, r) = c.get(&format!("/api/jobs?id={id}")).await;
            running_when_first_line_came = Some(r[0]["status"] == "running");
        }
    }
    let text = String::from_utf8(received).unwrap();
    let (id, output) = text.split_once('\n').unwrap();
    let (_, job) = c.get(&format!("/jobs/{id}")).await;
    assert!(output.starts_with("first\nsecond"), "{text} {job}");
    assert_eq!(
        running_when_first_line_came,
        Some(true),
        "{container}: the first line came before the job ended"
    );
    assert_eq!(
        job["attestation"]["fields"]["outputHash"],
        sha256(output.as_bytes()).to_hex(),
        "the streamed bytes are the attested output"
    );
    let r = &finished(c, &[id], false).await[0];
    assert_eq!(r["status"], "success", "{r}");
    output.to_string()
}

/// A guest that prints, computes, prints, in wasm and in JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_job_sends_its_output_as_it_is_written() {
    let c = node().await;
    publish_wat(&c, "chatty", CHATTY).await;
    let (status, v) = c
        .post(
            "/api/jobs/stream",
            json!({"containers": ["add@0.1.0", "chatty@0.1.0"], "data": {}}),
            &[],
        )
        .await;
    assert_eq!(status, 400, "one container only: {v}");

    assert_eq!(
        stream_and_check(&c, "chatty@0.1.0").await,
        "first\nsecond\n"
    );
    // JavaScript too: the runtime flushes stdout at every console call.
    publish(
        &c,
        "chatty-js",
        "console.log('first'); let x = 0; \
         for (let i = 0; i < 5e6; i++) x = (x * 31 + i) % 1000003; \
         console.log('second', x);",
    )
    .await;
    let output = stream_and_check(&c, "chatty-js@0.1.0").await;
    assert!(output.starts_with("first\nsecond "), "{output}");

    // A client that hangs up after the id does not stop or lose the job.
    let mut resp = client()
        .post(format!("{}/api/jobs/stream", c.url))
        .json(&json!({"containers": ["chatty@0.1.0"], "data": {}}))
        .send()
        .await
        .unwrap();
    let first = resp.chunk().await.unwrap().unwrap();
    let id = String::from_utf8_lossy(&first)
        .lines()
        .next()
        .unwrap()
        .to_string();
    drop(resp);
    let r = &finished(&c, &[&id], true).await[0];
    assert_eq!(r["status"], "success", "{r}");
    assert_eq!(r["result"]["output"], "first\nsecond\n", "{r}");
    c.shutdown().await;
}

/// In a fleet the job runs in a `notary-worker` process: its writes reach the stream through
/// the job's output log in Redis, as they are made (wasm and JavaScript).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_streamed_from_a_fleet_worker_arrives_as_it_is_written() {
    let redis = notary_queue::test_utils::RedisServer::start();
    let key = notary_protocol::WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let _worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &key);
    wait_alive(&redis.url(), &prefix, 1).await;
    stream_both_guests(&c).await;
    c.shutdown().await;
}

/// A worker of the open fleet (no Redis, leasing over HTTP) sends its writes to the
/// coordinator as they are made (`POST /assignments/:id/output`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_streamed_from_an_open_fleet_worker_arrives_as_it_is_written() {
    let mut config = test_config(None, 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let c = Coordinator::start(config).await;
    let _worker = WorkerProcess::remote(&c.url, 1, &notary_protocol::WorkerKey::generate());
    stream_both_guests(&c).await;
    c.shutdown().await;
}

/// Publishes the chatty guests (wasm and JavaScript) and streams each.
async fn stream_both_guests(c: &Coordinator) {
    publish_wat(c, "chatty", CHATTY).await;
    publish(
        c,
        "chatty-js",
        "console.log('first'); let x = 0; \
         for (let i = 0; i < 5e6; i++) x = (x * 31 + i) % 1000003; \
         console.log('second', x);",
    )
    .await;
    assert_eq!(stream_and_check(c, "chatty@0.1.0").await, "first\nsecond\n");
    let output = stream_and_check(c, "chatty-js@0.1.0").await;
    assert!(output.starts_with("first\nsecond "), "{output}");
}
