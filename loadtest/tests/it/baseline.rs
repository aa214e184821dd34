//! The node baseline: one `node -e` process per job. Skipped when `node` is not on PATH.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use notary_loadtest::stats::StopReason;
use notary_loadtest::workload::ProgramKind;
use notary_loadtest::{run, Baseline, Mix, RunConfig};

use crate::mock::{Behaviour, Mock};

fn node_available() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("node is not on PATH: skipping");
    }
    ok
}

#[test]
fn node_prints_exactly_the_expected_output() {
    if !node_available() {
        return;
    }
    for kind in [ProgramKind::Hello, ProgramKind::Cpu] {
        let out = Command::new("node")
            .arg("-e")
            .arg(kind.code())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            kind.expected_stdout()
        );
    }
}

#[tokio::test]
async fn five_node_jobs_are_valid() {
    if !node_available() {
        return;
    }
    // Mixed: jobs 0-3 print hello, job 4 runs the CPU loop.
    let mut config = RunConfig::new(None, Mix::Mixed, 2, 5);
    config.baseline = Some(Baseline::Node);
    let report = run(&config, std::future::pending()).await.unwrap();
    assert!(report.service.is_none() && report.ratios.is_none());
    let node = report.node.unwrap();
    assert_eq!((node.jobs, node.valid), (5, 5), "{:?}", node.error_examples);
    assert_eq!(node.stopped_by, StopReason::Jobs);
    assert!(
        node.latency_us.unwrap().p50 > 1_000,
        "a process start is not free"
    );
}

#[tokio::test]
async fn service_and_node_side_by_side_give_ratios() {
    if !node_available() {
        return;
    }
    let mock = Mock::start(Behaviour::AllValid, Duration::ZERO).await;
    let mut config = RunConfig::new(Some(mock.url.clone()), Mix::Hello, 2, 5);
    config.baseline = Some(Baseline::Node);
    let report = run(&config, std::future::pending()).await.unwrap();
    assert_eq!(report.service.as_ref().unwrap().valid, 5);
    assert_eq!(report.node.as_ref().unwrap().valid, 5);
    let ratios = report.ratios.as_ref().unwrap();
    assert!(ratios.throughput.unwrap() > 0.0);
    assert!(ratios.p50.unwrap() > 0.0 && ratios.p99.unwrap() > 0.0);
    assert!(report.to_table().contains("(node/service)"));
}

#[tokio::test]
async fn a_missing_node_is_an_error_class_not_a_crash() {
    let mut config = RunConfig::new(None, Mix::Hello, 1, 2);
    config.baseline = Some(Baseline::Node);
    config.node = PathBuf::from("/nonexistent/node");
    let node = run(&config, std::future::pending())
        .await
        .unwrap()
        .node
        .unwrap();
    assert_eq!((node.jobs, node.errors["spawn"]), (2, 2));
}
