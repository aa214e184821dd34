//! Protections through real HTTP: the per-IP rate limit (in memory and shared through Redis),
//! trusted-proxy handling, the circuit breaker and the load caps.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisServer;
use serde_json::Value;

use crate::support::*;

/// A path that costs nothing but is rate limited: an unknown module (404). (Job status reads,
/// `GET /verify/:id`, are not counted: polling must not lock a client out.)
fn unknown_job() -> String {
    format!("/modules/{}", sha256_hex(uuid::Uuid::new_v4().as_bytes()))
}

/// Waits until at least 8 s remain in the current wall-clock minute, so ~100 quick requests
/// all fall into one rate-limit window.
async fn start_of_a_window() {
    loop {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if secs % 60 < 52 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn get_with(url: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let mut req = client().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

fn assert_rate_limited(status: u16, retry: Option<String>, body: &Value) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "Rate Limited", "{body}");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_101st_request_in_a_minute_from_one_ip_gets_429() {
    let mut config = test_config(None, 1, vec![]);
    config.protect.rate_limit_per_minute = 100;
    let c = Coordinator::start(config).await;
    start_of_a_window().await;
    for i in 0..100 {
        let (status, _, body) = get_with(&format!("{}{}", c.url, unknown_job()), &[]).await;
        assert_eq!(status, 404, "request {}: {body}", i + 1);
    }
    let (status, retry, body) = get_with(&format!("{}{}", c.url, unknown_job()), &[]).await;
    assert_rate_limited(status, retry, &body);
    // POST is limited too, and answered without running anything.
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 429, "{body}");
    // Probes and scrapes are never limited.
    for path in ["/health", "/ready", "/metrics", "/openapi.json"] {
        let (status, _, _) = get_with(&format!("{}{path}", c.url), &[]).await;
        assert_eq!(status, 200, "{path}");
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_coordinators_on_one_redis_share_the_count() {
    let redis = RedisServer::start();
    let mut config_a = test_config(Some(redis.url()), 0, vec![]);
    config_a.protect.rate_limit_per_minute = 100;
    let config_b = config_a.clone();
    let a = Coordinator::start(config_a).await;
    let b = Coordinator::start(config_b).await;
    start_of_a_window().await;
    for i in 0..100 {
        let c = if i % 2 == 0 { &a } else { &b };
        let (status, _, body) = get_with(&format!("{}{}", c.url, unknown_job()), &[]).await;
        assert_eq!(status, 404, "request {}: {body}", i + 1);
    }
    // 50 went to each; the 101st is refused by either replica.
    for c in [&a, &b] {
        let (status, retry, body) = get_with(&format!("{}{}", c.url, unknown_job()), &[]).await;
        assert_rate_limited(status, retry, &body);
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    // Untrusted: the header is ignored, so changing it does not buy a new bucket.
    let mut config = test_config(None, 0, vec![]);
    config.protect.rate_limit_per_minute = 3;
    let c = Coordinator::start(config).await;
    start_of_a_window().await;
    for n in 0..3 {
        let xff = format!("198.51.100.{n}");
        let (status, _, _) = get_with(
            &format!("{}{}", c.url, unknown_job()),
            &[("x-forwarded-for", &xff)],
        )
        .await;
        assert_eq!(status, 404);
    }
    let (status, retry, body) = get_with(
        &format!("{}{}", c.url, unknown_job()),
        &[("x-forwarded-for", "203.0.113.9")],
    )
    .await;
    assert_rate_limited(status, retry, &body);
    c.shutdown().await;

    // Trusted (the test client is the proxy at 127.0.0.1): one bucket per forwarded client.
    let mut config = test_config(None, 0, vec![]);
    config.protect.rate_limit_per_minute = 3;
    config.protect.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    let c = Coordinator::start(config).await;
    start_of_a_window().await;
    for _ in 0..3 {
        let (status, _, _) = get_with(
            &format!("{}{}", c.url, unknown_job()),
            &[("x-forwarded-for", "198.51.100.7")],
        )
        .await;
        assert_eq!(status, 404);
    }
    let (status, retry, body) = get_with(
        &format!("{}{}", c.url, unknown_job()),
        &[("x-forwarded-for", "198.51.100.7")],
    )
    .await;
    assert_rate_limited(status, retry, &body);
    // A client spoofing an entry to the left is still counted as the address the proxy saw.
    let (status, _, _) = get_with(
        &format!("{}{}", c.url, unknown_job()),
        &[("x-forwarded-for", "10.9.9.9, 198.51.100.7")],
    )
    .await;
    assert_eq!(status, 429);
    let (status, _, _) = get_with(
        &format!("{}{}", c.url, unknown_job()),
        &[("x-forwarded-for", "198.51.100.8")],
    )
    .await;
    assert_eq!(status, 404, "another forwarded client has its own bucket");
    c.shutdown().await;
}

async fn ready(c: &Coordinator) -> (u16, Value) {
    c.get("/ready").await
}

/// Infrastructure failures induced for real: the only worker takes ten jobs and is then
/// stopped (SIGSTOP: no results, no heartbeats); with one delivery allowed, each job is
/// dead-lettered after its lease TTL and ends "VM Spawn Failed" (500, refundable). (A worker
/// whose attestations are refused no longer fails jobs: it is no delivery.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_after_10_infrastructure_failures_and_closes_after_the_probe() {
    let redis = RedisServer::start();
    let good = WorkerKey::generate();
    let mut config = test_config(Some(redis.url()), 0, vec![good.address()]);
    config.max_deliveries = 1;
    config.protect.breaker_failures = 10;
    config.protect.breaker_cooldown = Duration::from_secs(2);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let q = queue_client(&redis.url(), &prefix).await;
    let rogue_worker = WorkerProcess::spawn(&redis.url(), &prefix, 10, &good);
    let posts: Vec<_> = (0..10)
        .map(|_| {
            let c = Coordinator::remote(c.url.clone());
            tokio::spawn(async move { c.verify(busy_guest(5_000, 60)).await })
        })
        .collect();
    wait_leased(&q, 10).await;
    rogue_worker.signal("-STOP");
    for (n, post) in posts.into_iter().enumerate() {
        let (status, body) = post.await.unwrap();
        assert_eq!(status, 500, "failure {n}: {body}");
        assert_eq!(body["error"], "VM Spawn Failed");
        assert_eq!(body["refundEligible"], true);
    }
    // Open: new jobs are refused at once, without creating a job.
    let started = Instant::now();
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["params"]["reason"], "circuit_breaker_open", "{body}");
    assert!(started.elapsed() < Duration::from_secs(1));
    let (status, body) = ready(&c).await;
    assert_eq!(
        (status, body["breaker"].as_str()),
        (503, Some("open")),
        "{body}"
    );
    let resp = client()
        .post(format!("{}/verify", c.url))
        .json(&hello(HELLO_HASH))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    // Reads still work while it is open.
    let (status, _) = c.get(&unknown_job()).await;
    assert_eq!(status, 404);

    // The infrastructure recovers: a working worker replaces the stopped one.
    let mut rogue_worker = rogue_worker;
    rogue_worker.signal("-KILL");
    let _ = rogue_worker.child.wait();
    let _good_worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &good);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Half-open: one probe goes through, succeeds, and closes the breaker.
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("VALID")),
        "{body}"
    );
    let (status, body) = ready(&c).await;
    assert_eq!(
        (status, body["breaker"].as_str()),
        (200, Some("closed")),
        "{body}"
    );
    for _ in 0..3 {
        let (status, body) = c.verify(hello(HELLO_HASH)).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, metrics) = c.get("/metrics").await;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(metrics.contains("notary_circuit_breaker_rejections_total{reason=\"open\"}"));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_503_with_retry_after() {
    // No worker at all: jobs stay queued.
    let mut config = test_config(None, 0, vec![]);
    config.protect.max_queue_depth = 2;
    let c = Coordinator::start(config).await;
    for _ in 0..2 {
        let (status, body) = c
            .post("/verify", hello(HELLO_HASH), &[("prefer", "respond-async")])
            .await;
        assert_eq!(status, 202, "{body}");
    }
    // The cap is checked against the queue sampled every 250 ms.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = client()
            .post(format!("{}/verify", c.url))
            .header("prefer", "respond-async")
            .json(&hello(HELLO_HASH))
            .send()
            .await
            .unwrap();
        if resp.status().as_u16() == 503 {
            assert!(resp.headers().contains_key("retry-after"));
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["params"]["reason"], "queue_depth", "{body}");
            break;
        }
        assert_eq!(resp.status().as_u16(), 202);
        assert!(Instant::now() < deadline, "the queue cap never applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_gets_429_beyond_its_concurrent_verifications_until_one_finishes() {
    let mut config = test_config(None, 1, vec![]);
    config.protect.max_concurrent_per_agent = 2;
    let c = Coordinator::start(config).await;
    // Answered synchronously: each frees its slot, however many in a row.
    for _ in 0..4 {
        let (status, body) = c.verify(hello(HELLO_HASH)).await;
        assert_eq!(status, 200, "{body}");
    }
    // Two still running (202) hold both slots.
    let mut running = Vec::new();
    for _ in 0..2 {
        let (status, body) = c
            .post(
                "/verify",
                busy_guest(1500, 30),
                &[("prefer", "respond-async")],
            )
            .await;
        assert_eq!(status, 202, "{body}");
        running.push(body["jobId"].as_str().unwrap().to_string());
    }
    let resp = client()
        .post(format!("{}/verify", c.url))
        .json(&hello(HELLO_HASH))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["params"]["reason"], "concurrency", "{body}");
    // Reads are not verifications.
    let (status, _) = c.get(&format!("/verify/{}", running[0])).await;
    assert_eq!(status, 202);
    // Once they are final, the agent may verify again.
    for id in &running {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(body["result"], "VALID", "{body}");
    }
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200, "{body}");
    c.shutdown().await;
}

/// Issue 22, defect 8: a client polling its job twice a second is never rate limited, a 202
/// says where and when to poll, and `Prefer: wait=N` long-polls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_is_not_punished_and_can_long_poll() {
    let mut config = test_config(None, 1, vec![]);
    config.protect.rate_limit_per_minute = 5;
    let c = Coordinator::start(config).await;
    let resp = client()
        .post(format!("{}/verify", c.url))
        .header("prefer", "respond-async")
        .json(&busy_guest(1_500, 30))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let id = resp.json::<Value>().await.unwrap()["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    // Far more status reads than the limit of 5 per minute: none is refused.
    let mut polls = 0;
    let mut first_202 = None;
    loop {
        let resp = client()
            .get(format!("{}/verify/{id}", c.url))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        polls += 1;
        if status == 202 && first_202.is_none() {
            first_202 = Some((
                resp.headers()["location"].to_str().unwrap().to_string(),
                resp.headers()["retry-after"].to_str().unwrap().to_string(),
            ));
        }
        if status == 200 {
            break;
        }
        assert_eq!(status, 202, "poll {polls}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(polls > 5, "only {polls} polls");
    let (location, retry) = first_202.expect("a 202 while it ran");
    assert_eq!(location, format!("/verify/{id}"));
    assert_eq!(retry, "1");

    // A long poll answers as soon as the job is final, well before its wait ends.
    let resp = client()
        .post(format!("{}/verify", c.url))
        .header("prefer", "respond-async")
        .json(&busy_guest(1_000, 30))
        .send()
        .await
        .unwrap();
    let id = resp.json::<Value>().await.unwrap()["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    let started = Instant::now();
    let resp = client()
        .get(format!("{}/verify/{id}", c.url))
        .header("prefer", "wait=25")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["result"], "VALID", "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    c.shutdown().await;
}

/// Issue 22, defect 4: slots are shared fairly between clients. One client fills a one-slot
/// coordinator's queue with four long jobs; another client's hello world, sent after them,
/// runs as soon as the first of them ends, not after all four.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_job_overtakes_a_backlog() {
    let c = Coordinator::start(test_config(None, 1, vec![])).await;
    let mut backlog = Vec::new();
    for _ in 0..4 {
        backlog.push(submit_async(&c, busy_guest(1_500, 30)).await);
    }
    // The second client: another loopback address, so another client IP.
    let other = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let resp = other
        .post(format!("{}/verify", c.url))
        .json(&hello(HELLO_HASH))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["result"], "VALID", "{body}");
    let mut finished = 0;
    for id in &backlog {
        let (status, _) = c.get(&format!("/verify/{id}")).await;
        if status == 200 {
            finished += 1;
        }
    }
    assert!(
        finished <= 1,
        "{finished} of the backlog ran before the other client's job"
    );
    for id in &backlog {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(body["result"], "VALID", "{body}");
    }
    c.shutdown().await;
}
