//! A restarted `notary-worker` loads its compiled modules from its disk cache (keyed by
//! engine compatibility hash and module hash) instead of compiling them again. Also measures
//! the first-job latency after a restart, with and without the cache.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisServer;
use serde_json::json;

use crate::modules::{example_input, pack, submit_and_wait, EXAMPLE_HASH};
use crate::support::*;

fn spawn_worker(redis: &str, prefix: &str, key: &WorkerKey, cache: &str) -> WorkerProcess {
    let child = Command::new(worker_bin())
        .args([
            "--redis",
            redis,
            "--redis-prefix",
            prefix,
            "--concurrency",
            "1",
        ])
        .args(["--heartbeat-ms", "400", "--module-cache-dir", cache])
        .env("NOTARY_WORKER_KEY", key.to_hex())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    WorkerProcess { child }
}

/// Every cached artifact: file name -> (inode, size). A recompiled module is written to a new
/// temporary file and renamed over the old one, so its inode changes.
fn artifacts(root: &Path) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    for engine_dir in std::fs::read_dir(root).unwrap() {
        let engine_dir = engine_dir.unwrap().path();
        for file in std::fs::read_dir(&engine_dir).unwrap() {
            let file = file.unwrap();
            let meta = file.metadata().unwrap();
            let name = format!(
                "{}/{}",
                engine_dir.file_name().unwrap().to_string_lossy(),
                file.file_name().to_string_lossy()
            );
            out.insert(name, (meta.ino(), meta.len()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_loads_cached_modules_without_recompiling() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let package = pack("guest-sdk/examples/c/fnv.wasm");
    let hash = notary_pack::publish(&c.url, &package)
        .await
        .unwrap()
        .to_hex();
    let job = json!({
        "taskType": "code-execution", "moduleHash": hash,
        "inputData": example_input(), "expectedHash": EXAMPLE_HASH,
    });
    let js_job = hello(HELLO_HASH);

    let cache = tempfile::tempdir().unwrap();
    let cache_path = cache.path().join("modules");
    let cache_arg = cache_path.display().to_string();

    // Start a worker, run both jobs (JavaScript runtime + the C module); return the time from
    // spawning the process to the first job's result.
    let run = |cache_arg: String| {
        let (url, prefix, key, job, js_job) = (
            redis.url(),
            prefix.clone(),
            key.clone(),
            job.clone(),
            js_job.clone(),
        );
        let c = &c;
        async move {
            let started = Instant::now();
            let mut worker = spawn_worker(&url, &prefix, &key, &cache_arg);
            let body = submit_and_wait(c, job).await;
            let first = started.elapsed();
            assert_eq!(body["result"], "VALID", "{body}");
            let body = submit_and_wait(c, js_job).await;
            assert_eq!(body["result"], "VALID", "{body}");
            worker.signal("-TERM");
            let _ = worker.child.wait();
            first
        }
    };

    let cold = run(cache_arg.clone()).await;
    let before = artifacts(&cache_path);
    assert_eq!(
        before.len(),
        2,
        "the runtime and the module are cached: {before:?}"
    );
    assert!(
        before.keys().any(|k| k.ends_with(&format!("{hash}.cwasm"))),
        "{before:?}"
    );

    let warm = run(cache_arg).await;
    let after = artifacts(&cache_path);
    assert_eq!(
        before, after,
        "the restarted worker recompiled (rewrote) an artifact"
    );

    let uncached = run("none".into()).await;
    eprintln!(
        "first-job latency from worker spawn (debug test build): empty cache {cold:?}, \
         after restart with the cache {warm:?}, after restart without a cache {uncached:?}"
    );
    assert!(
        warm < uncached + Duration::from_millis(500),
        "cached restart {warm:?} should not be slower than compiling {uncached:?}"
    );
    c.shutdown().await;
}
