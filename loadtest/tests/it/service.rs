//! The library entry point against the mock service.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use notary_loadtest::stats::StopReason;
use notary_loadtest::{run, Error, Mix, RunConfig};

use crate::mock::{Behaviour, Mock};

fn never() -> std::future::Pending<()> {
    std::future::pending()
}

#[tokio::test]
async fn counts_every_job_in_its_class() {
    let mock = Mock::start(Behaviour::Pattern, Duration::from_millis(2)).await;
    let config = RunConfig::new(Some(mock.url.clone()), Mix::Hello, 4, 50);
    let report = run(&config, never()).await.unwrap();
    let s = report.service.as_ref().unwrap();

    assert_eq!(
        mock.counters.posts.load(Ordering::SeqCst),
        50,
        "one POST per job"
    );
    assert_eq!(s.jobs, 50);
    assert_eq!(s.valid, 40);
    assert_eq!(s.errors_total, 10);
    assert_eq!(s.errors["http:503"], 5);
    assert_eq!(s.errors["result:INVALID"], 5);
    assert_eq!(s.errors.len(), 2, "{:?}", s.errors);
    assert_eq!(s.polled, 5);
    assert_eq!(
        mock.counters.polls.load(Ordering::SeqCst),
        10,
        "two polls per 202"
    );
    assert_eq!(s.stopped_by, StopReason::Jobs);
    assert!(s.error_examples["http:503"].contains("busy"));

    let latency = s.latency_us.as_ref().unwrap();
    assert_eq!(latency.count, 40);
    assert!(latency.p50 >= 2_000, "the mock's 2 ms delay is measured");
    assert!(
        latency.max >= 20_000,
        "a polled job waits for its polls: {latency:?}"
    );
    assert!(latency.p50 <= latency.p90 && latency.p90 <= latency.p99);
    assert!(latency.p99 <= latency.p99_9 && latency.p99_9 <= latency.max);
    assert!(s.valid_per_sec > 0.0);
    assert_eq!(s.timeline.iter().map(|t| t.jobs).sum::<u64>(), 50);
    assert!(mock.counters.max_in_flight.load(Ordering::SeqCst) <= 4);
    assert!(report.node.is_none() && report.ratios.is_none());

    let table = report.to_table();
    assert!(
        table.contains("http:503") && table.contains("result:INVALID"),
        "{table}"
    );
}

#[tokio::test]
async fn mixed_jobs_carry_their_own_hash() {
    let mock = Mock::start(Behaviour::AllValid, Duration::ZERO).await;
    let config = RunConfig::new(Some(mock.url.clone()), Mix::Mixed, 2, 10);
    let s = run(&config, never()).await.unwrap().service.unwrap();
    // The mock answers VALID only for hello's hash: jobs 4 and 9 are the CPU program.
    assert_eq!((s.valid, s.errors["result:INVALID"]), (8, 2));
}

#[tokio::test]
async fn duration_bounds_the_run_and_concurrency_bounds_requests_in_flight() {
    let mock = Mock::start(Behaviour::AllValid, Duration::from_millis(30)).await;
    let mut config = RunConfig::new(Some(mock.url.clone()), Mix::Hello, 3, 1);
    config.jobs = None;
    config.duration = Some(Duration::from_millis(400));
    let started = Instant::now();
    let s = run(&config, never()).await.unwrap().service.unwrap();
    let took = started.elapsed();

    assert_eq!(s.stopped_by, StopReason::Duration);
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert!(s.elapsed_secs >= 0.4, "{}", s.elapsed_secs);
    assert_eq!(mock.counters.max_in_flight.load(Ordering::SeqCst), 3);
    // 3 clients x ~13 jobs of 30 ms each in 0.4 s; allow a slow machine.
    assert!((6..=45).contains(&s.jobs), "jobs {}", s.jobs);
    assert_eq!(s.valid, s.jobs);
}

#[tokio::test]
async fn the_time_cap_cancels_a_stalled_server() {
    let mock = Mock::start(Behaviour::Stall, Duration::ZERO).await;
    let mut config = RunConfig::new(Some(mock.url.clone()), Mix::Hello, 2, 10);
    config.max_time = Some(Duration::from_millis(500));
    let started = Instant::now();
    let s = run(&config, never()).await.unwrap().service.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(s.stopped_by, StopReason::TimeCap);
    assert_eq!((s.jobs, s.errors["cancelled"]), (2, 2));
    assert!(s.latency_us.is_none());
}

#[tokio::test]
async fn a_job_without_an_answer_times_out() {
    let mock = Mock::start(Behaviour::Stall, Duration::ZERO).await;
    let mut config = RunConfig::new(Some(mock.url.clone()), Mix::Hello, 3, 3);
    config.job_timeout = Duration::from_millis(200);
    config.max_time = Some(Duration::from_secs(10));
    let s = run(&config, never()).await.unwrap().service.unwrap();
    assert_eq!(s.stopped_by, StopReason::Jobs);
    assert_eq!((s.jobs, s.errors["timeout"]), (3, 3));
}

#[tokio::test]
async fn an_interrupt_stops_new_jobs_and_still_reports() {
    let mock = Mock::start(Behaviour::AllValid, Duration::from_millis(10)).await;
    let mut config = RunConfig::new(Some(mock.url.clone()), Mix::Hello, 2, 1);
    config.jobs = None;
    config.duration = Some(Duration::from_secs(30));
    let started = Instant::now();
    let report = run(&config, tokio::time::sleep(Duration::from_millis(300)))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let s = report.service.unwrap();
    assert_eq!(s.stopped_by, StopReason::Interrupt);
    assert!(s.valid > 0 && s.valid == s.jobs);
}

#[tokio::test]
async fn warmup_jobs_are_not_recorded() {
    let mock = Mock::start(Behaviour::AllValid, Duration::ZERO).await;
    let mut config = RunConfig::new(Some(mock.url.clone()), Mix::Hello, 2, 7);
    config.warmup = 5;
    let s = run(&config, never()).await.unwrap().service.unwrap();
    assert_eq!(mock.counters.posts.load(Ordering::SeqCst), 12);
    assert_eq!(s.jobs, 7);
}

#[tokio::test]
async fn an_unreachable_service_is_an_error_before_any_job() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = RunConfig::new(Some(url), Mix::Hello, 1, 1);
    let err = run(&config, never()).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert_eq!(err.exit_code(), 3);
}
