//! The binary: help, exit codes, and the files it writes.

use std::process::Command;

fn loadtest() -> Command {
    Command::new(env!("CARGO_BIN_EXE_notary-loadtest"))
}

#[test]
fn help_names_every_flag() {
    let out = loadtest().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--url",
        "--concurrency",
        "--jobs",
        "--duration",
        "--mix",
        "--baseline",
        "--report",
        "--svg",
        "--warmup",
        "--max-time",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let missing_bound = loadtest()
        .args([
            "--url",
            "http://127.0.0.1:1",
            "--concurrency",
            "1",
            "--mix",
            "hello",
        ])
        .output()
        .unwrap();
    assert_eq!(missing_bound.status.code(), Some(2));
    let remote = loadtest()
        .args([
            "--url",
            "http://10.1.2.3:8402",
            "--concurrency",
            "1",
            "--jobs",
            "1",
            "--mix",
            "hello",
        ])
        .output()
        .unwrap();
    assert_eq!(remote.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&remote.stderr).contains("--allow-remote"));
}

#[test]
fn an_unreachable_service_exits_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = loadtest()
        .args([
            "--url",
            &url,
            "--concurrency",
            "1",
            "--jobs",
            "1",
            "--mix",
            "hello",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_baseline_run_writes_the_report_and_the_chart() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("node is not on PATH: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (json, svg) = (dir.path().join("r.json"), dir.path().join("c.svg"));
    let out = loadtest()
        .args([
            "--baseline",
            "node",
            "--concurrency",
            "2",
            "--jobs",
            "3",
            "--mix",
            "hello",
        ])
        .arg("--report")
        .arg(&json)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("jobs done"), "{table}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["node"]["valid"], 3);
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.trim_end().ends_with("</svg>"));
}
