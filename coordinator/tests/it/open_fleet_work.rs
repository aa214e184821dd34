//! The open fleet's work (issue 12): what a submission must pass, `reverify` on an honest and a
//! changed record, and which seats verifier-only and suspended workers are offered.

use std::time::Duration;

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisServer;
use serde_json::{json, Value};

use crate::open_fleet::{register, registration};
use crate::support::{hello, submit_async, test_config, Coordinator, WorkerProcess, HELLO_HASH};

/// Signed GET/POST of `path` as `key`, with a worker id.
async fn call(
    c: &Coordinator,
    key: &WorkerKey,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let resp = crate::support::actor_request(c, key, method, path, body, Some("t-1")).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// What a submission must pass, each refusal naming itself: the actor's own assignment, the
/// seat's route, the report's signer and the intake's checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_checked_and_refusals_name_the_check() {
    let mut config = test_config(None, 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let c = Coordinator::start(config).await;
    let (key, other) = (WorkerKey::generate(), WorkerKey::generate());
    // Not registered yet: no seats.
    let (status, body) = call(&c, &key, "GET", "/assignments", None).await;
    assert_eq!(
        (status, body["params"]["reason"].clone()),
        (403, json!("not_registered"))
    );
    let runtime = {
        let out = std::process::Command::new(crate::support::worker_bin())
            .args(["runtime-id", "--module-cache-dir"])
            .arg(crate::support::cache_dir())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    for k in [&key, &other] {
        let body = json!({"configHash": runtime, "engine": "cranelift"});
        assert_eq!(register(&c, k, "provider", &body).await.0, 201);
    }
    let (status, _) = call(&c, &key, "GET", "/assignments?waitSeconds=0", None).await;
    assert_eq!(status, 204);
    let (status, body) = call(&c, &key, "GET", "/assignments?waitSeconds=x", None).await;
    assert_eq!(
        (status, body["params"]["field"].clone()),
        (400, json!("waitSeconds"))
    );

    let id = submit_async(&c, hello(HELLO_HASH)).await;
    let (status, seat) = call(&c, &key, "GET", "/assignments?waitSeconds=5", None).await;
    assert_eq!(status, 200, "{seat}");
    assert_eq!(seat["jobId"], id);
    assert_eq!(seat["seat"], "provider");
    assert_eq!(seat["submitTo"], format!("/jobs/{id}/result"));
    let assignment = seat["assignmentId"].as_str().unwrap();

    // Someone else's assignment.
    let hb = format!("/assignments/{assignment}/heartbeat");
    let (status, body) = call(&c, &other, "POST", &hb, None).await;
    assert_eq!(
        (status, body["params"]["reason"].clone()),
        (403, json!("not_your_assignment"))
    );
    let (status, body) = call(&c, &key, "POST", &hb, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["held"], true);

    // Live output pieces: only the holder's, only well-formed ones.
    let out = format!("/assignments/{assignment}/output");
    let piece = json!({"data": "aGVsbG8K", "offset": 0});
    let (status, body) = call(&c, &other, "POST", &out, Some(&piece)).await;
    assert_eq!(
        (status, body["params"]["reason"].clone()),
        (403, json!("not_your_assignment"))
    );
    for bad in [
        json!({"data": "aGVsbG8K"}),
        json!({"data": "not base64!", "offset": 0}),
        json!({"end": true, "offset": 0}),
        json!({"data": "aGVsbG8K", "offset": 0, "stdout": true}),
        json!({"data": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![b'x'; 64 * 1024 + 1]), "offset": 0}),
    ] {
        let (status, body) = call(&c, &key, "POST", &out, Some(&bad)).await;
        assert_eq!(status, 400, "{bad} -> {body}");
    }
    for good in [piece, json!({"end": true})] {
        let (status, body) = call(&c, &key, "POST", &out, Some(&good)).await;
        assert_eq!(
            (status, body["accepted"].clone()),
            (202, json!(true)),
            "{body}"
        );
    }

    // Reports: run the job for real, then tamper.
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.json");
    std::fs::write(&job, seat["job"].to_string()).unwrap();
    let exec = |k: &WorkerKey| {
        let out = std::process::Command::new(crate::support::worker_bin())
            .args(["exec", "--job"])
            .arg(&job)
            .args(["--module-cache-dir"])
            .arg(crate::support::cache_dir())
            .env("NOTARY_WORKER_KEY", k.to_hex())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let report = exec(&key);
    assert_eq!(
        report["attestation"]["fields"]["result"], "VALID",
        "{report}"
    );
    let submit = |route: &str, report: &Value| {
        (
            format!("/jobs/{id}/{route}"),
            json!({"assignmentId": assignment, "report": report}),
        )
    };
    let (path, body) = submit("attest", &report);
    let (status, answer) = call(&c, &key, "POST", &path, Some(&body)).await;
    assert_eq!(
        (status, answer["params"]["reason"].clone()),
        (409, json!("wrong_seat")),
        "{answer}"
    );
    // Another worker's report (valid signature, wrong signer).
    let (path, body) = submit("result", &exec(&other));
    let (status, answer) = call(&c, &key, "POST", &path, Some(&body)).await;
    assert_eq!(
        (status, answer["params"]["check"].clone()),
        (422, json!("worker")),
        "{answer}"
    );
    // A field changed after signing: the signature no longer recovers to the actor.
    let mut forged = report.clone();
    forged["attestation"]["fields"]["fuelUsed"] = json!(1);
    let (path, body) = submit("result", &forged);
    let (status, answer) = call(&c, &key, "POST", &path, Some(&body)).await;
    assert_eq!(
        (status, answer["params"]["check"].clone()),
        (422, json!("worker")),
        "{answer}"
    );
    // An unknown field.
    let (path, mut body) = submit("result", &report);
    body["trustMe"] = json!(true);
    let (status, answer) = call(&c, &key, "POST", &path, Some(&body)).await;
    assert_eq!(
        (status, answer["params"]["field"].clone()),
        (400, json!("trustMe")),
        "{answer}"
    );
    // The honest report, once.
    let (path, body) = submit("result", &report);
    let (status, answer) = call(&c, &key, "POST", &path, Some(&body)).await;
    assert_eq!(status, 202, "{answer}");
    let (status, _) = call(&c, &key, "POST", &path, Some(&body)).await;
    assert_eq!(status, 404, "the assignment ended");
    let view = c.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(view["result"], "VALID", "{view}");
    c.shutdown().await;
}

/// `notary-worker reverify` runs a recorded job again and compares: it passes on an honest
/// record and fails, naming the difference, on one whose fuel or output hash was changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverify_passes_on_an_honest_job_and_names_a_changed_record() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let _worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &key);
    let (status, view) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200, "{view}");
    let id = view["jobId"].as_str().unwrap().to_string();
    let (status, record) = c.get(&format!("/jobs/{id}")).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["spec"]["jobId"], id.as_str());
    assert_eq!(record["result"], "VALID");

    let reverify = || {
        std::process::Command::new(crate::support::worker_bin())
            .args([
                "reverify",
                "--coordinator",
                &c.url,
                &id,
                "--module-cache-dir",
            ])
            .arg(crate::support::cache_dir())
            .output()
            .unwrap()
    };
    let out = reverify();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["allMatch"], true, "{summary}");
    assert_eq!(summary["outputHash"], HELLO_HASH);

    // Change the stored record, as a dishonest operator could.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key_name = notary_protocol::keys::job(&prefix, &id);
    let original: String = redis::cmd("HGET")
        .arg(&key_name)
        .arg("outcome")
        .query_async(&mut conn)
        .await
        .unwrap();
    for (field, value, named) in [
        ("fuelUsed", json!(1), "fuel: recorded 1"),
        (
            "outputHash",
            json!("00".repeat(32)),
            "output hash: recorded 0000",
        ),
    ] {
        let mut outcome: Value = serde_json::from_str(&original).unwrap();
        outcome["attestation"]["fields"][field] = value;
        let _: () = redis::cmd("HSET")
            .arg(&key_name)
            .arg("outcome")
            .arg(outcome.to_string())
            .query_async(&mut conn)
            .await
            .unwrap();
        let out = reverify();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(named), "{field}: {said}");
        assert!(
            said.contains("signature"),
            "a changed field breaks the signature: {said}"
        );
    }
    c.shutdown().await;
}

/// A worker registered only as verifier is offered jury seats only: a waiting tier-1 job is
/// not its to take (it waits out its poll), and a provider gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_only_worker_is_not_offered_tier_1_jobs() {
    let mut config = test_config(None, 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let c = Coordinator::start(config).await;
    let (verifier, provider) = (WorkerKey::generate(), WorkerKey::generate());
    assert_eq!(
        register(&c, &verifier, "verifier", &registration()).await.0,
        201
    );
    assert_eq!(
        register(&c, &provider, "provider", &registration()).await.0,
        201
    );
    let id = submit_async(&c, hello(HELLO_HASH)).await;
    let started = std::time::Instant::now();
    let (status, body) = call(&c, &verifier, "GET", "/assignments?waitSeconds=1", None).await;
    assert_eq!(status, 204, "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited out its poll"
    );
    let (status, seat) = call(&c, &provider, "GET", "/assignments?waitSeconds=1", None).await;
    assert_eq!(status, 200, "{seat}");
    assert_eq!(seat["jobId"], id);
    assert_eq!(seat["seat"], "provider");
    c.shutdown().await;
}

/// A suspended worker takes no new seats over HTTP: a waiting tier-1 job is not offered to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_worker_is_offered_no_tier_1_jobs() {
    use notary_coordinator::workers::{RedisWorkerBook, Vote, WorkerBook};
    let redis = RedisServer::start();
    let mut config = test_config(Some(redis.url()), 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let book =
        RedisWorkerBook::new_lazy(&redis.url(), &config.redis_prefix, config.suspension).unwrap();
    let c = Coordinator::start(config.clone()).await;
    let key = WorkerKey::generate();
    assert_eq!(register(&c, &key, "provider", &registration()).await.0, 201);
    let now = notary_coordinator::record::now_ms();
    for _ in 0..=config.suspension.max_dissents {
        book.record(key.address(), Vote::Dissented, now)
            .await
            .unwrap();
    }
    let id = submit_async(&c, hello(HELLO_HASH)).await;
    let (status, body) = call(&c, &key, "GET", "/assignments?waitSeconds=1", None).await;
    assert_eq!(status, 204, "{body}");
    assert!(book.unsuspend(key.address()).await.unwrap());
    let (status, seat) = call(&c, &key, "GET", "/assignments?waitSeconds=1", None).await;
    assert_eq!(status, 200, "{seat}");
    assert_eq!(seat["jobId"], id);
    c.shutdown().await;
}
