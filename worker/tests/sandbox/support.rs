//! Shared guests (inline WAT) and sandbox fixtures.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use notary_worker::sandbox::{
    wat_to_wasm, Program, RunOutcome, RunRequest, Sandbox, SandboxConfig,
};

/// Fuel cap of the shared test sandbox: high enough for the 10^15-fuel timeout test.
pub const TEST_FUEL_CAP: u64 = 1_000_000_000_000_000;

/// Where the JavaScript runtime appears once it is built.
pub fn js_runtime_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk/js-runtime/notary-js.wasm")
}

/// The real JavaScript runtime, if it has been built.
pub fn js_runtime() -> Option<Arc<[u8]>> {
    std::fs::read(js_runtime_path()).ok().map(Arc::from)
}

/// Assembles WAT into wasm bytes.
pub fn wasm(text: &str) -> Arc<[u8]> {
    Arc::from(wat_to_wasm(text).expect("test WAT is valid"))
}

/// A sandbox config for tests: the echo guest stands in for the JavaScript runtime, so the
/// JS framing is visible on stdout.
pub fn test_config() -> SandboxConfig {
    let mut config = SandboxConfig::new(wasm(ECHO));
    config.fuel_per_job = TEST_FUEL_CAP;
    config
}

/// One sandbox shared by most tests (like a worker's job slots share one).
pub fn shared() -> Arc<Sandbox> {
    static SHARED: OnceLock<Arc<Sandbox>> = OnceLock::new();
    SHARED
        .get_or_init(|| Arc::new(Sandbox::new(test_config()).expect("sandbox builds")))
        .clone()
}

/// A request with the given program and defaults suited to tests.
pub fn request(module: &Arc<[u8]>) -> RunRequest {
    RunRequest {
        program: Program::Wasm {
            module: module.clone(),
        },
        input: Vec::new(),
        fuel: 10_000_000_000,
        timeout: Duration::from_secs(10),
        seed: [7; 32],
        stdout_tap: None,
    }
}

/// Runs `module` with default request settings on `sandbox`.
pub async fn run(sandbox: &Sandbox, module: &Arc<[u8]>) -> RunOutcome {
    sandbox
        .run(request(module))
        .await
        .expect("no infrastructure error")
}

/// Writes "hello world\n" to stdout with one `fd_write`.
pub const HELLO: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello world\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"#;

/// Copies stdin to stdout.
pub const ECHO: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $n i32)
    (loop $again
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (i32.const 4096))
      (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
        (then (unreachable)))
      (local.set $n (i32.load (i32.const 8)))
      (if (i32.eqz (local.get $n)) (then (return)))
      (i32.store (i32.const 4) (local.get $n))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br $again))))
"#;

/// Spins forever.
pub const INFINITE_LOOP: &str = r#"
(module
  (func (export "_start") (loop $l (br $l))))
"#;

/// Sleeps one hour with `poll_oneoff` on a relative monotonic clock subscription.
pub const SLEEP_ONE_HOUR: &str = r#"
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i64.store (i32.const 0) (i64.const 1))               ;; userdata
    (i32.store8 (i32.const 8) (i32.const 0))              ;; eventtype: clock
    (i32.store (i32.const 16) (i32.const 1))              ;; clock id: monotonic
    (i64.store (i32.const 24) (i64.const 3600000000000))  ;; timeout: 1 hour
    (i64.store (i32.const 32) (i64.const 0))              ;; precision
    (i32.store16 (i32.const 40) (i32.const 0))            ;; flags: relative
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))
"#;

/// Sleeps 1 ms with `poll_oneoff`, forever.
pub const SLEEP_FOREVER: &str = r#"
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 16) (i32.const 1))              ;; clock id: monotonic
    (i64.store (i32.const 24) (i64.const 1000000))        ;; timeout: 1 ms
    (loop $again
      (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
      (br $again))))
"#;

/// Exits with `proc_exit(3)`.
pub const EXIT_3: &str = r#"
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 3))))
"#;

/// Executes `unreachable`.
pub const UNREACHABLE: &str = r#"
(module (func (export "_start") unreachable))
"#;

/// Recurses without bound.
pub const RECURSE: &str = r#"
(module
  (func $f (call $f))
  (func (export "_start") (call $f)))
"#;

/// Its start function traps before `_start` can run.
pub const TRAPPING_START: &str = r#"
(module
  (func $init unreachable)
  (start $init)
  (func (export "_start")))
"#;

/// Loads far outside its one page of memory.
pub const OUT_OF_BOUNDS: &str = r#"
(module
  (memory 1)
  (func (export "_start") (drop (i32.load (i32.const 1000000)))))
"#;

/// Writes 64 KiB to `fd` forever.
pub fn flood(fd: u32) -> String {
    format!(
        r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 65536))
    (loop $l
      (drop (call $fd_write (i32.const {fd}) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br $l))))
"#
    )
}

/// Reads clock `id` twice and writes both 8-byte timestamps to stdout.
pub fn read_clock_twice(id: u32) -> String {
    format!(
        r#"
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (call $now (i32.const {id}) (i64.const 1) (i32.const 64)) (then (unreachable)))
    (if (call $now (i32.const {id}) (i64.const 1) (i32.const 72)) (then (unreachable)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"#
    )
}

/// Writes 32 bytes from `random_get` to stdout.
pub const RANDOM_32: &str = r#"
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (call $random (i32.const 64) (i32.const 32)) (then (unreachable)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 32))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"#;
