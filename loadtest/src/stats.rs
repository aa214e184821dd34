//! Counting a phase: a latency histogram, counts by class, and a per-second timeline.
//!
//! Latency is recorded in microseconds in an HDR histogram with 3 significant digits (a
//! reported percentile is within 0.1% of the exact one) up to one hour; longer values are
//! clamped to the top. The percentiles and the throughput count only VALID jobs: a fast 503
//! or a crash must not make the service look quicker. Everything else is counted by class.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::time::Instant;

use crate::outcome::Attempt;

/// Highest latency tracked exactly (µs): one hour.
const MAX_TRACKED_US: u64 = 3_600_000_000;

/// Why a phase stopped starting jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// `--jobs` jobs were done.
    Jobs,
    /// `--duration` passed.
    Duration,
    /// The time cap was reached; jobs still in flight were cancelled.
    TimeCap,
    /// The user interrupted the run.
    Interrupt,
}

impl StopReason {
    /// The name used in the report (`jobs`, `duration`, `time-cap`, `interrupt`).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Jobs => "jobs",
            StopReason::Duration => "duration",
            StopReason::TimeCap => "time-cap",
            StopReason::Interrupt => "interrupt",
        }
    }
}

/// Everything recorded during one phase.
#[derive(Debug)]
pub struct Recorder {
    origin: Instant,
    latency: Histogram<u64>,
    jobs: u64,
    valid: u64,
    polled: u64,
    errors: BTreeMap<String, u64>,
    examples: BTreeMap<String, String>,
    seconds: Vec<Second>,
}

/// The jobs that finished during one second of the phase.
#[derive(Debug)]
struct Second {
    /// Latency of its VALID jobs (2 significant digits, growing as needed: one per second of
    /// a long run adds up, and a chart needs no more).
    latency: Histogram<u64>,
    jobs: u64,
    valid: u64,
}

impl Second {
    fn new() -> Self {
        Second {
            latency: Histogram::new(2).expect("2 significant digits are valid"),
            jobs: 0,
            valid: 0,
        }
    }
}

impl Recorder {
    /// A recorder whose timeline starts at `origin`.
    pub fn new(origin: Instant) -> Self {
        Recorder {
            origin,
            latency: Histogram::new_with_bounds(1, MAX_TRACKED_US, 3)
                .expect("static histogram bounds are valid"),
            jobs: 0,
            valid: 0,
            polled: 0,
            errors: BTreeMap::new(),
            examples: BTreeMap::new(),
            seconds: Vec::new(),
        }
    }

    /// Records a job that took `latency` and finished at `finished`.
    pub fn record(&mut self, attempt: &Attempt, latency: Duration, finished: Instant) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let second = finished.saturating_duration_since(self.origin).as_secs() as usize;
        if self.seconds.len() <= second {
            self.seconds.resize_with(second + 1, Second::new);
        }
        let bucket = &mut self.seconds[second];
        self.jobs += 1;
        bucket.jobs += 1;
        if attempt.polled {
            self.polled += 1;
        }
        if attempt.class.is_valid() {
            self.valid += 1;
            bucket.valid += 1;
            self.latency.saturating_record(us);
            // `record`, not `saturating_record`: the latter clamps to the histogram's current
            // range instead of growing it.
            let _ = bucket.latency.record(us.min(MAX_TRACKED_US));
        } else {
            let class = attempt.class.to_string();
            if let Some(detail) = &attempt.detail {
                self.examples
                    .entry(class.clone())
                    .or_insert_with(|| detail.clone());
            }
            *self.errors.entry(class).or_default() += 1;
        }
    }

    /// Jobs finished so far, and how many were VALID.
    pub fn counts(&self) -> (u64, u64) {
        (self.jobs, self.valid)
    }

    /// The phase's numbers, given how long it ran and why it stopped.
    pub fn summarize(&self, target: &str, elapsed: Duration, stopped_by: StopReason) -> Summary {
        let secs = elapsed.as_secs_f64();
        let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        Summary {
            target: target.to_string(),
            stopped_by,
            elapsed_secs: secs,
            jobs: self.jobs,
            valid: self.valid,
            errors_total: self.jobs - self.valid,
            polled: self.polled,
            jobs_per_sec: per_sec(self.jobs),
            valid_per_sec: per_sec(self.valid),
            latency_us: LatencyStats::of(&self.latency),
            errors: self.errors.clone(),
            error_examples: self.examples.clone(),
            timeline: self
                .seconds
                .iter()
                .enumerate()
                .map(|(i, s)| SecondStats {
                    second: i as u64,
                    jobs: s.jobs,
                    valid: s.valid,
                    p50_us: (s.valid > 0).then(|| s.latency.value_at_quantile(0.5)),
                    p99_us: (s.valid > 0).then(|| s.latency.value_at_quantile(0.99)),
                })
                .collect(),
        }
    }
}

/// Latency percentiles of VALID jobs, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencyStats {
    /// Jobs measured.
    pub count: u64,
    /// Fastest.
    pub min: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p99_9: u64,
    /// Slowest.
    pub max: u64,
}

impl LatencyStats {
    /// The percentiles of `hist`, or `None` when it is empty.
    pub fn of(hist: &Histogram<u64>) -> Option<Self> {
        (!hist.is_empty()).then(|| LatencyStats {
            count: hist.len(),
            min: hist.min(),
            mean: hist.mean(),
            p50: hist.value_at_quantile(0.50),
            p90: hist.value_at_quantile(0.90),
            p99: hist.value_at_quantile(0.99),
            p99_9: hist.value_at_quantile(0.999),
            max: hist.max(),
        })
    }
}

/// One second of a phase's timeline (by when jobs finished).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecondStats {
    /// Seconds since the phase started.
    pub second: u64,
    /// Jobs finished in this second.
    pub jobs: u64,
    /// VALID jobs finished in this second (the throughput).
    pub valid: u64,
    /// Median latency of those VALID jobs (µs).
    pub p50_us: Option<u64>,
    /// 99th percentile latency of those VALID jobs (µs).
    pub p99_us: Option<u64>,
}

/// The numbers of one phase (service or node).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// `service` or `node`.
    pub target: String,
    /// Why the phase stopped.
    pub stopped_by: StopReason,
    /// Wall time from the first job start to the last job end.
    pub elapsed_secs: f64,
    /// Jobs finished, in any class.
    pub jobs: u64,
    /// Jobs with the right answer.
    pub valid: u64,
    /// Jobs in an error class (`jobs - valid`).
    pub errors_total: u64,
    /// Jobs answered 202 and fetched by polling.
    pub polled: u64,
    /// Jobs finished per second, in any class.
    pub jobs_per_sec: f64,
    /// VALID jobs per second: the throughput that counts.
    pub valid_per_sec: f64,
    /// Latency of VALID jobs (µs); `null` when there were none.
    pub latency_us: Option<LatencyStats>,
    /// Jobs per error class (`http:503`, `result:INVALID`, `transport:connect`, `timeout`...).
    pub errors: BTreeMap<String, u64>,
    /// The first message seen for each error class.
    pub error_examples: BTreeMap<String, String>,
    /// Per-second throughput and latency.
    pub timeline: Vec<SecondStats>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Class;

    fn recorder_with(latencies_ms: impl IntoIterator<Item = u64>) -> (Recorder, Instant) {
        let origin = Instant::now();
        let mut rec = Recorder::new(origin);
        for ms in latencies_ms {
            rec.record(&Attempt::valid(), Duration::from_millis(ms), origin);
        }
        (rec, origin)
    }

    fn close(actual: u64, exact: u64) -> bool {
        (actual as f64 - exact as f64).abs() <= exact as f64 * 0.001 + 1.0
    }

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let (rec, _) = recorder_with(1..=1000);
        let s = rec.summarize("service", Duration::from_secs(2), StopReason::Jobs);
        let l = s.latency_us.unwrap();
        assert_eq!(l.count, 1000);
        assert!(close(l.p50, 500_000), "p50 {}", l.p50);
        assert!(close(l.p90, 900_000), "p90 {}", l.p90);
        assert!(close(l.p99, 990_000), "p99 {}", l.p99);
        assert!(close(l.p99_9, 999_000), "p99.9 {}", l.p99_9);
        assert!(close(l.max, 1_000_000), "max {}", l.max);
        assert!(close(l.min, 1_000), "min {}", l.min);
        assert!((l.mean - 500_500.0).abs() < 500.0, "mean {}", l.mean);
        assert_eq!(s.valid, 1000);
        assert!((s.valid_per_sec - 500.0).abs() < 1e-9);
    }

    #[test]
    fn one_slow_job_in_a_thousand_shows_only_at_the_top() {
        let (rec, _) = recorder_with(std::iter::repeat_n(10, 999).chain([5000]));
        let l = rec
            .summarize("service", Duration::from_secs(1), StopReason::Jobs)
            .latency_us
            .unwrap();
        assert!(close(l.p99, 10_000));
        assert!(close(l.p99_9, 10_000));
        assert!(close(l.max, 5_000_000));
    }

    #[test]
    fn microsecond_precision_at_small_values() {
        let origin = Instant::now();
        let mut rec = Recorder::new(origin);
        for us in [137, 137, 137, 842] {
            rec.record(&Attempt::valid(), Duration::from_micros(us), origin);
        }
        let l = rec
            .summarize("service", Duration::from_secs(1), StopReason::Jobs)
            .latency_us
            .unwrap();
        assert_eq!((l.p50, l.max, l.min), (137, 842, 137));
    }

    #[test]
    fn errors_are_counted_by_class_and_kept_out_of_latency() {
        let origin = Instant::now();
        let mut rec = Recorder::new(origin);
        rec.record(&Attempt::valid(), Duration::from_millis(20), origin);
        for _ in 0..3 {
            rec.record(
                &Attempt::error(Class::Http(503), "POST /verify: 503"),
                Duration::from_millis(1),
                origin + Duration::from_millis(1500),
            );
        }
        rec.record(
            &Attempt::error(Class::Result("INVALID".into()), "result INVALID"),
            Duration::from_millis(30),
            origin,
        );
        let s = rec.summarize("service", Duration::from_secs(2), StopReason::Duration);
        assert_eq!((s.jobs, s.valid, s.errors_total), (5, 1, 4));
        assert_eq!(s.errors["http:503"], 3);
        assert_eq!(s.errors["result:INVALID"], 1);
        assert_eq!(s.error_examples["http:503"], "POST /verify: 503");
        assert_eq!(s.latency_us.unwrap().count, 1);
        assert_eq!(s.timeline.len(), 2);
        assert_eq!((s.timeline[0].jobs, s.timeline[0].valid), (2, 1));
        assert_eq!((s.timeline[1].jobs, s.timeline[1].valid), (3, 0));
        assert_eq!(s.timeline[1].p50_us, None);
        let p50 = s.timeline[0].p50_us.unwrap();
        assert!((19_900..=20_100).contains(&p50), "per-second p50 {p50}");
        assert_eq!(s.timeline[0].p99_us, Some(p50));
    }

    #[test]
    fn no_valid_jobs_means_no_percentiles() {
        let (rec, _) = recorder_with([]);
        let s = rec.summarize("node", Duration::ZERO, StopReason::Interrupt);
        assert_eq!(s.latency_us, None);
        assert_eq!(s.valid_per_sec, 0.0);
    }
}
