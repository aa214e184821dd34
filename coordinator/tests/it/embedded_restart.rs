//! The durable embedded default: a `notary-coordinator` process SIGKILLed with jobs queued and
//! running comes back (on the same `--data-dir`) with every accepted job: finished ones
//! readable as they were, unfinished ones run again with one more delivery.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the real binary embedded on `data_dir` with one worker slot; waits until it serves.
async fn start(data_dir: &std::path::Path) -> (Process, String) {
    start_with(data_dir, 1).await
}

/// [`start`] with `workers` in-process worker slots (0: jobs are accepted and wait).
async fn start_with(data_dir: &std::path::Path, workers: usize) -> (Process, String) {
    worker_bin(); // builds the workspace's binaries, the coordinator's included
    let (child, url) = spawn_serving(|port| {
        let mut c = Command::new(target_dir().join("notary-coordinator"));
        c.args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", &data_dir.display().to_string()])
            .args([
                "--workers",
                &workers.to_string(),
                "--rate-limit-per-minute",
                "0",
            ])
            .args(["--module-cache-dir", &cache_dir().display().to_string()])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        c
    })
    .await;
    (Process(child), url)
}

async fn post_async(url: &str, body: &Value) -> String {
    submit_async(&Coordinator::remote(url.to_string()), body.clone()).await
}

async fn status(url: &str, id: &str) -> (u16, Value) {
    Coordinator::remote(url.to_string())
        .get(&format!("/verify/{id}"))
        .await
}

async fn final_view(url: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, v) = status(url, id).await;
        if code == 200 {
            return v;
        }
        assert_eq!(code, 202, "{v}");
        assert!(Instant::now() < deadline, "job {id} not final");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkilled_embedded_coordinator_comes_back_with_every_accepted_job() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, url) = start(dir.path()).await;

    // Finished before the kill.
    let done = post_async(&url, &hello(HELLO_HASH)).await;
    let done_view = final_view(&url, &done).await;
    assert_eq!(done_view["result"], "VALID");

    // One slot: the first sleeper runs, the rest wait in the queue.
    let mut unfinished = Vec::new();
    for _ in 0..3 {
        unfinished.push(post_async(&url, &busy_guest(1500, 10)).await);
    }
    unfinished.push(post_async(&url, &hello(HELLO_HASH)).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in &unfinished {
        assert_eq!(status(&url, id).await.0, 202, "job {id} should still run");
    }
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();

    let (_second, url) = start(dir.path()).await;
    // The finished job is there as it was.
    let (code, again) = status(&url, &done).await;
    assert_eq!(code, 200);
    assert_eq!(again, done_view);
    // Every unfinished one ran: the one that was running as its second delivery, the ones
    // that only waited in the queue as their first (a restart is no delivery).
    for (n, id) in unfinished.iter().enumerate() {
        let v = final_view(&url, id).await;
        assert_eq!(v["result"], "VALID", "{v}");
        assert_eq!(v["attempts"], if n == 0 { 2 } else { 1 }, "{v}");
    }
}

/// Issue 22, defect 1: jobs that were never leased survive any number of restarts with their
/// delivery count untouched (they used to fail "after 3 deliveries" without ever running).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_do_not_count_as_deliveries_of_jobs_that_never_ran() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, url) = start_with(dir.path(), 0).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(post_async(&url, &hello(HELLO_HASH)).await);
    }
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    // Three restarts without workers (SIGKILL and SIGTERM both), then one with a worker.
    for signal in ["-KILL", "-TERM", "-KILL"] {
        let (p, url) = start_with(dir.path(), 0).await;
        for id in &ids {
            assert_eq!(status(&url, id).await.0, 202, "job {id} must still wait");
        }
        let ok = Command::new("kill")
            .args([signal, &p.0.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let mut p = p;
        p.0.wait().unwrap();
    }
    let (_last, url) = start_with(dir.path(), 1).await;
    for id in &ids {
        let v = final_view(&url, id).await;
        assert_eq!(v["result"], "VALID", "{v}");
        assert_eq!(v["attempts"], 1, "{v}");
    }
}

/// A job running at every stop (as one that kills its host would be) counts a delivery each
/// time, noted in the delivery journal before its guest runs, so a SIGKILL loses none: past
/// the delivery limit (3) the restart fails it as refundable instead of running it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_running_at_every_kill_fails_past_the_delivery_limit() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("notary.sqlite3.deliveries");
    let (mut process, mut url) = start(dir.path()).await;
    let id = post_async(&url, &busy_guest(5000, 60)).await;
    for attempt in 1..=3 {
        // Leased (noted) and so running on the only slot: a 5 s guest.
        let note = format!("{id} {attempt}\n");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_dir(&journal)
            .unwrap()
            .any(|f| std::fs::read_to_string(f.unwrap().path()).is_ok_and(|t| t.contains(&note)))
        {
            assert!(Instant::now() < deadline, "delivery {attempt} never noted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status(&url, &id).await.0, 202);
        process.0.kill().unwrap();
        process.0.wait().unwrap();
        (process, url) = start(dir.path()).await;
    }
    let v = final_view(&url, &id).await;
    assert_eq!(v["status"], "error", "{v}");
    assert_eq!(v["errorCode"], "VM Spawn Failed", "{v}");
    assert_eq!(v["refundEligible"], true, "{v}");
    assert_eq!(v["attempts"], 3, "{v}");
}
