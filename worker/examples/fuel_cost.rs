//! What fuel metering costs: the same guests on two sandboxes that differ only in
//! `fuel_metering`, run alternately in one process, reported as a ratio.
//!
//! ```sh
//! cargo run --release -p notary-worker --example fuel_cost [ROUNDS]
//! ```
//!
//! Fuel metering is always on in a fleet (it is the deterministic CPU bound); the sandbox with
//! it off exists only for this measurement. Both must print the same stdout.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use notary_worker::sandbox::{wat_to_wasm, Program, RunRequest, Sandbox};
use notary_worker::SandboxSettings;

/// A WASI module summing 0..10^8 and printing the low byte, for pure wasm CPU cost.
const WASM_LOOP: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000000))))
    (i32.store8 (i32.const 100) (i32.add (i32.const 65) (i32.and (local.get $s) (i32.const 15))))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

fn request(program: Program) -> RunRequest {
    RunRequest {
        program,
        input: Vec::new(),
        fuel: notary_worker::sandbox::DEFAULT_FUEL_PER_JOB,
        timeout: Duration::from_secs(60),
        seed: [1; 32],
        stdout_tap: None,
    }
}

fn main() -> anyhow::Result<()> {
    let rounds: u32 = match std::env::args().nth(1) {
        Some(n) => n.parse().context("ROUNDS must be a number")?,
        None => 100,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let metered_config = SandboxSettings::default().sandbox_config(1);
    let mut unmetered_config = metered_config.clone();
    unmetered_config.fuel_metering = false;
    let metered = Sandbox::new(metered_config)?;
    let unmetered = Sandbox::new(unmetered_config)?;

    let js = |source: &str| Program::JavaScript {
        source: source.to_string(),
    };
    let guests: Vec<(&str, Program, u32)> = vec![
        ("js hello", js("console.log('hello world')"), rounds),
        (
            "js cpu (10^6-step loop)",
            js("let s = 0; for (let i = 0; i < 1e6; i++) s = (s + i * i) % 1000003; console.log(s)"),
            (rounds / 10).max(3),
        ),
        (
            "wasm cpu (10^8-step loop)",
            Program::Wasm {
                module: Arc::from(wat_to_wasm(WASM_LOOP)?),
            },
            (rounds / 10).max(3),
        ),
    ];
    println!(
        "{:28} {:>12} {:>12} {:>10}",
        "guest", "metered", "unmetered", "ratio"
    );
    runtime.block_on(async {
        for (name, program, n) in guests {
            // Warm both (module compilation and caches), and check they agree.
            let a = metered.run(request(program.clone())).await?;
            let b = unmetered.run(request(program.clone())).await?;
            if a.stdout != b.stdout || a.status != b.status {
                bail!("{name}: metered and unmetered runs differ: {a:?} vs {b:?}");
            }
            let (mut on, mut off) = (Duration::ZERO, Duration::ZERO);
            for _ in 0..n {
                on += metered.run(request(program.clone())).await?.elapsed;
                off += unmetered.run(request(program.clone())).await?.elapsed;
            }
            let (on, off) = (on / n, off / n);
            println!(
                "{name:28} {:>10.3}ms {:>10.3}ms {:>9.2}x",
                on.as_secs_f64() * 1e3,
                off.as_secs_f64() * 1e3,
                on.as_secs_f64() / off.as_secs_f64()
            );
        }
        Ok(())
    })
}
