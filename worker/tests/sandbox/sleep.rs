//! Sleeping is virtual (issue 22, defect 4): `poll_oneoff` answers at once, moves the guest's
//! clocks by the time slept and costs fuel, so a sleeping guest never holds a slot and one that
//! sleeps forever ends by fuel, the same way on every run.

use std::time::{Duration, Instant};

use notary_worker::sandbox::{
    GuestStatus, TrapKind, POLL_ONEOFF_BASE_FUEL, POLL_ONEOFF_FUEL_PER_SUBSCRIPTION,
};

use crate::support::*;

const MONOTONIC: u32 = 1;
const REALTIME: u32 = 0;
const ABSTIME: u16 = 1;

/// One 48-byte WASI `subscription`.
fn clock(userdata: u64, id: u32, timeout: u64, flags: u16) -> Vec<u8> {
    let mut s = vec![0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = 0;
    s[16..20].copy_from_slice(&id.to_le_bytes());
    s[24..32].copy_from_slice(&timeout.to_le_bytes());
    s[40..42].copy_from_slice(&flags.to_le_bytes());
    s
}

fn fd(userdata: u64, tag: u8, fd: u32) -> Vec<u8> {
    let mut s = vec![0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = tag;
    s[16..20].copy_from_slice(&fd.to_le_bytes());
    s
}

/// What a probe guest saw: the errno, the events it got and its monotonic clock afterwards.
#[derive(Debug)]
struct Seen {
    errno: u32,
    /// (userdata, error, type, nbytes) per event.
    events: Vec<(u64, u16, u8, u64)>,
    monotonic_after: u64,
}

/// A guest that polls `subs` once (`nsubs` of them, events at `events_at`) and writes the
/// raw results to stdout.
fn probe(subs: &[Vec<u8>], nsubs: usize, events_at: u32) -> String {
    let data: String = subs.concat().iter().map(|b| format!("\\{b:02x}")).collect();
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{data}")
  (func (export "_start")
    (i32.store (i32.const 4356)
      (call $poll (i32.const 0) (i32.const {events_at}) (i32.const {nsubs}) (i32.const 4352)))
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 4360)))
    ;; stdout: 8 events (256 bytes at 4096), nevents, errno, clock
    (i32.store (i32.const 9000) (i32.const 4096))
    (i32.store (i32.const 9004) (i32.const 272))
    (drop (call $write (i32.const 1) (i32.const 9000) (i32.const 1) (i32.const 9016)))))"#
    )
}

async fn run_probe(subs: &[Vec<u8>]) -> (Seen, u64) {
    run_probe_with(subs, subs.len(), 4096).await
}

async fn run_probe_with(subs: &[Vec<u8>], nsubs: usize, events_at: u32) -> (Seen, u64) {
    let out = run(&shared(), &wasm(&probe(subs, nsubs, events_at))).await;
    assert_eq!(out.status, GuestStatus::Exited(0), "{out:?}");
    let o = &out.stdout;
    assert_eq!(o.len(), 272);
    let u32_at = |i: usize| u32::from_le_bytes(o[i..i + 4].try_into().unwrap());
    let u64_at = |i: usize| u64::from_le_bytes(o[i..i + 8].try_into().unwrap());
    let nevents = u32_at(256) as usize;
    let events = (0..nevents.min(8))
        .map(|n| {
            let e = n * 32;
            (
                u64_at(e),
                u16::from_le_bytes(o[e + 8..e + 10].try_into().unwrap()),
                o[e + 10],
                u64_at(e + 16),
            )
        })
        .collect();
    let seen = Seen {
        errno: u32_at(260),
        events,
        monotonic_after: u64_at(264),
    };
    (seen, out.fuel_used)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hour_of_sleep_returns_at_once_an_hour_later() {
    let started = Instant::now();
    let (seen, fuel) = run_probe(&[clock(7, MONOTONIC, 3_600_000_000_000, 0)]).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(seen.errno, 0);
    assert_eq!(seen.events, vec![(7, 0, 0, 0)]);
    // The clock's first read after an hour asleep.
    assert_eq!(seen.monotonic_after, 3_600_000_000_000);
    assert!(fuel > POLL_ONEOFF_BASE_FUEL + POLL_ONEOFF_FUEL_PER_SUBSCRIPTION);
    // The same sleep costs the same fuel every time.
    let (_, again) = run_probe(&[clock(7, MONOTONIC, 3_600_000_000_000, 0)]).await;
    assert_eq!(fuel, again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_earliest_clocks_fire_together_and_fds_are_always_ready() {
    // Relative 5 s, absolute monotonic at 2 s, relative realtime 2 s: the last two fire.
    let (seen, _) = run_probe(&[
        clock(1, MONOTONIC, 5_000_000_000, 0),
        clock(2, MONOTONIC, 2_000_000_000, ABSTIME),
        clock(3, REALTIME, 2_000_000_000, 0),
    ])
    .await;
    assert_eq!((seen.errno, seen.events.len()), (0, 2), "{seen:?}");
    assert_eq!((seen.events[0].0, seen.events[1].0), (2, 3));
    assert_eq!(seen.monotonic_after, 2_000_000_000);

    let (seen, _) = run_probe(&[
        clock(1, MONOTONIC, 5_000_000_000, 0),
        fd(2, 1, 0),
        fd(3, 2, 1),
        clock(4, REALTIME, 1, ABSTIME),
    ])
    .await;
    assert_eq!(seen.errno, 0);
    assert_eq!(
        seen.events,
        vec![(2, 0, 1, 1), (3, 0, 2, 1), (4, 0, 0, 0)],
        "fds ready, the past deadline due, the 5 s sleep not"
    );
    assert_eq!(seen.monotonic_after, 0, "time stood still");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subscriptions_get_wasi_errors() {
    // (name, subscriptions, count passed, events pointer, errno)
    type Case = (&'static str, Vec<Vec<u8>>, usize, u32, u32);
    let cases: [Case; 4] = [
        ("no subscriptions", vec![], 0, 4096, 28),
        ("process cpu clock", vec![clock(1, 2, 1, 0)], 1, 4096, 28),
        ("unknown tag", vec![fd(1, 9, 0)], 1, 4096, 28),
        ("reading stdout", vec![fd(1, 1, 1)], 1, 4096, 8),
    ];
    for (name, subs, n, events_at, errno) in cases {
        let (seen, _) = run_probe_with(&subs, n, events_at).await;
        assert_eq!(seen.errno, errno, "{name}: {seen:?}");
        assert_eq!(seen.monotonic_after, 0, "{name}");
    }
    // Pointers out of bounds or misaligned trap (the WASI rule wasmtime-wasi follows).
    for events_at in [65_528, 4100] {
        let out = run(&shared(), &wasm(&probe(&[clock(1, 1, 1, 0)], 1, events_at))).await;
        assert!(
            matches!(&out.status, GuestStatus::Trapped { message, .. } if message.contains("poll_oneoff")),
            "{events_at}: {:?}",
            out.status
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleeping_forever_ends_by_fuel_not_by_the_clock() {
    let sandbox = shared();
    let mut req = request(&wasm(SLEEP_FOREVER));
    req.fuel = 100_000_000;
    req.timeout = Duration::from_secs(60);
    let started = Instant::now();
    let out = sandbox.run(req.clone()).await.unwrap();
    let took = started.elapsed();
    assert!(
        matches!(
            out.status,
            GuestStatus::Trapped {
                kind: TrapKind::OutOfFuel,
                ..
            }
        ),
        "{:?}",
        out.status
    );
    assert_eq!(out.fuel_used, req.fuel);
    assert!(took < Duration::from_secs(10), "{took:?}");
    let again = sandbox.run(req).await.unwrap();
    assert_eq!((again.status, again.fuel_used), (out.status, out.fuel_used));
    eprintln!("MEASURE sleeping forever on 10^8 fuel: ended by fuel after {took:?}");
}

/// Issue 22, defect 4: the WASI calls a guest can loop on cost fuel (`pricing`), so such a
/// loop ends by fuel instead of holding its slot until the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looping_on_the_clock_or_randomness_ends_by_fuel() {
    let clock_loop = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (drop (call $now (i32.const 1) (i64.const 0) (i32.const 0))) (br $l))))"#;
    let random_loop = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $rnd (param i32 i32) (result i32)))
  (memory (export "memory") 512)
  (func (export "_start") (loop $l (drop (call $rnd (i32.const 0) (i32.const 1048576))) (br $l))))"#;
    for (name, guest, fuel) in [
        ("clock", clock_loop, 1_000_000_000),
        ("random", random_loop, 200_000_000),
    ] {
        let mut req = request(&wasm(guest));
        req.fuel = fuel;
        req.timeout = Duration::from_secs(120);
        let started = Instant::now();
        let out = shared().run(req.clone()).await.unwrap();
        let took = started.elapsed();
        assert!(
            matches!(
                out.status,
                GuestStatus::Trapped {
                    kind: TrapKind::OutOfFuel,
                    ..
                }
            ),
            "{name}: {:?}",
            out.status
        );
        assert_eq!(out.fuel_used, req.fuel, "{name}");
        eprintln!("MEASURE {name} loop on {fuel} fuel: ended by fuel after {took:?}");
        assert!(took < Duration::from_secs(60), "{name}: {took:?}");
    }
}

/// The priced `random_get` writes the bytes wasmtime-wasi 48.0.8's did for the same seed
/// (checked by running both before it replaced it; pinned here), and reads the virtual clock
/// like wasmtime-wasi did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priced_calls_return_what_wasmtime_wasi_returned() {
    let guest = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $rnd (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (drop (call $rnd (i32.const 1024) (i32.const 7)))
    (drop (call $rnd (i32.const 1031) (i32.const 1000)))
    (drop (call $now (i32.const 0) (i64.const 0) (i32.const 2032)))
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 2040)))
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 2048)))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 1032))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
    let out = run(&shared(), &wasm(guest)).await;
    assert_eq!(out.status, GuestStatus::Exited(0));
    let o = &out.stdout;
    let at = |i: usize| u64::from_le_bytes(o[i..i + 8].try_into().unwrap());
    assert_eq!(
        at(1008),
        1_767_225_600_000_000_000,
        "the wall clock's first read"
    );
    assert_eq!(
        (at(1016), at(1024)),
        (0, 1_000),
        "the monotonic clock steps 1 µs"
    );
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&o[..1007])),
        RANDOM_1007_SEED_7,
        "random bytes changed"
    );
}

/// sha256 of the first 1,007 `random_get` bytes (7, then 1,000) of seed `[7; 32]`.
const RANDOM_1007_SEED_7: &str = "e3f5010ae628745115e41f4f8caa18ce7ab4b08ea5b8f2cc98a4156e380dd794";
