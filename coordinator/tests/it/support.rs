//! Test support: real coordinators on port 0, real worker processes, an HTTP client.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use notary_coordinator::{run, Config};
use notary_protocol::{Address, WorkerKey};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const HELLO_HASH: &str = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";

/// A coordinator running in this test process.
pub struct Coordinator {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<notary_coordinator::Result<()>>>,
}

impl Coordinator {
    /// Embedded mode (memory queue) with `workers` in-process slots.
    pub async fn embedded(workers: usize) -> Self {
        Self::start(test_config(None, workers, vec![])).await
    }

    pub async fn start(config: Config) -> Self {
        Self::start_until(config, true).await
    }

    /// Starts a coordinator and returns once it answers HTTP at all (even 503: its Redis may
    /// be away on purpose).
    pub async fn start_serving(config: Config) -> Self {
        Self::start_until(config, false).await
    }

    async fn start_until(config: Config, healthy: bool) -> Self {
        warm_module_cache();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(run(listener, config, async move {
            let _ = rx.await;
        }));
        let c = Coordinator {
            url,
            stop: Some(tx),
            task: Some(task),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = client().get(format!("{}/health", c.url)).send().await {
                if r.status().is_success() || !healthy {
                    return c;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("coordinator did not become healthy");
    }

    /// A coordinator served by another process (a real `notary-coordinator` binary) at `url`.
    pub fn remote(url: String) -> Self {
        Coordinator {
            url,
            stop: None,
            task: None,
        }
    }

    /// Graceful stop; waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    pub async fn verify(&self, body: Value) -> (u16, Value) {
        self.post("/verify", body, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = client().post(format!("{}{path}", self.url)).json(&body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        decode(resp).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        decode(
            client()
                .get(format!("{}{path}", self.url))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Polls GET /verify/:id until final.
    pub async fn wait_final(&self, id: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (status, body) = self.get(&format!("/verify/{id}")).await;
            if status == 200 {
                return body;
            }
            assert_eq!(status, 202, "unexpected status {status}: {body}");
            assert!(
                Instant::now() < deadline,
                "job {id} not final within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn decode(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

pub fn client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap()
        })
        .clone()
}

pub fn test_config(redis: Option<String>, workers: usize, allow: Vec<Address>) -> Config {
    let mut config = Config {
        // In memory unless a test gives its coordinator a directory of its own.
        data_dir: notary_coordinator::config::DataDir::Memory,
        redis,
        workers,
        allowed_workers: allow,
        ..Config::default()
    };
    config.sync_wait = Duration::from_secs(30);
    config.lease_ttl = Duration::from_millis(1500);
    config.sandbox.module_cache_dir = Some(cache_dir().display().to_string());
    config.redis_prefix = format!("t{}:", rand_suffix());
    // Protections off unless a test turns them on: tests send many requests from one IP,
    // and some induce failures on purpose.
    config.protect.rate_limit_per_minute = 0;
    config.protect.max_concurrent_per_agent = 0;
    config.protect.breaker_failures = u32::MAX;
    config
}

/// Compiles the JavaScript runtime into the shared module cache once, before any test needs it:
/// otherwise every test starting at once on a cold cache compiles it at the same time, which
/// on 2 cores turns a 20 s suite into minutes.
pub fn warm_module_cache() {
    static WARM: OnceLock<()> = OnceLock::new();
    WARM.get_or_init(|| {
        let settings = notary_worker::SandboxSettings {
            module_cache_dir: Some(cache_dir().display().to_string()),
            ..Default::default()
        };
        notary_worker::sandbox::Sandbox::new(settings.sandbox_config(1))
            .expect("sandbox for cache warm-up");
    });
}

/// One compiled-module cache for the whole test run, so each sandbox start is fast.
pub fn cache_dir() -> PathBuf {
    let dir = target_dir().join("notary-test-module-cache");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn rand_suffix() -> u32 {
    use std::time::SystemTime;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ std::process::id()
}

/// `target/<profile>` of this test binary.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The `notary-worker` binary, brought up to date first.
///
/// The build is exactly the test command's own (`cargo build --workspace --all-targets`, the
/// features `cargo test` resolves), so after `scripts/test.sh` it is a no-op. (`-p
/// notary-worker` or `--bins` would resolve features differently and recompile the worker in
/// the middle of the tests.)
pub fn worker_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = target_dir().join("notary-worker");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--workspace", "--all-targets"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building notary-worker failed");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// A `notary-worker` started with `args` (the module cache added) and `key`, logging at
/// `log` (`json`: one JSON object per line), whose stderr lines arrive on the receiver: for
/// tests that read what a worker says. Kill the child when done.
pub fn spawn_logged_worker(
    args: &[&str],
    key: &WorkerKey,
    log: &str,
) -> (Child, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader};
    let (level, json) = match log.strip_suffix(",json") {
        Some(level) => (level, true),
        None => (log, false),
    };
    let mut command = Command::new(worker_bin());
    command
        .args(args)
        .args(["--module-cache-dir", &cache_dir().display().to_string()])
        .env("NOTARY_WORKER_KEY", key.to_hex())
        .env("RUST_LOG", level)
        .env_remove("NOTARY_LOG_FORMAT")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    if json {
        command.env("NOTARY_LOG_FORMAT", "json");
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// A `notary-worker` process.
pub struct WorkerProcess {
    pub child: Child,
}

impl WorkerProcess {
    pub fn spawn(redis: &str, prefix: &str, concurrency: usize, key: &WorkerKey) -> Self {
        Self::spawn_with(redis, prefix, concurrency, key, &[])
    }

    /// [`Self::spawn`] with `extra` flags (a test aid such as `--fault wrong-output`).
    pub fn spawn_with(
        redis: &str,
        prefix: &str,
        concurrency: usize,
        key: &WorkerKey,
        extra: &[&str],
    ) -> Self {
        warm_module_cache();
        let child = Command::new(worker_bin())
            .args([
                "--redis",
                redis,
                "--redis-prefix",
                prefix,
                "--concurrency",
                &concurrency.to_string(),
            ])
            .args([
                "--heartbeat-ms",
                "400",
                "--module-cache-dir",
                &cache_dir().display().to_string(),
            ])
            .args(extra)
            .env("NOTARY_WORKER_KEY", key.to_hex())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        WorkerProcess { child }
    }

    /// A worker of the open fleet: no Redis, it leases from the coordinator at `url` over
    /// HTTP and registers at start as provider and verifier.
    pub fn remote(url: &str, concurrency: usize, key: &WorkerKey) -> Self {
        Self::remote_with(url, concurrency, key, &[])
    }

    /// [`Self::remote`] with `extra` flags (`--stream`).
    pub fn remote_with(url: &str, concurrency: usize, key: &WorkerKey, extra: &[&str]) -> Self {
        warm_module_cache();
        let child = Command::new(worker_bin())
            .args(["--coordinator", url, "--register", "provider,verifier"])
            .args(extra)
            .args(["--concurrency", &concurrency.to_string()])
            .args([
                "--heartbeat-ms",
                "400",
                "--module-cache-dir",
                &cache_dir().display().to_string(),
            ])
            .env("NOTARY_WORKER_KEY", key.to_hex())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        WorkerProcess { child }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn hello(expected: &str) -> Value {
    json!({"taskType": "code-execution", "code": "console.log(\"hello world\")", "expectedHash": expected})
}

pub fn js(code: &str) -> Value {
    json!({"taskType": "code-execution", "code": code, "expectedHash": "0".repeat(64)})
}

pub fn sha256_hex(data: &[u8]) -> String {
    notary_protocol::sha256(data).to_hex()
}

/// A WASI module that keeps its slot busy for about `ms` milliseconds, then prints `done`, as
/// a job with a `timeout_secs` wall-clock limit: for tests that need a job still running.
///
/// Sleeping holds no slot any more (virtual time, issue 22), so it computes: a dependent chain
/// of divisions, ~31 fuel and ~17 ns per round here (the divisor comes from `memory.size` so
/// the compiler cannot turn it into a multiplication). At most 5 s, so the default 10^10 fuel
/// suffices; a loaded or slower machine only makes it run longer.
pub fn busy_guest(ms: u64, timeout_secs: u64) -> serde_json::Value {
    assert!(ms <= 5_000, "at most 5 s within the default fuel");
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "done\n")
  (func (export "_start")
    (local $i i64) (local $x i64) (local $d i64)
    (local.set $d (i64.add (i64.extend_i32_u (memory.size)) (i64.const 6)))
    (local.set $i (i64.const {rounds}))
    (loop $l
      (local.set $x (i64.div_u (i64.or (local.get $x) (i64.const 0x7000000000000000)) (local.get $d)))
      (local.set $x (i64.div_u (i64.or (local.get $x) (i64.const 0x7000000000000000)) (local.get $d)))
      (local.set $x (i64.div_u (i64.or (local.get $x) (i64.const 0x7000000000000000)) (local.get $d)))
      (local.set $x (i64.div_u (i64.or (local.get $x) (i64.const 0x7000000000000000)) (local.get $d)))
      (br_if $l (i64.ne (local.tee $i (i64.sub (local.get $i) (i64.const 1))) (i64.const 0))))
    (i32.store (i32.const 200) (i32.const 256))
    (i32.store (i32.const 204) (i32.const 5))
    (drop (call $write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 208)))))"#,
        rounds = ms.max(1) * 57_000
    );
    serde_json::json!({"taskType": "code-execution", "language": "wat", "code": wat,
                       "expectedHash": sha256_hex(b"done\n"), "timeoutSeconds": timeout_secs})
}

/// Submits with `Prefer: respond-async` and returns the job id of the 202.
pub async fn submit_async(c: &Coordinator, body: serde_json::Value) -> String {
    let (status, resp) = c
        .post("/verify", body, &[("prefer", "respond-async")])
        .await;
    assert_eq!(status, 202, "{resp}");
    resp["jobId"].as_str().unwrap().to_string()
}

/// A queue client on `redis` under `prefix` (to watch leases from a test).
pub async fn queue_client(redis: &str, prefix: &str) -> notary_queue::RedisQueue {
    let mut config = notary_queue::RedisQueueConfig::new(redis);
    config.key_prefix = prefix.to_string();
    notary_queue::RedisQueue::connect(config).await.unwrap()
}

/// Waits (at most 60 s) until `n` jobs are leased (workers are running them).
pub async fn wait_leased(q: &notary_queue::RedisQueue, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while notary_queue::JobQueue::depth(q).await.unwrap().leased < n {
        assert!(Instant::now() < deadline, "no worker leased the job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Where a store under test lives, so a conformance suite can open it again (as a restarted
/// coordinator does): SQLite in memory (nothing to reopen), in a file, or Redis under a prefix.
pub enum StoreHome {
    Memory,
    File(tempfile::TempDir),
    Redis(notary_queue::test_utils::RedisServer, String),
}

/// Opens the database file at `path` again, waiting (at most 5 s) for the previous handle's
/// thread to let go of its exclusive lock.
pub fn reopen_db(path: &std::path::Path) -> std::sync::Arc<notary_coordinator::db::Db> {
    use notary_coordinator::db::{Db, Durability};
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Db::open(Some(path), Durability::Process) {
            Ok(db) => return std::sync::Arc::new(db),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("cannot reopen {}: {e}", path.display()),
        }
    }
}

/// The hello-world request parsed into a job record (fuel budget 1000, default domain), as
/// `POST /verify` would accept it; not stored anywhere.
pub async fn hello_record() -> notary_coordinator::record::JobRecord {
    use notary_coordinator::api::request::{parse_verify_request, JobDefaults};
    use notary_coordinator::db::{Db, Durability};
    use notary_coordinator::modules::SqliteModules;
    let limits = notary_worker::sandbox::ValidationLimits::default();
    let modules = SqliteModules::open(std::sync::Arc::new(
        Db::open(None, Durability::Process).unwrap(),
    ))
    .await
    .unwrap();
    let defaults = JobDefaults {
        fuel: 1000,
        domain: notary_protocol::AttestationDomain::default(),
        limits: &limits,
        modules: &modules,
        webhooks: None,
    };
    parse_verify_request(&serde_json::to_vec(&hello(HELLO_HASH)).unwrap(), &defaults)
        .await
        .unwrap()
        .record
}

/// Waits (up to 60 s) until `n` workers are alive in the fleet's queue at `redis`/`prefix`.
pub async fn wait_alive(redis: &str, prefix: &str, n: usize) {
    use notary_queue::JobQueue as _;
    let q = queue_client(redis, prefix).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while q.alive(Duration::from_millis(1500)).await.unwrap().len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "the workers did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A request signed by `key` with the actor headers (a random `nonce` query parameter keeps
/// equal requests distinct), with `body` as JSON and `worker_id` in `x-notary-worker-id`.
pub async fn actor_request(
    c: &Coordinator,
    key: &WorkerKey,
    method: &str,
    path: &str,
    body: Option<&Value>,
    worker_id: Option<&str>,
) -> reqwest::Response {
    let path = format!(
        "{path}{}nonce={:x}",
        if path.contains('?') { '&' } else { '?' },
        rand::random::<u64>()
    );
    let text = body.map(Value::to_string).unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let h = notary_protocol::actor::sign_request(key, method, &path, now, text.as_bytes()).unwrap();
    let mut req = client().request(method.parse().unwrap(), format!("{}{path}", c.url));
    for (name, value) in h.pairs() {
        req = req.header(name, value);
    }
    if let Some(id) = worker_id {
        req = req.header("x-notary-worker-id", id);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json").body(text);
    }
    req.send().await.unwrap()
}

/// Runs `contracts/test/<script>` with node and `vars`; the one JSON line it printed (its
/// stderr in the panic when it fails).
pub async fn node_script(script: &str, vars: &[(&str, &str)]) -> Value {
    let out = tokio::process::Command::new("node")
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../contracts/test")
                .join(script),
        )
        .envs(vars.iter().copied())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Publishes `source` (a `.js` or `.wat` file's text) as the module `name@0.1.0`; its hash.
pub async fn publish_file(c: &Coordinator, name: &str, extension: &str, source: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.{extension}"));
    std::fs::write(&file, source).unwrap();
    let options = notary_pack::PackOptions {
        name: Some(name.into()),
        description: format!("{name} (test module)"),
        ..notary_pack::PackOptions::default()
    };
    let package = notary_pack::build_package(
        &file,
        &options,
        &notary_profile::ValidationLimits::default(),
    )
    .unwrap();
    let (status, body) = c
        .post("/modules", serde_json::to_value(&package).unwrap(), &[])
        .await;
    assert!(status == 201 || status == 200, "{status} {body}");
    body["moduleHash"].as_str().unwrap().to_string()
}

/// Starts a server process (`command(port)`) on a free loopback port and waits (60 s) until its
/// `/health` answers. A process that exits first (its port taken by something else between
/// choosing and binding it) is started again on another port, up to five times.
pub async fn spawn_serving(command: impl Fn(u16) -> Command) -> (Child, String) {
    let ready = |port: u16| async move {
        client()
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    };
    match spawn_until_ready(command, ready, Duration::from_secs(60)).await {
        Ok((child, port)) => (child, format!("http://127.0.0.1:{port}")),
        Err(e) => panic!("{e} (see its log above)"),
    }
}

/// The one start loop of every server a test spawns (coordinators, Hardhat): starts
/// `command(port)` on a port free a moment ago and polls `ready(port)` every 50 ms. The port
/// can be taken between choosing and binding it (an outgoing connection's ephemeral port,
/// another test's server), and the process then exits at once: it is started again on another
/// port, up to five times. A process still alive but not ready within `within` is killed.
/// `Err` says which of the two happened, for the caller's message.
pub async fn spawn_until_ready<Ready, Answer>(
    command: impl Fn(u16) -> Command,
    ready: Ready,
    within: Duration,
) -> Result<(Child, u16), String>
where
    Ready: Fn(u16) -> Answer,
    Answer: std::future::Future<Output = bool>,
{
    for _ in 0..5 {
        let port = notary_queue::test_utils::free_port();
        let mut child = command(port).spawn().unwrap();
        let deadline = Instant::now() + within;
        loop {
            if ready(port).await {
                return Ok((child, port));
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the server on port {port} was not ready within {within:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Err("the server exited at start five times".into())
}
