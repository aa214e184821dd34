//! The command line and the checked run configuration.
//!
//! The tool only ever targets what it is told to: there is no default URL, and a URL whose
//! host is not loopback is refused unless `--allow-remote` says it is meant. A load generator
//! pointed at the wrong host by a typo is a denial of service.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use reqwest::Url;

use crate::workload::Mix;
use crate::{Error, Result};

/// Most client tasks allowed: beyond this the client, not the server, is what gets measured.
pub const MAX_CONCURRENCY: usize = 1024;
/// Time cap added to `--duration` when `--max-time` is not given: room for jobs in flight.
pub const DURATION_GRACE: Duration = Duration::from_secs(60);
/// Time cap of a `--jobs`-only run when `--max-time` is not given.
pub const DEFAULT_JOBS_CAP: Duration = Duration::from_secs(600);

/// Load-tests a Notary service's POST /verify with jobs whose right answer is known, and
/// compares it with running each job as its own `node -e` process.
///
/// Latency is measured from the POST until the final answer (202 answers are followed by
/// polling). Percentiles and valid/s count VALID jobs only; everything else is reported by
/// error class. Exit status: 0 when the run completed (job errors are in the report), 2 for
/// usage errors, 3 when the service is unreachable at start.
#[derive(Parser, Debug, Clone)]
#[command(name = "notary-loadtest", version, about, long_about)]
#[command(group(
    clap::ArgGroup::new("bound")
        .required(true)
        .multiple(true)
        .args(["jobs", "duration"]),
))]
pub struct Args {
    /// Base URL of the service, e.g. http://127.0.0.1:8402 (loopback only, unless
    /// --allow-remote). Without it, only --baseline runs.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Client tasks: at most this many jobs in flight.
    #[arg(long, value_name = "N")]
    pub concurrency: usize,
    /// Jobs to run per phase (with --duration too, whichever comes first).
    #[arg(long, value_name = "N")]
    pub jobs: Option<u64>,
    /// Start no job after this many seconds (per phase).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Job mix: hello (console.log), cpu (a 10^6-iteration loop), mixed (80% hello, 20% cpu).
    #[arg(long, value_enum)]
    pub mix: Mix,
    /// Also run the same jobs as one `node -e` process each, with the same bounds, and compare.
    #[arg(long, value_enum)]
    pub baseline: Option<Baseline>,
    /// Write the report as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Write a chart of per-second p50/p99 latency and throughput to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub svg: Option<PathBuf>,
    /// Jobs to run, unrecorded, before each measured phase.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub warmup: u64,
    /// Hard cap on each phase's wall time; jobs still in flight are cancelled [default:
    /// duration + 60, or 600 with --jobs alone].
    #[arg(long, value_name = "SECS")]
    pub max_time: Option<f64>,
    /// Longest wait for one job's final answer, polling included.
    #[arg(long, value_name = "SECS", default_value_t = 90.0)]
    pub job_timeout: f64,
    /// The node executable for --baseline node.
    #[arg(long, value_name = "PATH", default_value = "node")]
    pub node: PathBuf,
    /// Allow a --url whose host is not loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// No progress line on stderr (it is shown only when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Ask for a jury of this many workers on every job (`trustTier`: 1, 3, 5 or 7).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub trust_tier: u8,
}

/// The process-per-job alternatives a run can compare against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// `node -e <code>` per job.
    Node,
}

/// A checked run configuration.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The service's base URL; `None` runs only the baseline.
    pub url: Option<String>,
    /// Client tasks (jobs in flight at most).
    pub concurrency: usize,
    /// Jobs per phase.
    pub jobs: Option<u64>,
    /// Start no job after this long.
    pub duration: Option<Duration>,
    /// The job mix.
    pub mix: Mix,
    /// The baseline to compare with.
    pub baseline: Option<Baseline>,
    /// Unrecorded jobs before each phase.
    pub warmup: u64,
    /// Hard cap per phase; `None` for the default (see [`RunConfig::max_time`]).
    pub max_time: Option<Duration>,
    /// Longest wait for one job.
    pub job_timeout: Duration,
    /// The node executable.
    pub node: PathBuf,
    /// Allow a non-loopback URL.
    pub allow_remote: bool,
    /// Show a progress line on stderr.
    pub progress: bool,
    /// `trustTier` of every job (1: no jury).
    pub trust_tier: u8,
}

impl RunConfig {
    /// `jobs` jobs of `mix` at `concurrency` against `url`, with the other settings at their
    /// defaults (no baseline, no warm-up, no progress line).
    pub fn new(url: Option<String>, mix: Mix, concurrency: usize, jobs: u64) -> Self {
        RunConfig {
            url,
            concurrency,
            jobs: Some(jobs),
            duration: None,
            mix,
            baseline: None,
            warmup: 0,
            max_time: None,
            job_timeout: Duration::from_secs(90),
            node: PathBuf::from("node"),
            allow_remote: false,
            progress: false,
            trust_tier: 1,
        }
    }

    /// The hard cap per phase: `--max-time`, else duration + 60 s, else 600 s.
    pub fn max_time(&self) -> Duration {
        self.max_time.unwrap_or(match self.duration {
            Some(d) => d + DURATION_GRACE,
            None => DEFAULT_JOBS_CAP,
        })
    }

    /// Checks that the run is possible and bounded.
    pub fn validate(&self) -> Result<()> {
        if self.url.is_none() && self.baseline.is_none() {
            return usage("give --url, --baseline node, or both");
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return usage(format!("--concurrency must be 1 to {MAX_CONCURRENCY}"));
        }
        if self.jobs.is_none() && self.duration.is_none() {
            return usage("give --jobs, --duration, or both");
        }
        if self.jobs == Some(0) {
            return usage("--jobs must be at least 1");
        }
        if self.duration.is_some_and(|d| d.is_zero()) {
            return usage("--duration must be more than 0");
        }
        if self.job_timeout.is_zero() || self.max_time.is_some_and(|d| d.is_zero()) {
            return usage("--job-timeout and --max-time must be more than 0");
        }
        if ![1, 3, 5, 7].contains(&self.trust_tier) {
            return usage("--trust-tier must be 1, 3, 5 or 7");
        }
        if let Some(url) = &self.url {
            check_url(url, self.allow_remote)?;
        }
        Ok(())
    }
}

impl Args {
    /// The checked configuration; `stderr_is_terminal` decides the progress line.
    pub fn into_config(self, stderr_is_terminal: bool) -> Result<RunConfig> {
        let config = RunConfig {
            url: self.url,
            concurrency: self.concurrency,
            jobs: self.jobs,
            duration: self
                .duration
                .map(|s| seconds("--duration", s))
                .transpose()?,
            mix: self.mix,
            baseline: self.baseline,
            warmup: self.warmup,
            max_time: self
                .max_time
                .map(|s| seconds("--max-time", s))
                .transpose()?,
            job_timeout: seconds("--job-timeout", self.job_timeout)?,
            node: self.node,
            allow_remote: self.allow_remote,
            progress: stderr_is_terminal && !self.no_progress,
            trust_tier: self.trust_tier,
        };
        config.validate()?;
        Ok(config)
    }
}

/// Seconds from the command line: positive, at most a day.
fn seconds(flag: &str, secs: f64) -> Result<Duration> {
    if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        usage(format!(
            "{flag} must be more than 0 and at most 86400 seconds"
        ))
    }
}

/// An http URL without query or fragment, on a loopback host unless `allow_remote`.
pub fn check_url(url: &str, allow_remote: bool) -> Result<()> {
    let parsed = Url::parse(url).map_err(|e| Error::Usage(format!("--url {url:?}: {e}")))?;
    if parsed.scheme() != "http" {
        return usage(format!(
            "--url {url:?}: only http:// is supported (this build has no TLS)"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return usage(format!(
            "--url {url:?}: give the base URL, without query or fragment"
        ));
    }
    let host = parsed.host_str().unwrap_or("");
    let loopback = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if !loopback && !allow_remote {
        return usage(format!(
            "--url {url:?} is not a loopback address; pass --allow-remote if you mean it"
        ));
    }
    Ok(())
}

fn usage<T>(message: impl Into<String>) -> Result<T> {
    Err(Error::Usage(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("notary-loadtest").chain(args.iter().copied()))
    }

    #[test]
    fn the_documented_command_line_parses() {
        let args = parse(&[
            "--url",
            "http://127.0.0.1:8402",
            "--concurrency",
            "4",
            "--jobs",
            "200",
            "--mix",
            "hello",
            "--baseline",
            "node",
            "--report",
            "r.json",
            "--svg",
            "c.svg",
            "--warmup",
            "10",
        ])
        .unwrap();
        let config = args.into_config(false).unwrap();
        assert_eq!(config.jobs, Some(200));
        assert_eq!(config.baseline, Some(Baseline::Node));
        assert_eq!(config.max_time(), DEFAULT_JOBS_CAP);
        assert!(!config.progress);
    }

    #[test]
    fn a_bound_and_a_mix_are_required() {
        assert!(parse(&[
            "--url",
            "http://127.0.0.1:1",
            "--concurrency",
            "1",
            "--mix",
            "cpu"
        ])
        .is_err());
        assert!(parse(&[
            "--url",
            "http://127.0.0.1:1",
            "--concurrency",
            "1",
            "--jobs",
            "1"
        ])
        .is_err());
        let both = parse(&[
            "--concurrency",
            "2",
            "--jobs",
            "5",
            "--duration",
            "1.5",
            "--mix",
            "mixed",
            "--baseline",
            "node",
        ])
        .unwrap()
        .into_config(true)
        .unwrap();
        assert_eq!(both.duration, Some(Duration::from_millis(1500)));
        assert_eq!(both.max_time(), Duration::from_millis(61_500));
        assert!(both.progress);
    }

    #[test]
    fn impossible_runs_are_usage_errors() {
        let bad = [
            vec!["--concurrency", "4", "--jobs", "5", "--mix", "hello"],
            vec![
                "--url",
                "http://127.0.0.1:1",
                "--concurrency",
                "0",
                "--jobs",
                "5",
                "--mix",
                "hello",
            ],
            vec![
                "--url",
                "http://127.0.0.1:1",
                "--concurrency",
                "1",
                "--jobs",
                "0",
                "--mix",
                "hello",
            ],
            vec![
                "--url",
                "http://127.0.0.1:1",
                "--concurrency",
                "1",
                "--duration",
                "0",
                "--mix",
                "hello",
            ],
            vec![
                "--url",
                "https://127.0.0.1:1",
                "--concurrency",
                "1",
                "--jobs",
                "1",
                "--mix",
                "hello",
            ],
        ];
        for args in bad {
            let err = parse(&args).unwrap().into_config(false).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{args:?}: {err}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn only_loopback_without_allow_remote() {
        for ok in [
            "http://127.0.0.1:8402",
            "http://127.1.2.3:1/",
            "http://localhost:8402",
            "http://[::1]:8402",
        ] {
            check_url(ok, false).unwrap();
        }
        for remote in [
            "http://10.0.0.1:8402",
            "http://example.invalid",
            "http://192.168.1.1",
        ] {
            assert!(check_url(remote, false).is_err(), "{remote}");
            check_url(remote, true).unwrap();
        }
    }
}
