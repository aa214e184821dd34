//! `notary-worker exec`: the real binary runs one program locally and reports like a job.

use std::path::Path;
use std::process::{Command, Output};

use notary_worker::sandbox::GuestStatus;
use sha2::{Digest, Sha256};

use crate::support::*;

fn exec(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notary-worker"))
        .arg("exec")
        .args(args)
        .arg("--module-cache-dir")
        .arg(dir.join("cache"))
        .output()
        .expect("notary-worker runs")
}

#[test]
fn exec_prints_the_guest_output_and_exits_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let js = dir.path().join("job.js");
    std::fs::write(
        &js,
        "console.log(JSON.stringify(inputData)); console.error('to stderr'); process.exitCode = 3;",
    )
    .unwrap();
    let input = dir.path().join("input.json");
    std::fs::write(&input, r#"{"n":1}"#).unwrap();
    let out = exec(
        &[
            "--js",
            js.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--summary",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(out.stdout, b"{\"n\":1}\n");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("to stderr\n"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(summary["exitCode"], 3);
    assert_eq!(
        summary["outputHash"],
        hex::encode(Sha256::digest(b"{\"n\":1}\n"))
    );
    assert!(summary["fuelUsed"].as_u64().unwrap() > 0);
}

#[test]
fn exec_gives_the_same_output_and_fuel_as_the_sandbox_library() {
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("hello.wat");
    std::fs::write(&wat, HELLO).unwrap();
    let out = exec(&["--wasm", wat.to_str().unwrap(), "--summary"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let summary: serde_json::Value = serde_json::from_str(
        String::from_utf8(out.stderr)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let library = runtime
        .block_on(shared().run(request(&wasm(HELLO))))
        .unwrap();
    assert_eq!(library.status, GuestStatus::Exited(0));
    assert_eq!(out.stdout, library.stdout);
    assert_eq!(summary["fuelUsed"], library.fuel_used);
}

#[test]
fn exec_reports_a_trap_with_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("trap.wat");
    std::fs::write(
        &wat,
        r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#,
    )
    .unwrap();
    let out = exec(&["--wasm", wat.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(250), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("guest trapped (Unreachable)"));

    let missing = exec(&["--js", "/nonexistent/job.js"], dir.path());
    assert_eq!(missing.status.code(), Some(70), "{missing:?}");
}
