//! Guest behaviour through the API: faults are results, limits hold, output is deterministic.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// Copies stdin to stdout with fd_read / fd_write.
pub const ECHO_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $more
      (i32.store (i32.const 0) (i32.const 64))
      (i32.store (i32.const 4) (i32.const 4096))
      (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (if (i32.gt_u (i32.load (i32.const 8)) (i32.const 0))
        (then
          (i32.store (i32.const 4) (i32.load (i32.const 8)))
          (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
          (br $more))))))"#;

/// Sleeps an hour through poll_oneoff (relative monotonic clock subscription).
const SLEEP_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; subscription at 0: userdata 0, tag 0 (clock), clock id 1 (monotonic), timeout 3600 s
    (i64.store (i32.const 0) (i64.const 0))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 3600000000000))
    (i64.store (i32.const 32) (i64.const 0))
    (i32.store16 (i32.const 40) (i32.const 0))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))"#;

async fn still_serving(c: &Coordinator) {
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("VALID")),
        "worker not serving after a hostile job: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_runs_out_of_fuel_quickly() {
    let c = Coordinator::embedded(1).await;
    let started = Instant::now();
    let (status, body) = c.verify(js("while(true){}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "ERROR");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("out of fuel"),
        "{body}"
    );
    assert_eq!(body["fuelUsed"].as_u64(), Some(10_000_000_000));
    assert_eq!(body["refundEligible"], false);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    still_serving(&c).await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_end_in_error_and_the_worker_survives() {
    let c = Coordinator::embedded(1).await;
    for (name, code) in [
        (
            "memory bomb",
            "const a = []; while (true) a.push(new Array(1e6).fill(1.5));",
        ),
        ("string bomb", "let s = 'x'; while (true) s = s + s;"),
        (
            "runaway recursion",
            "function f(n) { return f(n + 1) + 1; } f(0);",
        ),
        (
            "output flood",
            "const line = 'y'.repeat(1000); while (true) console.log(line);",
        ),
        ("uncaught throw", "throw new Error('boom');"),
        (
            "process.exit(3)",
            "console.log('partial'); process.exit(3);",
        ),
        ("rejected promise", "Promise.reject(new Error('nope'));"),
    ] {
        let (status, body) = c.verify(js(code)).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["result"], "ERROR", "{name}: {body}");
        assert!(body["errorMessage"].is_string(), "{name}: {body}");
        assert_eq!(body["refundEligible"], false, "{name}");
        still_serving(&c).await;
    }
    let (_, body) = c.verify(js("throw new Error('boom');")).await;
    assert!(
        body["errorMessage"].as_str().unwrap().contains("boom"),
        "{body}"
    );
    assert_eq!(body["exitCode"], 1);
    let (_, body) = c
        .verify(js("console.log('partial'); process.exit(3);"))
        .await;
    assert_eq!(body["exitCode"], 3);
    assert_eq!(body["actualHash"], sha256_hex(b"partial\n"));
    let (_, body) = c
        .verify(js(
            "const line = 'y'.repeat(1000); while (true) console.log(line);",
        ))
        .await;
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("output limit"),
        "{body}"
    );

    // A start function that traps, and a module that traps in _start.
    for wat in [
        r#"(module (func $s unreachable) (start $s) (func (export "_start")))"#,
        r#"(module (func (export "_start") (drop (i32.div_u (i32.const 1) (i32.const 0)))))"#,
    ] {
        let (status, body) =
            c.verify(json!({"taskType": "code-execution", "language": "wat", "code": wat, "expectedHash": HELLO_HASH})).await;
        assert_eq!(
            (status, body["result"].as_str()),
            (200, Some("ERROR")),
            "{wat}: {body}"
        );
        still_serving(&c).await;
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_works() {
    let c = Coordinator::embedded(1).await;
    let (status, body) = c
        .verify(js(
            "function d(n) { return n === 0 ? 0 : 1 + d(n - 1); } console.log(d(2000));",
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["output"], "2000\n", "{body}");
    assert_eq!(body["exitCode"], 0);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_random_and_math_are_deterministic_across_runs_and_workers() {
    let program = r#"
        const t0 = Date.now(); const p0 = performance.now();
        const r = [Math.random(), Math.random(), Math.random()];
        const s = [Math.sin(1), Math.sin(1e10), Math.cos(0.5), Math.exp(1.5), Math.atan2(1, 3)];
        const d = new Date();
        console.log(t0, Date.now() >= t0, performance.now() > p0, d.toISOString(), r.join(','), s.join(','));
        setTimeout(() => console.log('timer', Date.now() - t0 >= 100), 100);
    "#;
    let a = Coordinator::embedded(1).await;
    let b = Coordinator::embedded(1).await; // another worker with another key
    let (_, first) = a.verify(js(program)).await;
    let (_, second) = a.verify(js(program)).await;
    let (_, other) = b.verify(js(program)).await;
    assert_eq!(first["exitCode"], 0, "{first}");
    assert_ne!(
        first["attestation"]["worker"],
        other["attestation"]["worker"]
    );
    for body in [&second, &other] {
        assert_eq!(body["actualHash"], first["actualHash"]);
        assert_eq!(body["fuelUsed"], first["fuelUsed"]);
        assert_eq!(
            body["attestation"]["fields"]["outputHash"],
            first["attestation"]["fields"]["outputHash"]
        );
    }
    let out = first["output"].as_str().unwrap();
    assert!(out.contains("timer true"), "{out}");
    // Randomness differs between programs (the seed is derived from code and input).
    let (_, other_program) = a.verify(js("console.log(Math.random())")).await;
    assert!(!out.contains(other_program["output"].as_str().unwrap().trim()));
    a.shutdown().await;
    b.shutdown().await;
}

/// Issue 22, defect 4: sleeping is virtual, so ten guests sleeping an hour each (on one slot,
/// with a one-minute timeout) hold nothing: another client's hello world is answered at once,
/// and each sleeper ran to its end (no output: INVALID, not TIMEOUT).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleeping_guests_hold_no_slot() {
    let c = Coordinator::embedded(1).await;
    let sleep = json!({"taskType": "code-execution", "language": "wat", "code": SLEEP_WAT,
                       "expectedHash": HELLO_HASH, "timeoutSeconds": 60});
    let mut sleepers = Vec::new();
    for _ in 0..10 {
        sleepers.push(submit_async(&c, sleep.clone()).await);
    }
    let started = Instant::now();
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "VALID");
    assert!(
        took < Duration::from_secs(10),
        "hello world waited {took:?}"
    );
    for id in &sleepers {
        let body = c.wait_final(id, Duration::from_secs(30)).await;
        assert_eq!(body["result"], "INVALID", "{body}");
        assert_eq!(body["exitCode"], 0, "{body}");
    }
    eprintln!("MEASURE hello world behind 10 one-hour sleepers on one slot: {took:?}");
    c.shutdown().await;
}
