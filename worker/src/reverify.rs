//! `notary-worker reverify --coordinator URL JOBID`: anyone can check the verifier. Fetches a
//! finished job's record (`GET /jobs/:jobId`: the spec its workers ran and their
//! attestations), reads a registered module from `GET /modules/:hash/module` (checked against
//! its hash), runs the spec in this machine's sandbox and compares, attestation by
//! attestation: the signature recovers to the named worker in the job's domain, and the output
//! hash, verdict and fuel equal this run's. Prints one line per attestation and a JSON summary
//! on stdout; exits 0 when every attestation matches, 1 when one differs (the line names what),
//! 70 when the check could not run.
//!
//! With `--rpc-url URL --registry 0x…` it also reads the job's record from the registry
//! contract (`recordOfJob`, `getRecord` over plain JSON-RPC `eth_call`) and compares it with
//! this run and with the coordinator's record: the record exists and is not revoked, its
//! output hash, verdict and fuel are this run's, its code, input and expected hashes are the
//! spec's, and its signers are exactly the workers of the recorded attestations. Any
//! difference is named and exits 1.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use notary_protocol::{Address, Attestation, JobSpec, SignedAttestation, WorkerKey};
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
    /// Also check the registry's record of the job through this JSON-RPC endpoint.
    #[arg(long, value_name = "URL", requires = "registry")]
    rpc_url: Option<String>,
    /// The registry contract to read (with `--rpc-url`).
    #[arg(long, value_name = "ADDRESS", requires = "rpc_url")]
    registry: Option<Address>,
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
    /// The registry record's check, with `--rpc-url` and `--registry`.
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<Checked>,
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
    let registry = match (&args.rpc_url, args.registry) {
        (Some(rpc), Some(registry)) => {
            Some(chain::check(rpc, registry, &spec, &mine, &checked).await?)
        }
        _ => None,
    };
    let all_match =
        checked.iter().all(|c| c.matches) && registry.as_ref().is_none_or(|r| r.matches);
    for c in checked.iter().chain(registry.as_ref()) {
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
        registry,
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

/// The registry's record of a job, read over JSON-RPC.
mod chain {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use alloy_primitives::{Address, B256};
    use alloy_sol_types::SolCall;
    use anyhow::Context;
    use notary_protocol::{Attestation, JobSpec};
    use serde_json::{json, Value};

    use super::Checked;

    use notary_protocol::attestation::sol as abi;

    async fn eth_call(rpc: &str, to: Address, data: Vec<u8>) -> anyhow::Result<Vec<u8>> {
        let body = json!({
            "jsonrpc": "2.0", "id": 1, "method": "eth_call",
            "params": [{"to": to.to_string(), "data": format!("0x{}", hex::encode(data))}, "latest"],
        });
        let answer: Value = reqwest::Client::new()
            .post(rpc)
            .json(&body)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .context("the JSON-RPC endpoint")?
            .json()
            .await
            .context("the JSON-RPC answer")?;
        let result = answer["result"]
            .as_str()
            .with_context(|| format!("eth_call failed: {}", answer["error"]))?;
        hex::decode(result.trim_start_matches("0x")).context("eth_call result")
    }

    /// Compares the registry's record of `spec`'s job with this run (`mine`) and with the
    /// coordinator's attestations as checked (`attestations`): every signer on chain has an
    /// attestation there, and every attestation that matches this run is signed on chain (a
    /// juror that dissented is in neither).
    pub async fn check(
        rpc: &str,
        registry: Address,
        spec: &JobSpec,
        mine: &Attestation,
        attestations: &[Checked],
    ) -> anyhow::Result<Checked> {
        let name = format!("registry {registry}");
        let mut differences = Vec::new();
        if spec.domain.verifying_contract != registry {
            differences.push(format!(
                "the job's attestations are signed for registry {}, not this one",
                spec.domain.verifying_contract
            ));
        }
        let job_word = mine.job_id_word();
        let id = eth_call(
            rpc,
            registry,
            abi::recordOfJobCall { jobId: job_word }.abi_encode(),
        )
        .await?;
        let id = abi::recordOfJobCall::abi_decode_returns(&id).context("recordOfJob")?;
        if id == B256::ZERO {
            differences.push(format!("no record of job {} in the registry", spec.job_id));
            return Ok(Checked {
                worker: name,
                matches: false,
                differences,
            });
        }
        let record = eth_call(
            rpc,
            registry,
            abi::getRecordCall { recordId: id }.abi_encode(),
        )
        .await?;
        let record = abi::getRecordCall::abi_decode_returns(&record).context("getRecord")?;
        let a = &record.attestation;
        let word = |d: &notary_protocol::Digest32| B256::from(d.0);
        let mut differ = |what: &str, on_chain: String, here: String| {
            if on_chain != here {
                differences.push(format!("{what}: on chain {on_chain}, re-run {here}"));
            }
        };
        differ(
            "output hash",
            a.outputHash.to_string(),
            word(&mine.output_hash).to_string(),
        );
        differ(
            "verdict",
            a.result.to_string(),
            mine.result.code().to_string(),
        );
        differ("fuel", a.fuelUsed.to_string(), mine.fuel_used.to_string());
        differ(
            "code hash",
            a.codeHash.to_string(),
            word(&spec.code_hash).to_string(),
        );
        differ(
            "input hash",
            a.inputHash.to_string(),
            word(&spec.input_hash).to_string(),
        );
        differ(
            "expected hash",
            a.expectedHash.to_string(),
            word(&spec.expected_hash).to_string(),
        );
        if record.revoked {
            differences.push("the record is revoked".into());
        }
        let on_chain: BTreeSet<Address> = record.signers.iter().copied().collect();
        let parse = |c: &Checked| c.worker.parse::<Address>().ok();
        let recorded: BTreeSet<Address> = attestations.iter().filter_map(parse).collect();
        let agreeing: BTreeSet<Address> = attestations
            .iter()
            .filter(|c| c.matches)
            .filter_map(parse)
            .collect();
        for signer in on_chain.difference(&recorded) {
            differences.push(format!(
                "signer {signer} has no attestation in the coordinator's record"
            ));
        }
        for worker in agreeing.difference(&on_chain) {
            differences.push(format!(
                "{worker}'s matching attestation is not among the record's signers"
            ));
        }
        Ok(Checked {
            worker: name,
            matches: differences.is_empty(),
            differences,
        })
    }
}
