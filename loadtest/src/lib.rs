//! # notary-loadtest
//!
//! Drives a Notary coordinator with concurrent `POST /verify` jobs whose right answer is known,
//! and measures what a client sees: correct verdicts per second and latency percentiles from
//! the POST until the final answer (following `202` responses by polling `checkStatusAt`). For
//! comparison it can run the same job mix the way a user might without Notary: one `node -e`
//! process per job, its stdout hashed and compared.
//!
//! - [`workload`]: the job mix. Job *i* runs a fixed JavaScript program whose stdout, and so its
//!   sha256, is known in advance, so every `VALID` is a correct answer and anything else is an
//!   error class.
//! - [`outcome`]: how one job ended ([`outcome::Class`]: `VALID` or an error class).
//! - [`service`] and [`node`]: the two targets that run one job: the `/verify` API, and a
//!   `node -e` process per job. [`target::Target`] puts them behind one call.
//! - [`driver`]: a fixed pool of client tasks that claim job indices until the job count, the
//!   duration or the time cap is reached; never more than `concurrency` jobs in flight.
//! - [`stats`]: per-task HDR histograms, error counts and a per-second timeline, merged into a
//!   [`stats::Summary`].
//! - [`report`]: the whole run (settings, summaries, ratios) as JSON and as a text table;
//!   [`svg`] draws its timeline.
//! - [`config`]: the command line, checked and turned into a [`RunConfig`].
//!
//! [`run`] wires them together; the binary only parses flags, calls it and writes the outputs.

pub mod config;
pub mod driver;
pub mod error;
pub mod node;
pub mod outcome;
pub mod report;
pub mod service;
pub mod stats;
pub mod svg;
pub mod target;
pub mod workload;

use std::future::Future;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use config::{Args, Baseline, RunConfig};
pub use error::{Error, Result};
pub use report::Report;
pub use workload::Mix;

use driver::{Bounds, Phase};
use target::Target;
use workload::Workload;

/// Runs the service phase (when `config.url` is set), then the node baseline (when asked),
/// one after the other so they do not compete for the same cores, and returns the report.
///
/// When `shutdown` resolves, no new job starts; jobs in flight finish (within the job timeout
/// and the time cap), the phase in progress is reported as interrupted and later phases are
/// skipped.
///
/// Fails only when the configuration is unusable or the service cannot be reached before the
/// run starts; job failures are counted in the report, not returned.
pub async fn run(config: &RunConfig, shutdown: impl Future<Output = ()>) -> Result<Report> {
    config.validate()?;
    let stop = CancellationToken::new();
    let phases = run_phases(config, stop.clone());
    tokio::pin!(phases);
    tokio::pin!(shutdown);
    tokio::select! {
        report = &mut phases => report,
        () = &mut shutdown => {
            stop.cancel();
            phases.await
        }
    }
}

async fn run_phases(config: &RunConfig, stop: CancellationToken) -> Result<Report> {
    let workload = Arc::new(Workload::with_trust_tier(config.mix, config.trust_tier));
    let mut report = Report::new(config);

    if let Some(url) = &config.url {
        let service = service::ServiceTarget::new(url, config.concurrency)?;
        service.preflight().await?;
        let target = Arc::new(Target::Service(service));
        report.service = Some(measure(config, "service", &target, &workload, &stop).await);
    }
    if config.baseline == Some(Baseline::Node) && !stop.is_cancelled() {
        let target = Arc::new(Target::Node(node::NodeTarget::new(config.node.clone())));
        report.node = Some(measure(config, "node", &target, &workload, &stop).await);
    }
    report.compute_ratios();
    Ok(report)
}

/// Warm-up (unrecorded), then the measured phase.
async fn measure(
    config: &RunConfig,
    label: &'static str,
    target: &Arc<Target>,
    workload: &Arc<Workload>,
    stop: &CancellationToken,
) -> stats::Summary {
    if config.warmup > 0 {
        let warmup = Phase {
            label: "warm-up",
            concurrency: config.concurrency,
            bounds: Bounds {
                jobs: Some(config.warmup),
                duration: None,
                max_time: config.max_time(),
                job_timeout: config.job_timeout,
            },
            progress: config.progress,
        };
        driver::drive(&warmup, target, workload, stop).await;
    }
    let phase = Phase {
        label,
        concurrency: config.concurrency,
        bounds: Bounds {
            jobs: config.jobs,
            duration: config.duration,
            max_time: config.max_time(),
            job_timeout: config.job_timeout,
        },
        progress: config.progress,
    };
    driver::drive(&phase, target, workload, stop)
        .await
        .summarize(label)
}
