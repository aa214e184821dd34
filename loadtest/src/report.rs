//! The report of a run: its settings, one [`Summary`] per phase, and the service/node ratios,
//! written as JSON ([`Report::to_json`]) or as a table for people ([`Report::to_table`]).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::{Baseline, RunConfig};
use crate::stats::{LatencyStats, Summary};
use crate::workload::Mix;

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Always `notary-loadtest`.
    pub tool: &'static str,
    /// The tool's version.
    pub version: &'static str,
    /// What was asked for.
    pub settings: Settings,
    /// The service phase, when `--url` was given.
    pub service: Option<Summary>,
    /// The node baseline, when `--baseline node` was given.
    pub node: Option<Summary>,
    /// Service against node, when both ran.
    pub ratios: Option<Ratios>,
}

/// The run's settings, as the report shows them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// The service's base URL.
    pub url: Option<String>,
    /// The job mix.
    pub mix: Mix,
    /// Client tasks.
    pub concurrency: usize,
    /// Jobs per phase.
    pub jobs: Option<u64>,
    /// Seconds after which no job starts.
    pub duration_secs: Option<f64>,
    /// Unrecorded jobs before each phase.
    pub warmup: u64,
    /// Hard cap per phase (s).
    pub max_time_secs: f64,
    /// Longest wait for one job (s).
    pub job_timeout_secs: f64,
    /// The baseline, if any.
    pub baseline: Option<Baseline>,
}

/// How the service compares with the node baseline measured in the same run. Each is `null`
/// when its denominator is zero (no VALID job on that side).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ratios {
    /// Service VALID jobs/s ÷ node VALID jobs/s (above 1: the service does more).
    pub throughput: Option<f64>,
    /// Node p50 ÷ service p50 (above 1: the service answers faster).
    pub p50: Option<f64>,
    /// Node p99 ÷ service p99.
    pub p99: Option<f64>,
}

impl Report {
    /// An empty report for `config`.
    pub fn new(config: &RunConfig) -> Self {
        Report {
            tool: "notary-loadtest",
            version: env!("CARGO_PKG_VERSION"),
            settings: Settings {
                url: config.url.clone(),
                mix: config.mix,
                concurrency: config.concurrency,
                jobs: config.jobs,
                duration_secs: config.duration.map(|d| d.as_secs_f64()),
                warmup: config.warmup,
                max_time_secs: config.max_time().as_secs_f64(),
                job_timeout_secs: config.job_timeout.as_secs_f64(),
                baseline: config.baseline,
            },
            service: None,
            node: None,
            ratios: None,
        }
    }

    /// Fills [`Report::ratios`] when both phases ran.
    pub fn compute_ratios(&mut self) {
        self.ratios = match (&self.service, &self.node) {
            (Some(service), Some(node)) => {
                let ratio = |num: f64, den: f64| (den > 0.0).then(|| num / den);
                let latency = |pick: fn(&LatencyStats) -> u64| match (
                    &service.latency_us,
                    &node.latency_us,
                ) {
                    (Some(s), Some(n)) => ratio(pick(n) as f64, pick(s) as f64),
                    _ => None,
                };
                Some(Ratios {
                    throughput: ratio(service.valid_per_sec, node.valid_per_sec),
                    p50: latency(|l| l.p50),
                    p99: latency(|l| l.p99),
                })
            }
            _ => None,
        };
    }

    /// The phases that ran, service first.
    pub fn summaries(&self) -> impl Iterator<Item = &Summary> {
        self.service.iter().chain(self.node.iter())
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }

    /// The summary table printed on stdout.
    pub fn to_table(&self) -> String {
        let runs: Vec<&Summary> = self.summaries().collect();
        let s = &self.settings;
        let mut out = String::new();
        let bound = match (s.jobs, s.duration_secs) {
            (Some(j), Some(d)) => format!("{j} jobs or {d} s"),
            (Some(j), None) => format!("{j} jobs"),
            (None, Some(d)) => format!("{d} s"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "notary-loadtest {}: mix {}, concurrency {}, {bound}, warm-up {}",
            self.version, s.mix, s.concurrency, s.warmup
        );
        if let Some(url) = &s.url {
            let _ = writeln!(out, "service: {url}");
        }
        if runs.is_empty() {
            out.push_str("nothing ran\n");
            return out;
        }

        let mut table = Table::new(runs.iter().map(|r| r.target.clone()).collect());
        let cells = |f: &dyn Fn(&Summary) -> String| runs.iter().map(|r| f(r)).collect::<Vec<_>>();
        let ratios = self.ratios.as_ref();
        let times = |r: Option<f64>, how: &str| match r {
            Some(r) => format!("{r:.2}x {how}"),
            None if ratios.is_some() => "-".into(),
            None => String::new(),
        };
        table.row(
            "stopped by",
            cells(&|r| r.stopped_by.as_str().to_string()),
            "",
        );
        table.row(
            "elapsed (s)",
            cells(&|r| format!("{:.3}", r.elapsed_secs)),
            "",
        );
        table.row("jobs done", cells(&|r| r.jobs.to_string()), "");
        table.row("valid", cells(&|r| r.valid.to_string()), "");
        table.row("errors", cells(&|r| r.errors_total.to_string()), "");
        if self.service.is_some() {
            table.row(
                "polled (202)",
                cells(&|r| match r.target.as_str() {
                    "service" => r.polled.to_string(),
                    _ => "-".into(),
                }),
                "",
            );
        }
        table.row("jobs/s", cells(&|r| format!("{:.1}", r.jobs_per_sec)), "");
        let how = "(service/node)";
        table.row(
            "valid/s",
            cells(&|r| format!("{:.1}", r.valid_per_sec)),
            &times(ratios.and_then(|r| r.throughput), how),
        );
        table.heading("latency of VALID jobs (ms)");
        let ms = |pick: fn(&LatencyStats) -> f64| {
            cells(&|r: &Summary| match &r.latency_us {
                Some(l) => format!("{:.3}", pick(l) / 1000.0),
                None => "-".into(),
            })
        };
        let how = "(node/service)";
        table.row(
            "  p50",
            ms(|l| l.p50 as f64),
            &times(ratios.and_then(|r| r.p50), how),
        );
        table.row("  p90", ms(|l| l.p90 as f64), "");
        table.row(
            "  p99",
            ms(|l| l.p99 as f64),
            &times(ratios.and_then(|r| r.p99), how),
        );
        table.row("  p99.9", ms(|l| l.p99_9 as f64), "");
        table.row("  max", ms(|l| l.max as f64), "");
        table.row("  mean", ms(|l| l.mean), "");

        let classes: BTreeSet<&String> = runs.iter().flat_map(|r| r.errors.keys()).collect();
        if !classes.is_empty() {
            table.heading("errors by class");
            for class in classes {
                table.row(
                    &format!("  {class}"),
                    cells(&|r| r.errors.get(class).map_or("-".into(), u64::to_string)),
                    "",
                );
            }
        }
        out.push_str(&table.render());
        for run in &runs {
            for (class, example) in &run.error_examples {
                let _ = writeln!(out, "{} {class}, e.g.: {example}", run.target);
            }
        }
        out
    }
}

/// A left-labelled table with one right-aligned column per phase and a note column.
struct Table {
    header: Vec<String>,
    rows: Vec<(String, Vec<String>, String)>,
}

impl Table {
    fn new(header: Vec<String>) -> Self {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, label: &str, cells: Vec<String>, note: &str) {
        self.rows.push((label.to_string(), cells, note.to_string()));
    }

    fn heading(&mut self, label: &str) {
        self.rows
            .push((label.to_string(), Vec::new(), String::new()));
    }

    fn render(&self) -> String {
        let label_width = self
            .rows
            .iter()
            .filter(|(_, cells, _)| !cells.is_empty())
            .map(|(l, _, _)| l.chars().count())
            .max()
            .unwrap_or(0)
            .max(12);
        let cell_width = self
            .rows
            .iter()
            .flat_map(|(_, cells, _)| cells.iter())
            .chain(self.header.iter())
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
            .max(10);
        let mut out = String::new();
        let _ = write!(out, "{:label_width$}", "");
        for h in &self.header {
            let _ = write!(out, "  {h:>cell_width$}");
        }
        out.push('\n');
        for (label, cells, note) in &self.rows {
            if cells.is_empty() {
                let _ = writeln!(out, "{label}");
                continue;
            }
            let mut line = format!("{label:label_width$}");
            for c in cells {
                let _ = write!(line, "  {c:>cell_width$}");
            }
            if !note.is_empty() {
                let _ = write!(line, "  {note}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;
    use tokio::time::Instant;

    use super::*;
    use crate::outcome::{Attempt, Class};
    use crate::stats::{Recorder, StopReason};

    fn summary(target: &str, latencies_ms: &[u64], errors: usize, secs: u64) -> Summary {
        let origin = Instant::now();
        let mut rec = Recorder::new(origin);
        for &ms in latencies_ms {
            rec.record(&Attempt::valid(), Duration::from_millis(ms), origin);
        }
        for _ in 0..errors {
            rec.record(
                &Attempt::error(Class::Http(503), "POST /verify: 503"),
                Duration::from_millis(1),
                origin,
            );
        }
        rec.summarize(target, Duration::from_secs(secs), StopReason::Jobs)
    }

    fn both() -> Report {
        let mut config = RunConfig::new(Some("http://127.0.0.1:8402".into()), Mix::Hello, 4, 10);
        config.baseline = Some(Baseline::Node);
        let mut report = Report::new(&config);
        report.service = Some(summary("service", &[10, 10, 10, 10, 20, 20, 20, 20], 2, 1));
        report.node = Some(summary("node", &[40, 40, 40, 40], 0, 1));
        report.compute_ratios();
        report
    }

    #[test]
    fn ratios_compare_like_with_like() {
        let r = both().ratios.unwrap();
        assert!((r.throughput.unwrap() - 2.0).abs() < 1e-9);
        assert!((r.p50.unwrap() - 4.0).abs() < 0.01);
        assert!((r.p99.unwrap() - 2.0).abs() < 0.01);
    }

    #[test]
    fn json_report_shape() {
        let json: Value = serde_json::from_str(&both().to_json().unwrap()).unwrap();
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(&json),
            ["node", "ratios", "service", "settings", "tool", "version"]
        );
        assert_eq!(json["tool"], "notary-loadtest");
        assert_eq!(
            keys(&json["settings"]),
            [
                "baseline",
                "concurrency",
                "duration_secs",
                "job_timeout_secs",
                "jobs",
                "max_time_secs",
                "mix",
                "url",
                "warmup"
            ]
        );
        assert_eq!(json["settings"]["mix"], "hello");
        assert_eq!(json["settings"]["baseline"], "node");
        let service = &json["service"];
        assert_eq!(
            keys(service),
            [
                "elapsed_secs",
                "error_examples",
                "errors",
                "errors_total",
                "jobs",
                "jobs_per_sec",
                "latency_us",
                "polled",
                "stopped_by",
                "target",
                "timeline",
                "valid",
                "valid_per_sec"
            ]
        );
        assert_eq!(service["target"], "service");
        assert_eq!(service["stopped_by"], "jobs");
        assert_eq!(service["jobs"], 10);
        assert_eq!(service["valid"], 8);
        assert_eq!(service["errors"]["http:503"], 2);
        assert_eq!(
            keys(&service["latency_us"]),
            ["count", "max", "mean", "min", "p50", "p90", "p99", "p99_9"]
        );
        assert!(service["latency_us"]["p50"].as_u64().unwrap() >= 10_000);
        assert_eq!(
            keys(&service["timeline"][0]),
            ["jobs", "p50_us", "p99_us", "second", "valid"]
        );
        assert_eq!(keys(&json["ratios"]), ["p50", "p99", "throughput"]);
    }

    #[test]
    fn a_baseline_only_report_has_null_service_and_ratios() {
        let mut config = RunConfig::new(None, Mix::Cpu, 2, 5);
        config.baseline = Some(Baseline::Node);
        let mut report = Report::new(&config);
        report.node = Some(summary("node", &[40], 0, 1));
        report.compute_ratios();
        let json: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
        assert!(json["service"].is_null());
        assert!(json["ratios"].is_null());
        assert!(json["settings"]["url"].is_null());
    }

    #[test]
    fn table_shows_both_columns_ratios_and_error_classes() {
        let table = both().to_table();
        assert!(table.contains("service"), "{table}");
        assert!(table.contains("node"), "{table}");
        assert!(table.contains("2.00x (service/node)"), "{table}");
        assert!(table.contains("  http:503"), "{table}");
        assert!(table.contains("  p99.9"), "{table}");
        assert!(
            table.contains("service http:503, e.g.: POST /verify: 503"),
            "{table}"
        );
    }
}
