//! `notary-worker reverify --coordinator URL JOBID`: anyone can check the verifier. Fetches a
//! finished job's record (`GET /jobs/:jobId`: the spec its workers ran and their
//! attestations), reads a registered module from `GET /modules/:hash/module` (checked against
//! its hash), runs the spec in this machine's sandbox and compares, attestation by
//! attestation: the signature recovers to the named worker in the job's domain, and the output
//! hash, verdict and fuel equal this run's. Prints one line per attestation and a JSON summary
//! on stdout; exits 0 when every attestation matches, 1 when one differs (the line names what),
//! 70 when the check could not run.
//!
//! Checking the on-chain registry record too (`--rpc-url`, `--registry`) is not implemented
//! yet: the record's signers are the attestations checked here.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use notary_protocol::{Attestation, JobSpec, SignedAttestation, WorkerKey};
use notary_worker::remote::{Coordinator, RemoteModules};
use notary_worker::sandbox::Sandbox;
use notary_worker::{JobExecutor, SandboxSettings};
use serde::Serialize;
use serde_json::Value;

/// `reverify`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ReverifyArgs {
    /// The coordinator that recorded the job.
    #[arg(long, value_name = "URL")]
    coordinator: String,
    /// The job id.
    job_id: String,
    #[command(flatten)]
    sandbox: SandboxSettings,
}

/// The verdict of one recorded attestation.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checked {
    worker: String,
    matches: bool,
    differences: Vec<String>,
}

/// What `reverify` prints last.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    job_id: String,
    output_hash: String,
    fuel_used: u64,
    result: String,
    attestations: Vec<Checked>,
    all_match: bool,
}

/// Runs the check; the process exit code.
pub fn reverify(args: ReverifyArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("notary-worker reverify: {e}");
            return 70;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("notary-worker reverify: {e:#}");
            70
        }
    }
}

async fn run(args: ReverifyArgs) -> anyhow::Result<bool> {
    let base = args.coordinator.trim_end_matches('/');
    let url = format!("{base}/jobs/{}", args.job_id);
    let resp = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    anyhow::ensure!(
        resp.status().is_success(),
        "GET {url}: HTTP {}",
        resp.status()
    );
    let record: Value = resp.json().await.context("the job record")?;
    let spec: JobSpec =
        serde_json::from_value(record["spec"].clone()).context("the record's spec")?;
    let mut recorded: Vec<Value> = record["attestations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if recorded.is_empty() {
        recorded.extend(record.get("attestation").cloned());
    }
    anyhow::ensure!(
        !recorded.is_empty(),
        "job {} has no attestation to check (status {})",
        args.job_id,
        record["status"]
    );

    let key = WorkerKey::generate();
    let config = args.sandbox.sandbox_config(1);
    let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(config)).await??;
    let coordinator =
        Coordinator::new(base, key.clone()).map_err(|e| anyhow::anyhow!("client: {e}"))?;
    let executor = JobExecutor::new(Arc::new(sandbox), key)
        .with_module_source(Arc::new(RemoteModules::new(coordinator)));
    let payload = serde_json::to_string(&spec)?;
    let mine = executor
        .execute(&payload, 1)
        .await
        .context("the spec did not run")?
        .attestation
        .fields;

    let mut checked = Vec::new();
    for view in &recorded {
        checked.push(compare(view, &mine, &spec));
    }
    let all_match = checked.iter().all(|c| c.matches);
    for c in &checked {
        if c.matches {
            eprintln!(
                "{}: matches (output hash, verdict, fuel, signature)",
                c.worker
            );
        } else {
            eprintln!("{}: DIFFERS: {}", c.worker, c.differences.join("; "));
        }
    }
    let summary = Summary {
        job_id: args.job_id,
        output_hash: mine.output_hash.to_hex(),
        fuel_used: mine.fuel_used,
        result: mine.result.as_str().to_string(),
        attestations: checked,
        all_match,
    };
    println!("{}", serde_json::to_string(&summary)?);
    Ok(all_match)
}

/// One recorded attestation (the API's view of it) against this run.
fn compare(view: &Value, mine: &Attestation, spec: &JobSpec) -> Checked {
    let worker = view["worker"].as_str().unwrap_or("?").to_string();
    let mut differences = Vec::new();
    let theirs: Result<Attestation, _> = serde_json::from_value(view["fields"].clone());
    match theirs {
        Err(e) => differences.push(format!("the recorded fields do not parse: {e}")),
        Ok(theirs) => {
            if theirs.output_hash != mine.output_hash {
                differences.push(format!(
                    "output hash: recorded {}, re-run {}",
                    theirs.output_hash, mine.output_hash
                ));
            }
            if theirs.result != mine.result {
                differences.push(format!(
                    "verdict: recorded {}, re-run {}",
                    theirs.result.as_str(),
                    mine.result.as_str()
                ));
            }
            if theirs.fuel_used != mine.fuel_used {
                differences.push(format!(
                    "fuel: recorded {}, re-run {}",
                    theirs.fuel_used, mine.fuel_used
                ));
            }
            if theirs.job_id != spec.job_id || theirs.code_hash != spec.code_hash {
                differences.push("the attestation is not about this job's spec".into());
            }
            let signed = worker.parse().map(|w| SignedAttestation {
                fields: theirs,
                worker: w,
                signature: view["signature"].as_str().unwrap_or("").to_string(),
            });
            match signed {
                Ok(s) => {
                    if let Err(e) = s.verify(&spec.domain) {
                        differences.push(format!("signature: {e}"));
                    }
                }
                Err(_) => differences.push(format!("worker {worker:?} is not an address")),
            }
        }
    }
    Checked {
        worker,
        matches: differences.is_empty(),
        differences,
    }
}
