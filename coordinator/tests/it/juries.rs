//! Juries (issue 11) with real `notary-worker` processes on a real Redis: a tier-n job is run by
//! n distinct workers, a lying juror is outvoted and a fresh, larger jury decides, and anyone
//! can recompute a jury from the job's view.

use std::collections::HashSet;
use std::time::Duration;

use alloy::primitives::keccak256;
use notary_protocol::{Address, WorkerKey};
use notary_queue::test_utils::RedisServer;

use serde_json::{json, Value};

use crate::support::*;

/// A Redis, a coordinator allowing `honest + liars` workers, and that many `notary-worker`
/// processes (one slot each; the liars with `--fault wrong-output`), all alive.
struct Fleet {
    c: Coordinator,
    /// The coordinator's configuration (for a second coordinator on the same fleet).
    config: notary_coordinator::Config,
    prefix: String,
    liars: Vec<Address>,
    /// Every worker's address, in the order of `workers`.
    addresses: Vec<Address>,
    workers: Vec<WorkerProcess>,
    redis: RedisServer,
}

async fn fleet(honest: usize, liars: usize) -> Fleet {
    let redis = RedisServer::start();
    let keys: Vec<WorkerKey> = (0..honest + liars).map(|_| WorkerKey::generate()).collect();
    let mut config = test_config(
        Some(redis.url()),
        0,
        keys.iter().map(|k| k.address()).collect(),
    );
    // A liar sits on a first jury 3 times in 8: its second dissent suspends it.
    config.suspension.max_dissents = 1;
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config.clone()).await;
    let workers: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let fault: &[&str] = if i >= honest {
                &["--fault", "wrong-output"]
            } else {
                &[]
            };
            WorkerProcess::spawn_with(&redis.url(), &prefix, 1, k, fault)
        })
        .collect();
    crate::support::wait_alive(&redis.url(), &prefix, keys.len()).await;
    Fleet {
        c,
        config,
        prefix,
        liars: keys[honest..].iter().map(|k| k.address()).collect(),
        addresses: keys.iter().map(|k| k.address()).collect(),
        workers,
        redis,
    }
}

fn tier(n: u8, escalation: &str) -> Value {
    let mut body = hello(HELLO_HASH);
    body["trustTier"] = json!(n);
    body["escalation"] = json!(escalation);
    body
}

fn addresses(v: &Value) -> Vec<Address> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect()
}

/// The rule of the module docs, from the view alone: `poolHash = keccak256(pool)`, the order is
/// ascending `keccak256(jurySeed ‖ address)`, and each round calls the next workers of it.
fn check_recomputed_jury(view: &Value) {
    let pool = addresses(&view["jury"]["pool"]);
    let mut sorted = pool.clone();
    sorted.sort();
    assert_eq!(pool, sorted, "the pool is ascending");
    let bytes: Vec<u8> = pool.iter().flat_map(|a| a.as_slice().to_vec()).collect();
    assert_eq!(
        view["poolHash"].as_str().unwrap(),
        hex::encode(keccak256(&bytes))
    );
    let seed = hex::decode(view["jurySeed"].as_str().unwrap()).unwrap();
    let mut order = pool.clone();
    order.sort_by_key(|a| keccak256([seed.as_slice(), a.as_slice()].concat()));
    let mut called = Vec::new();
    for round in view["jury"]["rounds"].as_array().unwrap() {
        called.extend(addresses(&round["members"]));
        called.extend(
            round["replaced"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["worker"].as_str().unwrap().parse::<Address>().unwrap()),
        );
    }
    let mut expected = order[..called.len()].to_vec();
    expected.sort();
    called.sort();
    assert_eq!(
        called, expected,
        "the rounds called the order's first workers: {view}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tier_3_job_is_run_by_three_distinct_workers_that_agree() {
    let f = fleet(3, 0).await;
    let (status, view) = f.c.verify(tier(3, "manual")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "completed", "{view}");
    assert_eq!(view["result"], "VALID");
    assert_eq!(view["actualHash"], HELLO_HASH);
    assert_eq!(view["trustTier"], 3);
    let rounds = view["jury"]["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 1, "{view}");
    assert_eq!(rounds[0]["outcome"], "unanimous");
    let members: HashSet<_> = addresses(&rounds[0]["members"]).into_iter().collect();
    assert_eq!(members.len(), 3, "three distinct jurors");
    let signers: HashSet<Address> = view["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["worker"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(signers, members, "one attestation per juror");
    let fields: HashSet<String> = view["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fields"].to_string())
        .collect();
    assert_eq!(fields.len(), 1, "the jurors signed the same fields");
    check_recomputed_jury(&view);

    // A second coordinator on the same Redis: jobs submitted to either, with reports taken by
    // either one's intake, read the same from both.
    let other = Coordinator::start(f.config.clone()).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let to = if i % 2 == 0 { &f.c } else { &other };
        ids.push(submit_async(to, tier(3, "manual")).await);
    }
    for id in &ids {
        let a = f.c.wait_final(id, Duration::from_secs(60)).await;
        let (_, b) = other.get(&format!("/verify/{id}")).await;
        assert_eq!(a["status"], "completed", "{a}");
        assert_eq!(a, b, "both coordinators tell the same story");
        check_recomputed_jury(&a);
    }
    other.shutdown().await;

    // Five jurors are more than the fleet has: refused before anything runs.
    let (status, body) = f.c.verify(tier(5, "manual")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["params"]["reason"], "jury_unavailable", "{body}");
    assert_eq!(body["params"]["eligibleWorkers"], 3, "{body}");
    // Tier 1 is one worker, as before juries.
    let (status, view) = f.c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["trustTier"], 1);
    assert!(view.get("jury").is_none() && view.get("attestations").is_none());
    f.c.shutdown().await;
}

/// Eight workers, one of them lying. A first jury with the liar splits 2-1 naming it; with
/// `escalation: manual` the job waits as `escalated` with the majority's provisional verdict
/// until `POST /jobs/:jobId/escalate` seats five fresh workers; with `auto` that happens at
/// once. Every job ends completed with the right hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_juror_is_outvoted_and_a_fresh_jury_decides() {
    let f = fleet(7, 1).await;
    let liar = f.liars[0];
    let has_liar = |round: &Value| addresses(&round["members"]).contains(&liar);

    // Manual: run tier-3 jobs until one's jury includes the liar (3 in 8 per job).
    let mut escalated = None;
    for _ in 0..40 {
        let (status, view) = f.c.verify(tier(3, "manual")).await;
        assert_eq!(status, 200, "{view}");
        if has_liar(&view["jury"]["rounds"][0]) {
            escalated = Some(view);
            break;
        }
        assert_eq!(view["status"], "completed", "{view}");
    }
    let view = escalated.expect("a jury with the liar in 40 jobs");
    assert_eq!(view["status"], "escalated", "{view}");
    let first = &view["jury"]["rounds"][0];
    assert_eq!(first["outcome"], "majority", "{view}");
    assert_eq!(addresses(&first["dissenting"]), vec![liar]);
    assert_eq!(view["result"], "VALID", "the provisional verdict: {view}");
    assert_eq!(view["attestations"].as_array().unwrap().len(), 2);
    let id = view["jobId"].as_str().unwrap().to_string();
    let (status, body) =
        f.c.post(&format!("/jobs/{id}/escalate"), json!({}), &[])
            .await;
    assert_eq!(status, 202, "{body}");
    let done = f.c.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["actualHash"], HELLO_HASH);
    check_fresh_second_round(&done, liar);
    let (status, body) =
        f.c.post(&format!("/jobs/{id}/escalate"), json!({}), &[])
            .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["params"]["reason"], "not_escalated");

    // Auto: 20 jobs, all completed; those whose first jury had the liar escalated by themselves.
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(submit_async(&f.c, tier(3, "auto")).await);
    }
    let mut with_liar = 0;
    for id in &ids {
        let view = f.c.wait_final(id, Duration::from_secs(120)).await;
        assert_eq!(view["status"], "completed", "{view}");
        assert_eq!(view["actualHash"], HELLO_HASH, "{view}");
        let rounds = view["jury"]["rounds"].as_array().unwrap();
        if has_liar(&rounds[0]) {
            with_liar += 1;
            assert_eq!(rounds[0]["outcome"], "majority", "{view}");
            assert_eq!(addresses(&rounds[0]["dissenting"]), vec![liar]);
            check_fresh_second_round(&view, liar);
        } else {
            assert_eq!(rounds.len(), 1, "{view}");
            assert_eq!(rounds[0]["outcome"], "unanimous", "{view}");
        }
        check_recomputed_jury(&view);
    }
    assert!(
        with_liar > 0,
        "some first jury had the liar (3 in 8 per job)"
    );

    // Two dissents suspended the liar; the honest never dissented.
    let (status, list) = f.c.get("/workers").await;
    assert_eq!(status, 200, "{list}");
    let workers = list["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 8, "{list}");
    for w in workers {
        let address: Address = w["address"].as_str().unwrap().parse().unwrap();
        if address == liar {
            assert_eq!(w["status"], "suspended", "{w}");
            assert!(w["dissents"].as_u64().unwrap() >= 2, "{w}");
            assert_eq!(w["agreements"], 0, "{w}");
        } else {
            assert_eq!(w["dissents"], 0, "{w}");
            assert_eq!(w["status"], "active", "{w}");
        }
    }
    // Suspended: seated no more, whatever the seed.
    for _ in 0..5 {
        let (status, view) = f.c.verify(tier(3, "manual")).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["status"], "completed", "{view}");
        assert!(!addresses(&view["jury"]["pool"]).contains(&liar), "{view}");
    }
    // The operator lifts it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_notary-coordinator"))
        .args([
            "workers",
            "--redis",
            &f.redis.url(),
            "--redis-prefix",
            &f.prefix,
        ])
        .args(["unsuspend", &liar.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("suspension lifted"));
    let (_, w) = f.c.get(&format!("/workers/{liar}")).await;
    assert_eq!(w["status"], "active", "{w}");
    assert_eq!(w["recentDissents"], 0, "{w}");
    f.c.shutdown().await;
}

/// A second round of five, none of the first round's workers, unanimous without the liar, and
/// the final attestations are its five.
fn check_fresh_second_round(view: &Value, liar: Address) {
    let rounds = view["jury"]["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{view}");
    assert_eq!(rounds[1]["tier"], 5);
    assert_eq!(rounds[1]["outcome"], "unanimous", "{view}");
    let first: HashSet<_> = addresses(&rounds[0]["members"]).into_iter().collect();
    let second: HashSet<_> = addresses(&rounds[1]["members"]).into_iter().collect();
    assert_eq!(second.len(), 5);
    assert!(first.is_disjoint(&second), "a fresh jury: {view}");
    assert!(!second.contains(&liar));
    assert_eq!(view["attestations"].as_array().unwrap().len(), 5);
    check_recomputed_jury(view);
}

/// What a client may ask of a jury, checked before anything runs; a fleet of one identity (the
/// embedded workers) cannot seat a jury; escalating what is not escalated is a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jury_requests_are_checked_before_anything_runs() {
    let c = Coordinator::embedded(1).await;
    let with = |k: &str, v: Value| {
        let mut body = hello(HELLO_HASH);
        body[k] = v;
        body
    };
    for (body, field) in [
        (with("trustTeir", json!(3)), "trustTeir"),
        (with("trustTier", json!(2)), "trustTier"),
        (with("trustTier", json!("3")), "trustTier"),
        (with("trustTier", json!(9)), "trustTier"),
        (with("escalation", json!("sometimes")), "escalation"),
        (with("maxTier", json!(4)), "maxTier"),
        (
            {
                let mut b = tier(5, "auto");
                b["maxTier"] = json!(3);
                b
            },
            "maxTier",
        ),
    ] {
        let (status, resp) = c.verify(body.clone()).await;
        assert_eq!(status, 400, "{body}: {resp}");
        assert_eq!(resp["params"]["field"], field, "{body}: {resp}");
    }
    let (status, resp) = c.verify(tier(3, "auto")).await;
    assert_eq!(status, 503, "{resp}");
    assert_eq!(resp["params"]["reason"], "jury_unavailable");
    assert_eq!(resp["params"]["eligibleWorkers"], 1, "{resp}");

    let (status, view) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200, "{view}");
    let id = view["jobId"].as_str().unwrap();
    let (status, resp) = c
        .post(&format!("/jobs/{id}/escalate"), json!({}), &[])
        .await;
    assert_eq!(status, 409, "{resp}");
    assert_eq!(resp["params"]["reason"], "not_escalated");
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = c
        .post(&format!("/jobs/{unknown}/escalate"), json!({}), &[])
        .await;
    assert_eq!(status, 404);
    let (status, _) = c.post("/jobs/nope/escalate", json!({}), &[]).await;
    assert_eq!(status, 400);
    c.shutdown().await;
}

/// A juror killed mid-job (SIGKILL) loses its seat when its lease runs out and it is seen
/// gone: the next worker of the seeded order takes it, and the jury still agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_juror_is_replaced_by_the_next_in_the_seeded_order() {
    let f = fleet(4, 0).await;
    let mut body = busy_guest(1500, 30);
    body["trustTier"] = json!(3);
    let id = submit_async(&f.c, body).await;
    let q = queue_client(&f.redis.url(), &f.prefix).await;
    wait_leased(&q, 3).await;
    let (_, view) = f.c.get(&format!("/verify/{id}")).await;
    let members = addresses(&view["jury"]["rounds"][0]["members"]);
    assert_eq!(members.len(), 3, "{view}");
    assert!(view["jury"]["rounds"][0]["submitted"]
        .as_array()
        .unwrap()
        .is_empty());
    let victim = members[1];
    let at = f.addresses.iter().position(|a| *a == victim).unwrap();
    f.workers[at].signal("-KILL");
    let done = f.c.wait_final(&id, Duration::from_secs(90)).await;
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
    let seated = addresses(&round["members"]);
    let survivor = f.addresses.iter().find(|a| !members.contains(a)).unwrap();
    assert_eq!(
        seated,
        vec![members[0], members[2], *survivor],
        "the fourth worker of the order took the seat: {done}"
    );
    check_recomputed_jury(&done);
    f.c.shutdown().await;
}
