//! The open fleet (issue 12): workers register themselves with actor-signed requests; the
//! signature, clock window and replay cache refuse what they must, with the reason; manual
//! approval keeps a registered worker off juries until an operator approves it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notary_protocol::actor::sign_request;
use notary_protocol::{Address, WorkerKey};
use notary_queue::test_utils::RedisServer;
use notary_queue::Leases as _;
use serde_json::{json, Value};

use crate::support::{
    client, hello, queue_client, submit_async, test_config, Coordinator, WorkerProcess, HELLO_HASH,
};

pub(crate) const RUNTIME: &str =
    "0x1111111111111111111111111111111111111111111111111111111111111111";

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sends `body` to `path` with the actor headers `key` signs for (`signed_path`, `signed_body`,
/// `at`), so a test can sign one thing and send another.
async fn send_signed(
    c: &Coordinator,
    key: &WorkerKey,
    path: &str,
    body: &str,
    signed: (&str, &str, u64),
) -> (reqwest::header::HeaderMap, u16, Value) {
    let (signed_path, signed_body, at) = signed;
    let h = sign_request(key, "POST", signed_path, at, signed_body.as_bytes()).unwrap();
    let mut req = client()
        .post(format!("{}{path}", c.url))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in h.pairs() {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    let (headers, status) = (resp.headers().clone(), resp.status().as_u16());
    let text = resp.text().await.unwrap();
    (
        headers,
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

pub(crate) async fn register(
    c: &Coordinator,
    key: &WorkerKey,
    role: &str,
    body: &Value,
) -> (u16, Value) {
    let path = format!("/{role}s/register");
    let body = body.to_string();
    let (_, status, resp) = send_signed(c, key, &path, &body, (&path, &body, now())).await;
    (status, resp)
}

pub(crate) fn registration() -> Value {
    json!({"configHash": RUNTIME, "engine": "cranelift", "description": "a test worker"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actor_signatures_are_checked_and_refusals_say_why() {
    let c = Coordinator::embedded(0).await;
    let key = WorkerKey::generate();
    let path = "/providers/register";
    let body = registration().to_string();

    let at = now();
    let (_, status, view) = send_signed(&c, &key, path, &body, (path, &body, at)).await;
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["address"], key.address().to_checksum(None));
    assert_eq!(
        view["status"], "unapproved",
        "manual approval is the default: {view}"
    );
    assert_eq!(view["registration"]["roles"], json!(["provider"]));
    assert_eq!(view["registration"]["configHash"], &RUNTIME[2..]);
    assert_eq!(view["registration"]["approved"], false);

    let refused = |reason: &'static str| {
        move |(headers, status, body): (reqwest::header::HeaderMap, u16, Value)| {
            assert_eq!(status, 401, "{reason}: {body}");
            assert_eq!(body["params"]["reason"], reason, "{body}");
            assert_eq!(headers["www-authenticate"], "NotaryActor");
        }
    };
    // The very same request again.
    refused("replayed")(send_signed(&c, &key, path, &body, (path, &body, at)).await);
    // Signed too long ago, or too far ahead.
    refused("expired")(send_signed(&c, &key, path, &body, (path, &body, at - 120)).await);
    refused("expired")(send_signed(&c, &key, path, &body, (path, &body, at + 120)).await);
    // Signed for another path, or another body.
    let other = "/verifiers/register";
    refused("bad_signature")(send_signed(&c, &key, path, &body, (other, &body, at)).await);
    refused("bad_signature")(send_signed(&c, &key, path, &body, (path, "{}", at)).await);
    refused("bad_signature")(
        send_signed(&c, &key, &format!("{path}?x=1"), &body, (path, &body, at)).await,
    );
    // Headers missing, malformed, or claiming someone else.
    let resp = client()
        .post(format!("{}{path}", c.url))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let missing: Value = resp.json().await.unwrap();
    assert_eq!(missing["params"]["reason"], "missing", "{missing}");
    let h = sign_request(&key, "POST", path, at, body.as_bytes()).unwrap();
    let someone = format!("{:#x}", WorkerKey::generate().address());
    for (actor, ts) in [
        (someone.as_str(), h.timestamp.as_str()),
        (h.actor.as_str(), "soon"),
    ] {
        let resp = client()
            .post(format!("{}{path}", c.url))
            .header("x-notary-actor", actor)
            .header("x-notary-timestamp", ts)
            .header("x-notary-signature", &h.signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let b: Value = resp.json().await.unwrap();
        assert_eq!(b["params"]["reason"], "bad_signature", "{b}");
    }

    // Registering again (another role, runtime and engine): 200, roles add up.
    let again = json!({"configHash": format!("0x{}", "22".repeat(32)), "engine": "pulley"});
    let (status, view) = register(&c, &key, "verifier", &again).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["registration"]["roles"],
        json!(["provider", "verifier"])
    );
    assert_eq!(view["registration"]["engine"], "pulley");
    assert!(view["registration"].get("description").is_none(), "{view}");
    let (status, shown) = c.get(&format!("/workers/{}", key.address())).await;
    assert_eq!(status, 200);
    assert_eq!(shown, view);
    let (_, list) = c.get("/workers").await;
    assert!(
        list["workers"].as_array().unwrap().contains(&view),
        "{list}"
    );

    // Strict bodies: a field the coordinator does not know, or a bad value, is named.
    for (body, field) in [
        (
            json!({"configHash": RUNTIME, "engine": "cranelift", "trustTeir": 3}),
            "trustTeir",
        ),
        (
            json!({"configHash": "0x12", "engine": "cranelift"}),
            "configHash",
        ),
        (
            json!({"configHash": &RUNTIME[2..], "engine": "cranelift"}),
            "configHash",
        ),
        (json!({"configHash": RUNTIME, "engine": "v8"}), "engine"),
        (json!({"configHash": RUNTIME}), "engine"),
        (
            json!({"configHash": RUNTIME, "engine": "pulley", "description": 7}),
            "description",
        ),
    ] {
        let (status, resp) = register(&c, &key, "provider", &body).await;
        assert_eq!(status, 400, "{body}: {resp}");
        assert_eq!(resp["params"]["field"], field, "{body}: {resp}");
    }
    // The anchor (the signed registration for a registry) is checked even without a chain.
    let (_, domain) = c.get("/notary/domain").await;
    assert_eq!(domain["anchorsRegistrations"], false, "{domain}");
    let domain = notary_protocol::AttestationDomain {
        chain_id: domain["chainId"].as_u64().unwrap(),
        verifying_contract: domain["verifyingContract"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    };
    let reg = notary_protocol::WorkerRegistration {
        worker: key.address(),
        config_hash: notary_protocol::Digest32::from_hex(RUNTIME).unwrap(),
        deadline: now() + 600,
    };
    let own = reg.sign(&key, &domain).unwrap();
    let forged = WorkerKey::generate()
        .sign_hash(&reg.signing_hash(&domain))
        .unwrap();
    let with =
        |anchor: Value| json!({"configHash": RUNTIME, "engine": "cranelift", "anchor": anchor});
    for (body, field) in [
        (
            with(json!({"deadline": reg.deadline, "signature": forged})),
            "anchor.signature",
        ),
        (
            with(json!({"deadline": reg.deadline + 1, "signature": own})),
            "anchor.signature",
        ),
        (
            with(json!({"deadline": now() - 1, "signature": own})),
            "anchor.deadline",
        ),
        (
            with(json!({"deadline": reg.deadline, "signature": own, "chain": 1})),
            "anchor.chain",
        ),
        (with(json!({"signature": own})), "anchor.deadline"),
        (with(json!("0x12")), "anchor"),
    ] {
        let (status, resp) = register(&c, &key, "provider", &body).await;
        assert_eq!(status, 400, "{body}: {resp}");
        assert_eq!(resp["params"]["field"], field, "{body}: {resp}");
    }
    let (status, resp) = register(
        &c,
        &key,
        "provider",
        &with(json!({"deadline": reg.deadline, "signature": own})),
    )
    .await;
    assert_eq!(status, 200, "{resp}");
    assert!(
        resp.get("anchor").is_none(),
        "no registry, nothing anchored: {resp}"
    );
    let dup = format!(r#"{{"configHash":"{RUNTIME}","engine":"pulley","engine":"cranelift"}}"#);
    let (_, status, resp) = send_signed(&c, &key, path, &dup, (path, &dup, now())).await;
    assert_eq!(
        (status, resp["params"]["reason"].clone()),
        (400, json!("duplicate_key"))
    );
    c.shutdown().await;
}

pub(crate) fn tier3() -> Value {
    let mut body = hello(HELLO_HASH);
    body["trustTier"] = json!(3);
    body
}

/// Three registered workers alive in the queue: no jury while they wait for approval; the
/// operator approves them (`notary-coordinator workers approve`) and the jury is seated from
/// them. With `--worker-approval open`, registration approves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_approved_registered_workers_are_seated() {
    let redis = RedisServer::start();
    let config = test_config(Some(redis.url()), 0, vec![]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config.clone()).await;
    let queue = queue_client(&redis.url(), &prefix).await;
    let keys: Vec<WorkerKey> = (0..3).map(|_| WorkerKey::generate()).collect();
    for key in &keys {
        let (status, view) = register(&c, key, "verifier", &registration()).await;
        assert_eq!(status, 201, "{view}");
        // Alive in the queue, as a worker polling for its seats is.
        let id = format!("{:#x}", key.address());
        queue.lease_as("probe", &id, Duration::ZERO).await.unwrap();
    }
    let (status, body) = c.verify(tier3()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["params"]["reason"], "jury_unavailable", "{body}");
    assert_eq!(body["params"]["eligibleWorkers"], 0, "{body}");

    for key in &keys {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_notary-coordinator"))
            .args([
                "workers",
                "--redis",
                &redis.url(),
                "--redis-prefix",
                &prefix,
            ])
            .args(["approve", &key.address().to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("approved"));
    }
    let stranger = WorkerKey::generate().address().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_notary-coordinator"))
        .args([
            "workers",
            "--redis",
            &redis.url(),
            "--redis-prefix",
            &prefix,
        ])
        .args(["approve", &stranger])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "approving a key that never registered fails"
    );

    let (status, body) = c
        .post("/verify", tier3(), &[("prefer", "respond-async")])
        .await;
    assert_eq!(status, 202, "{body}");
    let (_, view) = c
        .get(&format!("/verify/{}", body["jobId"].as_str().unwrap()))
        .await;
    let mut pool: Vec<Address> = serde_json::from_value(view["jury"]["pool"].clone()).unwrap();
    pool.sort();
    let mut expected: Vec<Address> = keys.iter().map(WorkerKey::address).collect();
    expected.sort();
    assert_eq!(pool, expected, "{body}");
    c.shutdown().await;

    // Open approval: registered is approved.
    let mut open = test_config(Some(redis.url()), 0, vec![]);
    open.worker_approval = notary_coordinator::workers::Approval::Open;
    let c = Coordinator::start(open).await;
    let key = WorkerKey::generate();
    let (status, view) = register(&c, &key, "provider", &registration()).await;
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["registration"]["approved"], true, "{view}");
    assert_eq!(view["status"], "inactive", "{view}");
    c.shutdown().await;
}

/// A worker with no Redis at all (embedded coordinator, in-memory queue) registers, leases
/// over HTTP and decides tier-1 jobs; its attestation is in the answer. Its polling is not
/// rate limited like a client's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_worker_without_redis_completes_jobs() {
    let mut config = test_config(None, 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    // A remote worker polls, heartbeats and submits far more often than this: its traffic
    // finishes admitted work and is not rate limited (the clients' requests still are).
    config.protect.rate_limit_per_minute = 10;
    let c = Coordinator::start(config).await;
    let key = WorkerKey::generate();
    let _worker = WorkerProcess::remote(&c.url, 1, &key);
    for i in 0..3 {
        let mut body = hello(HELLO_HASH);
        if i == 2 {
            body["expectedHash"] = json!("00".repeat(32));
        }
        let id = submit_async(&c, body).await;
        let view = c.wait_final(&id, Duration::from_secs(90)).await;
        assert_eq!(view["status"], "completed", "{view}");
        assert_eq!(
            view["result"],
            if i == 2 { "INVALID" } else { "VALID" },
            "{view}"
        );
        assert_eq!(
            view["attestation"]["worker"]
                .as_str()
                .unwrap()
                .parse::<Address>()
                .unwrap(),
            key.address(),
            "{view}"
        );
    }
    let (_, shown) = c.get(&format!("/workers/{}", key.address())).await;
    assert_eq!(
        shown["registration"]["roles"],
        json!(["provider", "verifier"]),
        "{shown}"
    );
    c.shutdown().await;
}

/// One Redis worker (allow list) and three remote workers (registered, open approval) on one
/// fleet: tier-3 juries mix them and agree; a remote juror killed mid-job loses its seat to the
/// next worker of the seeded order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_and_redis_workers_sit_on_one_jury() {
    let redis = RedisServer::start();
    let local = WorkerKey::generate();
    let mut config = test_config(Some(redis.url()), 0, vec![local.address()]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let _local = crate::support::WorkerProcess::spawn(&redis.url(), &prefix, 1, &local);
    let keys: Vec<WorkerKey> = (0..3).map(|_| WorkerKey::generate()).collect();
    let remotes: Vec<WorkerProcess> = keys
        .iter()
        .map(|k| WorkerProcess::remote(&c.url, 1, k))
        .collect();
    crate::support::wait_alive(&redis.url(), &prefix, 4).await;
    let remote: Vec<Address> = keys.iter().map(WorkerKey::address).collect();

    for _ in 0..3 {
        let id = submit_async(&c, tier3()).await;
        let view = c.wait_final(&id, Duration::from_secs(90)).await;
        assert_eq!(view["status"], "completed", "{view}");
        assert_eq!(view["result"], "VALID", "{view}");
        let members: Vec<Address> =
            serde_json::from_value(view["jury"]["rounds"][0]["members"].clone()).unwrap();
        assert_eq!(members.len(), 3, "{view}");
        assert!(
            members.iter().filter(|m| remote.contains(m)).count() >= 2,
            "four workers, three seats: at least two are remote: {view}"
        );
        assert_eq!(view["attestations"].as_array().unwrap().len(), 3, "{view}");
    }

    // A remote juror dies mid-job.
    let mut body = crate::support::busy_guest(1500, 30);
    body["trustTier"] = json!(3);
    let id = submit_async(&c, body).await;
    let q = queue_client(&redis.url(), &prefix).await;
    crate::support::wait_leased(&q, 3).await;
    let (_, view) = c.get(&format!("/verify/{id}")).await;
    let members: Vec<Address> =
        serde_json::from_value(view["jury"]["rounds"][0]["members"].clone()).unwrap();
    let victim = *members.iter().find(|m| remote.contains(m)).unwrap();
    remotes[remote.iter().position(|a| *a == victim).unwrap()].signal("-KILL");
    let done = c.wait_final(&id, Duration::from_secs(90)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"], "VALID", "{done}");
    let round = &done["jury"]["rounds"][0];
    assert_eq!(round["outcome"], "unanimous", "{done}");
    let replaced = round["replaced"].as_array().unwrap();
    assert_eq!(replaced.len(), 1, "{done}");
    assert_eq!(
        replaced[0]["worker"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        victim
    );
    c.shutdown().await;
}

/// A worker written in Node (`contracts/test/node-worker.mjs`: fetch, viem's signMessage and
/// `notary-worker exec --job`) follows the protocol page alone: it registers, takes a seat and
/// submits, and its attestation decides the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_outside_rust_follows_the_protocol_page() {
    let mut config = test_config(None, 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let c = Coordinator::start(config).await;
    let id = submit_async(&c, hello(HELLO_HASH)).await;
    let key = WorkerKey::generate();
    let (bin, cache) = (crate::support::worker_bin(), crate::support::cache_dir());
    let v = crate::support::node_script(
        "node-worker.mjs",
        &[
            ("NOTARY_URL", c.url.as_str()),
            ("WORKER_KEY", &key.to_hex()),
            ("WORKER_BIN", bin.to_str().unwrap()),
            ("MODULE_CACHE", cache.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(v["registered"], 201, "{v}");
    assert_eq!(v["seat"], "provider", "{v}");
    assert_eq!(v["submitted"], 202, "{v}");
    let view = c.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(view["result"], "VALID", "{view}");
    assert_eq!(
        view["attestation"]["worker"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        key.address()
    );
    c.shutdown().await;
}
