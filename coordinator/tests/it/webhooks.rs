//! Webhooks (issue 10), end to end: a real receiver on loopback, real coordinators (embedded
//! with SQLite, and fleet mode on a real Redis), signatures checked by the official Standard
//! Webhooks library (npm `standardwebhooks`) in `verify-webhooks.mjs`.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use notary_coordinator::config::DataDir;
use notary_coordinator::webhooks::settings::parse_schedule;
use notary_coordinator::webhooks::{RedisWebhooks, SqliteWebhooks, WebhookStore};
use notary_coordinator::Config;
use notary_queue::test_utils::{RedisServer, RedisServerOptions};
use serde::Serialize;
use serde_json::{json, Value};

use crate::support::*;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const RAW_SECRET: &str = "a-raw-secret-of-more-than-24-bytes";

/// One request the receiver got.
#[derive(Clone, Debug, Serialize)]
struct Captured {
    headers: BTreeMap<String, String>,
    body: String,
    #[serde(skip)]
    at: Instant,
}

impl Captured {
    fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Script {
    /// Answers to give, in order (status, one extra header); then 200.
    answers: VecDeque<(u16, Option<(&'static str, String)>)>,
    captured: Vec<Captured>,
}

/// A webhook receiver: a real axum server on 127.0.0.1, port 0, recording raw requests.
struct Receiver {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = script.lock().unwrap();
    s.captured.push(Captured {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });
    let (status, header) = s.answers.pop_front().unwrap_or((200, None));
    let mut resp = StatusCode::from_u16(status).unwrap().into_response();
    if let Some((name, value)) = header {
        resp.headers_mut().insert(name, value.parse().unwrap());
    }
    resp
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(script.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { addr, script, task }
    }

    fn url(&self) -> String {
        format!("http://{}/hooks/notary", self.addr)
    }

    fn answer(&self, answers: &[(u16, Option<&'static str>)]) {
        let answers = answers.iter().map(|(status, retry_after)| {
            (*status, retry_after.map(|r| ("retry-after", r.to_string())))
        });
        self.script.lock().unwrap().answers.extend(answers);
    }

    fn answer_with(&self, status: u16, header: &'static str, value: String) {
        self.script
            .lock()
            .unwrap()
            .answers
            .push_back((status, Some((header, value))));
    }

    fn captured(&self) -> Vec<Captured> {
        self.script.lock().unwrap().captured.clone()
    }

    /// Waits (at most `limit`) until `n` requests arrived; returns them all.
    async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Captured> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.captured();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} webhook requests within {limit:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A coordinator config that may reach loopback, with a compressed retry schedule.
fn hook_config(redis: Option<String>, schedule: &str) -> Config {
    let mut config = test_config(redis, 1, vec![]);
    config.webhooks.schedule = parse_schedule(schedule).unwrap();
    config.webhooks.allow = vec!["127.0.0.0/8".parse().unwrap()];
    config
}

async fn register(c: &Coordinator, url: &str, events: &[&str], secret: &str) -> (u16, Value) {
    c.post(
        "/webhooks/register",
        json!({"url": url, "events": events, "secret": secret}),
        &[],
    )
    .await
}

async fn registered(c: &Coordinator, url: &str, events: &[&str], secret: &str) -> String {
    let (status, body) = register(c, url, events, secret).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// A request with `authorization: Bearer <secret>` (none for `None`).
async fn managed(c: &Coordinator, method: &str, path: &str, secret: Option<&str>) -> (u16, Value) {
    let url = format!("{}{path}", c.url);
    let mut req = match method {
        "GET" => client().get(url),
        "DELETE" => client().delete(url),
        _ => unreachable!(),
    };
    if let Some(s) = secret {
        req = req.header("authorization", format!("Bearer {s}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A job that names `webhook`, run to its end; returns the job view.
async fn job_for(c: &Coordinator, webhook: &str, mut body: Value) -> Value {
    body["webhookId"] = json!(webhook);
    let (status, view) = c.verify(body).await;
    assert!(status == 200 || status == 500, "{status}: {view}");
    view
}

/// Runs `verify-webhooks.mjs` (the official `standardwebhooks` library) on `deliveries`.
fn official_verify(secret: &str, deliveries: &[Captured]) -> Result<(), String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        serde_json::to_vec(&json!({"secret": secret, "deliveries": deliveries})).unwrap(),
    )
    .unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/verify-webhooks.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(file.path())
        .output()
        .expect("node runs");
    if out.status.success() {
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["verified"], deliveries.len());
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn assert_verified(secret: &str, deliveries: &[Captured]) {
    if let Err(e) = official_verify(secret, deliveries) {
        panic!("the official library refused a delivery: {e}");
    }
    // And the check can fail: another secret, or a changed body, is refused.
    assert!(official_verify("whsec_bm90IHRoZSBzZWNyZXQgb2YgdGhpcyB3ZWJob29r", deliveries).is_err());
    let mut tampered = deliveries[0].clone();
    tampered.body = tampered.body.replacen("verification", "verificatioN", 1);
    assert!(official_verify(secret, &[tampered]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_delivered_once_signed_for_the_official_library() {
    let receiver = Receiver::start().await;
    let c = Coordinator::start(hook_config(None, "0s,200ms,200ms")).await;
    let all = registered(
        &c,
        &receiver.url(),
        &["verification.completed", "verification.failed"],
        WHSEC,
    )
    .await;
    let failed_only = registered(&c, &receiver.url(), &["verification.failed"], RAW_SECRET).await;

    let valid = job_for(&c, &all, hello(HELLO_HASH)).await;
    assert_eq!(valid["result"], "VALID", "{valid}");
    let invalid = job_for(&c, &all, hello(&"0".repeat(64))).await;
    assert_eq!(invalid["result"], "INVALID", "{invalid}");
    let error = job_for(&c, &failed_only, js("throw new Error('boom')")).await;
    assert_eq!(error["result"], "ERROR", "{error}");
    // Only failures for `failed_only`: this one is not sent to it.
    job_for(&c, &failed_only, hello(HELLO_HASH)).await;
    // A job that did not opt in is nobody's event.
    let (status, _) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200);

    let got = receiver.wait_for(3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got_later = receiver.captured();
    assert_eq!(
        got_later.len(),
        3,
        "exactly three deliveries: {got_later:#?}"
    );
    let ids: HashSet<&str> = got.iter().map(Captured::id).collect();
    assert_eq!(ids.len(), 3, "one request per delivery id");

    let by_job = |job: &Value| {
        got.iter()
            .find(|d| d.json()["data"]["jobId"] == job["jobId"])
            .unwrap_or_else(|| panic!("no delivery for {job}"))
            .clone()
    };
    let (v, i, e) = (by_job(&valid), by_job(&invalid), by_job(&error));
    assert_eq!(v.json()["event"], "verification.completed");
    assert_eq!(v.json()["data"]["result"], "VALID");
    assert_eq!(v.json()["data"]["expectedHash"], valid["expectedHash"]);
    assert_eq!(v.json()["data"]["actualHash"], valid["actualHash"]);
    assert_eq!(i.json()["event"], "verification.completed");
    assert_eq!(i.json()["data"]["result"], "INVALID");
    assert_eq!(e.json()["event"], "verification.failed");
    assert_eq!(e.json()["data"]["result"], "ERROR");
    assert!(v.json()["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(v.id().starts_with("msg_"));
    assert_eq!(v.headers["content-type"], "application/json");

    assert_verified(WHSEC, &[v.clone(), i.clone()]);
    assert_verified(RAW_SECRET, &[e]);

    // The history: one attempt per delivery, answered 200.
    let (status, body) = managed(
        &c,
        "GET",
        &format!("/webhooks/{all}/deliveries"),
        Some(WHSEC),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let attempts = body["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{body}");
    for a in attempts {
        assert_eq!(a["statusCode"], 200, "{a}");
        assert_eq!(a["attempt"], 1);
        assert!(a["durationMs"].is_u64() && a["at"].is_string(), "{a}");
    }
    c.shutdown().await;
}

/// 500, then 503 with `Retry-After: 1`, then 200: three attempts of one delivery, the third
/// at least a second after the second.
async fn retries_until_success(config: Config) {
    let receiver = Receiver::start().await;
    receiver.answer(&[(500, None), (503, Some("1"))]);
    let c = Coordinator::start(config).await;
    let id = registered(&c, &receiver.url(), &["verification.completed"], WHSEC).await;
    job_for(&c, &id, hello(HELLO_HASH)).await;

    let got = receiver.wait_for(3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.captured().len(), 3, "no attempt after the 200");
    assert!(
        got.iter().all(|d| d.id() == got[0].id()),
        "the same webhook-id on every retry"
    );
    assert!(
        got.iter().all(|d| d.body == got[0].body),
        "the same body on every retry"
    );
    let gap = got[2].at - got[1].at;
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After: 1 honoured, waited {gap:?}"
    );
    assert_verified(WHSEC, &got);

    let (status, body) = managed(
        &c,
        "GET",
        &format!("/webhooks/{id}/deliveries"),
        Some(WHSEC),
    )
    .await;
    assert_eq!(status, 200);
    let codes: Vec<_> = body["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap(),
                a["statusCode"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(codes, vec![(3, 200), (2, 503), (1, 500)], "{body}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_the_delivery_on_a_retry_embedded() {
    retries_until_success(hook_config(None, "0s,200ms,200ms")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_the_delivery_on_a_retry_redis() {
    let redis = RedisServer::start();
    retries_until_success(hook_config(Some(redis.url()), "0s,200ms,200ms")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_ends_and_410_disables_the_webhook() {
    let receiver = Receiver::start().await;
    let c = Coordinator::start(hook_config(None, "0s,100ms")).await;
    // Exhausted: two failures and no more attempts.
    receiver.answer(&[(500, None), (502, None)]);
    let id = registered(&c, &receiver.url(), &["verification.completed"], WHSEC).await;
    job_for(&c, &id, hello(HELLO_HASH)).await;
    receiver.wait_for(2, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        receiver.captured().len(),
        2,
        "exhausted after the schedule's two attempts"
    );

    // Gone: one attempt, and the webhook is disabled.
    receiver.answer(&[(410, None)]);
    job_for(&c, &id, hello(HELLO_HASH)).await;
    receiver.wait_for(3, Duration::from_secs(20)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = managed(&c, "GET", &format!("/webhooks/{id}"), Some(WHSEC)).await;
        assert_eq!(status, 200, "{body}");
        if body["active"] == false {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "410 did not disable the webhook: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut body = hello(HELLO_HASH);
    body["webhookId"] = json!(id);
    let (status, resp) = c.verify(body).await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(resp["params"]["field"], "webhookId");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.captured().len(), 3, "nothing more after 410");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_registrations_are_400_naming_the_field() {
    // The default policy: no private range is open.
    let mut config = hook_config(None, "0s");
    config.webhooks.allow.clear();
    let c = Coordinator::start(config).await;
    let events = ["verification.completed"];
    for url in [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook", // a name resolving to loopback
        "http://[::1]/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "http://100.64.1.1/",
        // Issue 22, defect 6: IPv6 forms that embed or name non-global addresses.
        "http://[2002:7f00:1::]/hook",    // 6to4 of 127.0.0.1
        "http://[2002:a9fe:a9fe::]/hook", // 6to4 of 169.254.169.254
        "http://[::ffff:0:7f00:1]/hook",  // IPv4-translated 127.0.0.1
        "http://[64:ff9b:1::a00:1]/hook", // NAT64 local use
        "http://[100::1]/hook",           // discard-only
        "http://[2001:db8::1]/hook",      // documentation
        "http://[2001:2::1]/hook",        // benchmarking
        "http://[2001::1]/hook",          // Teredo, in 2001::/23
        "http://192.0.2.1/hook",          // TEST-NET-1
        "ftp://example.com/hook",
        "https://user:pass@example.com/hook",
        "not a url",
    ] {
        let (status, body) = register(&c, url, &events, WHSEC).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["params"]["field"], "url", "{url}: {body}");
        assert!(
            !body.to_string().contains("pass@"),
            "credentials echoed: {body}"
        );
    }
    let url = "http://93.184.215.14/hook"; // public, never contacted: no job names it
    for (events, secret, field) in [
        (json!(["verification.done"]), json!(WHSEC), "events"),
        (json!([]), json!(WHSEC), "events"),
        (json!("verification.completed"), json!(WHSEC), "events"),
        (json!(events), json!("too-short"), "secret"),
        (json!(events), json!("whsec_c2hvcnQ="), "secret"),
        (json!(events), json!(42), "secret"),
    ] {
        let (status, body) = c
            .post(
                "/webhooks/register",
                json!({"url": url, "events": events, "secret": secret}),
                &[],
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["params"]["field"], field, "{body}");
    }
    let (status, body) = register(&c, url, &events, WHSEC).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body.get("secret").is_none(),
        "the secret is never shown: {body}"
    );
    assert!(
        body["createdAt"].is_string() && body["id"].is_string(),
        "{body}"
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_needs_the_webhooks_secret() {
    let c = Coordinator::start(hook_config(None, "0s")).await;
    let url = "http://127.0.0.1:9/hook";
    let mine = registered(&c, url, &["verification.completed"], WHSEC).await;
    let theirs = registered(&c, url, &["verification.completed"], RAW_SECRET).await;
    for path in [
        format!("/webhooks/{mine}"),
        format!("/webhooks/{mine}/deliveries"),
    ] {
        assert_eq!(managed(&c, "GET", &path, None).await.0, 401, "{path}");
        assert_eq!(
            managed(&c, "GET", &path, Some(RAW_SECRET)).await.0,
            401,
            "{path}"
        );
        assert_eq!(
            managed(&c, "GET", &path, Some(WHSEC)).await.0,
            200,
            "{path}"
        );
    }
    assert_eq!(
        managed(&c, "DELETE", &format!("/webhooks/{mine}"), None)
            .await
            .0,
        401
    );
    assert_eq!(
        managed(&c, "DELETE", &format!("/webhooks/{mine}"), Some(RAW_SECRET))
            .await
            .0,
        401
    );
    let unknown = uuid::Uuid::new_v4();
    let (status, body) = managed(&c, "GET", &format!("/webhooks/{unknown}"), Some(WHSEC)).await;
    assert_eq!(status, 401, "unknown ids look like wrong secrets: {body}");
    assert_eq!(body["error"], "Unauthorized");
    let (status, body) = managed(&c, "GET", &format!("/webhooks/{theirs}"), Some(RAW_SECRET)).await;
    assert_eq!(status, 200);
    assert_eq!(body["url"], url);
    assert!(body.get("secret").is_none());

    assert_eq!(
        managed(&c, "DELETE", &format!("/webhooks/{mine}"), Some(WHSEC))
            .await
            .0,
        204
    );
    assert_eq!(
        managed(&c, "GET", &format!("/webhooks/{mine}"), Some(WHSEC))
            .await
            .0,
        401
    );

    // A job may name only a registered webhook.
    for (id, _why) in [
        (json!(mine), "deleted"),
        (json!(unknown.to_string()), "unknown"),
        (json!("nope"), "malformed"),
        (json!(7), "not a string"),
    ] {
        let mut body = hello(HELLO_HASH);
        body["webhookId"] = id;
        let (status, resp) = c.verify(body).await;
        assert_eq!(status, 400, "{resp}");
        assert_eq!(resp["params"]["field"], "webhookId", "{resp}");
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_survives_a_coordinator_restart_and_the_address_policy_holds_at_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    receiver.answer(&[(500, None)]);
    let config = || {
        let mut config = hook_config(None, "0s,3s,1s");
        config.data_dir = DataDir::Path(dir.path().to_path_buf());
        config
    };
    let c = Coordinator::start(config()).await;
    let id = registered(&c, &receiver.url(), &["verification.completed"], WHSEC).await;
    // Two more, registered while loopback is open: after the restart it is closed.
    let literal = registered(&c, &receiver.url(), &["verification.completed"], RAW_SECRET).await;
    let named_url = format!("http://localhost:{}/named", receiver.addr.port());
    let named = registered(&c, &named_url, &["verification.completed"], RAW_SECRET).await;
    let job = job_for(&c, &id, hello(HELLO_HASH)).await;
    // The first attempt is answered 500 and recorded; the retry is due in about 3 s.
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while managed(
        &c,
        "GET",
        &format!("/webhooks/{id}/deliveries"),
        Some(WHSEC),
    )
    .await
    .1["attempts"]
        .as_array()
        .map_or(0, Vec::len)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the first attempt was not recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.shutdown().await;
    let before = receiver.captured().len();

    // Restarted on the same data directory: the pending delivery is made.
    let c = Coordinator::start(config()).await;
    let got = receiver.wait_for(before + 1, Duration::from_secs(20)).await;
    let last = got.last().unwrap();
    assert_eq!(
        last.id(),
        got[0].id(),
        "the retry after the restart has the same webhook-id"
    );
    assert_eq!(last.json()["data"]["jobId"], job["jobId"]);
    assert_verified(WHSEC, &got);
    let (_, body) = managed(
        &c,
        "GET",
        &format!("/webhooks/{id}/deliveries"),
        Some(WHSEC),
    )
    .await;
    assert_eq!(body["attempts"][0]["statusCode"], 200, "{body}");
    c.shutdown().await;

    // Restarted with loopback closed: the webhooks registered while it was open reach nothing,
    // whether the URL is an IP literal or a name that resolves to loopback.
    let mut closed = config();
    closed.webhooks.allow = vec!["127.0.0.2/32".parse().unwrap()];
    let c = Coordinator::start(closed).await;
    let seen = receiver.captured().len();
    for (hook, path) in [(&literal, "/hooks/notary"), (&named, "/named")] {
        job_for(&c, hook, hello(HELLO_HASH)).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let attempt = loop {
            let (_, body) = managed(
                &c,
                "GET",
                &format!("/webhooks/{hook}/deliveries"),
                Some(RAW_SECRET),
            )
            .await;
            if let Some(a) = body["attempts"].as_array().and_then(|a| a.first()).cloned() {
                break a;
            }
            assert!(Instant::now() < deadline, "no attempt recorded for {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(attempt["statusCode"].is_null(), "{path}: {attempt}");
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.contains("non-public") || error.contains("refused by the webhook address policy"),
            "{path}: {error}"
        );
    }
    assert_eq!(
        receiver.captured().len(),
        seen,
        "a refused address received a request"
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_coordinators_on_one_redis_deliver_each_event_once() {
    let redis = RedisServer::start_with(RedisServerOptions::durable());
    let receiver = Receiver::start().await;
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        key_file.path(),
        notary_protocol::WorkerKey::generate().to_hex(),
    )
    .unwrap();
    let config = || {
        let mut config = hook_config(Some(redis.url()), "0s,200ms,200ms");
        config.worker_key_file = Some(key_file.path().to_path_buf());
        config
    };
    let a_config = config();
    let mut b_config = config();
    b_config.redis_prefix = a_config.redis_prefix.clone();
    let a = Coordinator::start(a_config).await;
    let b = Coordinator::start(b_config).await;
    let id = registered(&a, &receiver.url(), &["verification.completed"], WHSEC).await;
    let mut jobs = HashSet::new();
    for n in 0..6 {
        let c = if n % 2 == 0 { &a } else { &b };
        let view = job_for(c, &id, hello(HELLO_HASH)).await;
        jobs.insert(view["jobId"].as_str().unwrap().to_string());
    }
    let got = receiver.wait_for(6, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let got_later = receiver.captured();
    assert_eq!(
        got_later.len(),
        6,
        "each event once between the two: {got_later:#?}"
    );
    let delivered: HashSet<String> = got
        .iter()
        .map(|d| d.json()["data"]["jobId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(delivered, jobs);
    assert_verified(WHSEC, &got);

    // Redis restarts (with its append-only file) while a delivery waits for its retry (the
    // receiver asks for 2 s).
    receiver.answer(&[(503, Some("2"))]);
    let job = job_for(&b, &id, hello(HELLO_HASH)).await;
    receiver.wait_for(7, Duration::from_secs(20)).await;
    let mut redis = redis;
    redis.restart();
    let got = receiver.wait_for(8, Duration::from_secs(30)).await;
    assert_eq!(got[7].id(), got[6].id());
    assert!(got[7].at - got[6].at >= Duration::from_millis(1900));
    assert_eq!(got[7].json()["data"]["jobId"], job["jobId"]);
    b.shutdown().await;
    a.shutdown().await;
}

/// The outbox contract, on both backends: idempotent enqueue, leased claims that come back
/// when the claimer dies, records only under the current claim, retries when due, history
/// newest first, 410 disabling, deletion.
async fn outbox_conformance(store: Arc<dyn WebhookStore>) {
    use notary_coordinator::webhooks::store::{Attempt, NewDelivery, Next};
    use notary_coordinator::webhooks::{delivery_id, Webhook, WebhookEvent};
    let now = || notary_coordinator::record::now_ms();
    let webhook = Webhook {
        id: uuid::Uuid::new_v4(),
        url: "https://93.184.215.14/hook".into(),
        events: vec![WebhookEvent::Completed],
        secret: WHSEC.into(),
        created_at_ms: now(),
        disabled: false,
    };
    store.insert_webhook(&webhook).await.unwrap();
    assert_eq!(
        store.webhook(webhook.id).await.unwrap().as_ref(),
        Some(&webhook)
    );
    let job = uuid::Uuid::new_v4();
    let delivery = NewDelivery {
        id: delivery_id(webhook.id, job, WebhookEvent::Completed),
        webhook_id: webhook.id,
        job_id: job,
        event: WebhookEvent::Completed,
        body: "{}".into(),
        final_at_ms: now(),
    };
    assert!(store.enqueue(&delivery).await.unwrap());
    assert!(
        !store.enqueue(&delivery).await.unwrap(),
        "enqueue is idempotent"
    );
    assert_eq!(store.outbox_depth().await.unwrap(), 1);

    let lease = Duration::from_millis(300);
    let first = store.claim(now(), 10, lease).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].delivery, delivery);
    assert_eq!(first[0].attempts, 0);
    assert!(
        store.claim(now(), 10, lease).await.unwrap().is_empty(),
        "claimed: not due"
    );
    // The claimer "dies": after the lease the delivery is claimable again, with a new token.
    tokio::time::sleep(lease + Duration::from_millis(50)).await;
    let second = store.claim(now(), 10, lease).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(second[0].token, first[0].token);
    let attempt = |n: u32, code: u16| Attempt {
        delivery_id: delivery.id.clone(),
        job_id: job,
        event: WebhookEvent::Completed,
        attempt: n,
        at_ms: now(),
        status_code: Some(code),
        error: None,
        duration_ms: 3,
    };
    let retry_at = now() + 200;
    assert!(
        !store
            .record(&first[0], &attempt(1, 500), Next::RetryAt(retry_at))
            .await
            .unwrap(),
        "a lost claim records nothing"
    );
    assert!(store
        .record(&second[0], &attempt(1, 500), Next::RetryAt(retry_at))
        .await
        .unwrap());
    assert!(
        store.claim(now(), 10, lease).await.unwrap().is_empty(),
        "not due yet"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let third = store.claim(now(), 10, lease).await.unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].attempts, 1);
    assert!(store
        .record(&third[0], &attempt(2, 410), Next::DisableWebhook)
        .await
        .unwrap());
    assert!(
        store.webhook(webhook.id).await.unwrap().unwrap().disabled,
        "410 disables"
    );
    assert_eq!(store.outbox_depth().await.unwrap(), 0);
    assert!(
        store
            .claim(now() + 86_400_000, 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "finished"
    );
    assert!(
        !store.enqueue(&delivery).await.unwrap(),
        "a finished delivery is not sent again"
    );
    let history: Vec<(u32, Option<u16>)> = store
        .attempts(webhook.id, 10)
        .await
        .unwrap()
        .iter()
        .map(|a| (a.attempt, a.status_code))
        .collect();
    assert_eq!(history, vec![(2, Some(410)), (1, Some(500))]);
    assert!(store.delete_webhook(webhook.id).await.unwrap());
    assert!(store.webhook(webhook.id).await.unwrap().is_none());
    assert!(store.attempts(webhook.id, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_contract_holds_on_both_backends() {
    let db = Arc::new(notary_coordinator::db::Db::open(None, Default::default()).unwrap());
    outbox_conformance(SqliteWebhooks::open(db).await.unwrap()).await;
    let redis = RedisServer::start();
    outbox_conformance(RedisWebhooks::new_lazy(&redis.url(), "conf:").unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_does_not_slow_jobs_and_redirects_are_not_followed() {
    // A receiver that accepts connections and never answers.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang_url = format!("http://{}/hook", hang.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = hang.accept().await {
            open.push(socket);
        }
    });
    let mut config = hook_config(None, "0s,100ms");
    config.webhooks.timeout = Duration::from_secs(2);
    let c = Coordinator::start(config).await;
    let id = registered(&c, &hang_url, &["verification.completed"], WHSEC).await;
    let started = Instant::now();
    for _ in 0..4 {
        let view = job_for(&c, &id, hello(HELLO_HASH)).await;
        assert_eq!(view["result"], "VALID");
    }
    let jobs_took = started.elapsed();
    // Every attempt ends at the timeout, recorded as such.
    let deadline = Instant::now() + Duration::from_secs(20);
    let attempts = loop {
        let (_, body) = managed(
            &c,
            "GET",
            &format!("/webhooks/{id}/deliveries"),
            Some(WHSEC),
        )
        .await;
        let attempts = body["attempts"].as_array().cloned().unwrap_or_default();
        if attempts.len() >= 8 {
            break attempts;
        }
        assert!(Instant::now() < deadline, "attempts not recorded: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for a in &attempts {
        assert!(a["statusCode"].is_null(), "{a}");
        assert!(a["error"].as_str().unwrap().starts_with("timeout"), "{a}");
        let ms = a["durationMs"].as_u64().unwrap();
        assert!((1900..6000).contains(&ms), "{a}");
    }
    // Had job handling waited for a delivery attempt, four jobs would have taken 8 s.
    assert!(jobs_took < Duration::from_secs(8), "{jobs_took:?}");
    held.abort();

    // A 307 to another receiver is a failure; the other receiver gets nothing.
    let (first, second) = (Receiver::start().await, Receiver::start().await);
    first.answer_with(307, "location", second.url());
    first.answer_with(308, "location", second.url());
    let id = registered(&c, &first.url(), &["verification.completed"], WHSEC).await;
    job_for(&c, &id, hello(HELLO_HASH)).await;
    first.wait_for(2, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(first.captured().len(), 2, "exhausted after two attempts");
    assert!(second.captured().is_empty(), "a redirect was followed");
    let (_, body) = managed(
        &c,
        "GET",
        &format!("/webhooks/{id}/deliveries"),
        Some(WHSEC),
    )
    .await;
    assert_eq!(body["attempts"][0]["statusCode"], 308, "{body}");
    assert_eq!(body["attempts"][1]["statusCode"], 307, "{body}");

    // The metrics saw it all.
    let (_, metrics) = c.get("/metrics").await;
    let metrics = metrics.as_str().unwrap().to_string();
    for series in [
        "notary_webhook_deliveries_total{outcome=\"exhausted\"}",
        "notary_webhook_attempts_total{result=\"network_error\"}",
        "notary_webhook_attempts_total{result=\"http_error\"}",
        "notary_webhook_outbox_depth",
        "notary_webhook_attempt_duration_seconds_count",
        "notary_webhook_delivery_latency_seconds_count",
    ] {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(series))
            .unwrap_or_else(|| panic!("{series} missing"));
        if !series.ends_with("depth") {
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(value >= 1.0, "{line}");
        }
    }
    c.shutdown().await;
}
