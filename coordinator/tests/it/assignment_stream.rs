//! `GET /assignments/stream` (issue 12): seats as server-sent events. Refusals name their
//! reason (no worker id, bad `slots`, unknown actor, a second stream of one worker id); the
//! stream keeps at most `slots` seats outstanding; a draining coordinator ends it with an
//! `end` event; `notary-worker --stream` completes jobs over it.

use std::time::Duration;

use notary_protocol::WorkerKey;
use notary_worker::seat_stream::EventParser;
use serde_json::{json, Value};

use crate::support::{
    client, hello, submit_async, test_config, Coordinator, WorkerProcess, HELLO_HASH,
};

async fn signed(
    c: &Coordinator,
    key: &WorkerKey,
    method: &str,
    path: &str,
    worker_id: Option<&str>,
) -> reqwest::Response {
    crate::support::actor_request(c, key, method, path, None, worker_id).await
}

/// The events of an open stream.
struct Events {
    resp: reqwest::Response,
    parser: EventParser,
    ready: Vec<(String, Value)>,
}

impl Events {
    fn new(resp: reqwest::Response) -> Self {
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Events {
            resp,
            parser: EventParser::default(),
            ready: Vec::new(),
        }
    }

    /// The next event within `wait` (`None` when none came).
    async fn next(&mut self, wait: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        while self.ready.is_empty() {
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => {
                    for (event, data) in self.parser.push(&bytes) {
                        self.ready
                            .push((event, serde_json::from_str(&data).unwrap()));
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return None,
            }
        }
        Some(self.ready.remove(0))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_refused_with_its_reason_and_one_per_worker_id() {
    let key = WorkerKey::generate();
    let c = Coordinator::start(test_config(None, 0, vec![key.address()])).await;
    let reason = |v: &Value| (v["params"]["field"].clone(), v["params"]["reason"].clone());

    let resp = signed(&c, &key, "GET", "/assignments/stream", None).await;
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["params"]["field"], "x-notary-worker-id", "{v}");
    for slots in ["0", "65", "x"] {
        let path = format!("/assignments/stream?slots={slots}");
        let resp = signed(&c, &key, "GET", &path, Some("w1")).await;
        assert_eq!(resp.status(), 400);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["params"]["field"], "slots", "{v}");
    }
    let resp = signed(&c, &key, "GET", "/assignments/stream?slot=2", Some("w1")).await;
    let v: Value = resp.json().await.unwrap();
    assert_eq!(reason(&v), (json!("slot"), json!("unknown_field")), "{v}");
    let stranger = WorkerKey::generate();
    let resp = signed(&c, &stranger, "GET", "/assignments/stream", Some("w1")).await;
    assert_eq!(resp.status(), 403);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["params"]["reason"], "not_registered", "{v}");
    let resp = client()
        .get(format!("{}/assignments/stream", c.url))
        .header("x-notary-worker-id", "w1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // One live stream per worker id; another id of the same key is fine.
    let first = Events::new(signed(&c, &key, "GET", "/assignments/stream", Some("w1")).await);
    let resp = signed(&c, &key, "GET", "/assignments/stream", Some("w1")).await;
    assert_eq!(resp.status(), 409);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["params"]["reason"], "stream_open", "{v}");
    let mut other = Events::new(signed(&c, &key, "GET", "/assignments/stream", Some("w2")).await);
    // The first one hangs up: its claim is let go, and the id may stream again.
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let again = loop {
        let resp = signed(&c, &key, "GET", "/assignments/stream", Some("w1")).await;
        if resp.status() == 200 {
            break resp;
        }
        assert_eq!(resp.status(), 409);
        assert!(
            std::time::Instant::now() < deadline,
            "the claim was never let go"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    drop(again);

    // A draining coordinator says so and closes its streams; shutdown does not wait on them.
    let started = std::time::Instant::now();
    let stop = tokio::spawn(c.shutdown());
    let (event, data) = other
        .next(Duration::from_secs(15))
        .await
        .expect("an end event");
    assert_eq!(
        (event.as_str(), &data),
        ("end", &json!({"reason": "shutting_down"}))
    );
    assert!(
        other.next(Duration::from_secs(5)).await.is_none(),
        "closed after the end"
    );
    stop.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_keeps_at_most_slots_seats_outstanding() {
    let key = WorkerKey::generate();
    let c = Coordinator::start(test_config(None, 0, vec![key.address()])).await;
    let jobs = [
        submit_async(&c, hello(HELLO_HASH)).await,
        submit_async(&c, hello(HELLO_HASH)).await,
    ];
    let mut events =
        Events::new(signed(&c, &key, "GET", "/assignments/stream?slots=1", Some("s1")).await);
    let (event, first) = events.next(Duration::from_secs(10)).await.expect("a seat");
    assert_eq!(event, "assignment");
    assert_eq!(first["seat"], "provider", "{first}");
    assert!(jobs.contains(&first["jobId"].as_str().unwrap().to_string()));
    assert!(first["job"].is_object(), "{first}");
    assert!(
        events.next(Duration::from_secs(2)).await.is_none(),
        "one slot: no second seat while the first is outstanding"
    );
    // The first ends (given back): the next one comes.
    let id = first["assignmentId"].as_str().unwrap();
    let resp = signed(
        &c,
        &key,
        "POST",
        &format!("/assignments/{id}/release"),
        Some("s1"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let (_, second) = events
        .next(Duration::from_secs(10))
        .await
        .expect("the next seat");
    assert_eq!(second["seat"], "provider");
    assert_ne!(second["assignmentId"], first["assignmentId"]);
    drop(events);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_worker_completes_jobs() {
    let mut config = test_config(None, 0, vec![]);
    config.worker_approval = notary_coordinator::workers::Approval::Open;
    let c = Coordinator::start(config).await;
    let key = WorkerKey::generate();
    let _worker = WorkerProcess::remote_with(&c.url, 2, &key, &["--stream"]);
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(submit_async(&c, hello(HELLO_HASH)).await);
    }
    for id in ids {
        let view = c.wait_final(&id, Duration::from_secs(90)).await;
        assert_eq!(view["status"], "completed", "{view}");
        assert_eq!(view["result"], "VALID", "{view}");
        assert_eq!(
            view["attestation"]["worker"]
                .as_str()
                .unwrap()
                .parse::<notary_protocol::Address>()
                .unwrap(),
            key.address()
        );
    }
    c.shutdown().await;
}
