//! Compute chains (issue 14, source document 001's `POST /api/jobs`): containers run in
//! sequence, the output of container i being the input of container i+1.
//!
//! Here a container is a registered module (`GET /info` lists them as `name@version`, with the
//! module hash as `image`). Each step is a job of its own to the fleet (its own lease, fuel
//! budget and attestation); its record carries a [`ChainStep`] that links it to the chain:
//!
//! - **Ids.** The chain's id is its first step's job id (the *head*); step i's job id is
//!   derived from the head and i ([`step_id`]), so anyone holding the chain id finds every
//!   step, and a step is created once whoever notices the previous one ending.
//! - **Input.** Step 0 reads `data` as RFC 8785 canonical JSON (as `inputData` everywhere);
//!   step i+1 reads exactly the bytes step i wrote to stdout, so step i+1's attested
//!   `inputHash` equals step i's attested `outputHash`.
//! - **The chain in each attestation.** A compute step claims no expected output: its
//!   `expectedHash` field carries the chain's *link* instead, `link₀ = sha256("notary-chain:v1"
//!   ‖ module hashes)`, `linkᵢ₊₁ = sha256(linkᵢ ‖ signing hash of step i's attestation)`. Each
//!   worker signs its step's link, so the final step's attestation names every earlier step's
//!   attestation, and [`chain_hash`] (the link after the last step) names them all. (Its
//!   `result` is therefore `INVALID` unless the guest errs or times out: what counts for a
//!   compute step is that it ran to its end.)
//! - **Progress.** The [`ChainConsumer`] reads the event log: when step i ends and ran to its
//!   end, it submits step i+1. A step whose output cannot be passed on exactly (over the
//!   recorded 4096 bytes, or not UTF-8) ends the chain as that container's error.
//!
//! A chain's state is derived from its steps' records on every read (`GET /api/jobs`).
//!
//! [`onchain`]: the same steps, asked for by contracts through `ComputeCoordinator`.

use std::sync::Arc;

use async_trait::async_trait;
use notary_protocol::{sha256, Digest32, Verdict};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod onchain;

use crate::api::request::{parse_verify_request, JobDefaults};
use crate::error::{Error, Result};
use crate::jobs::consumers::EventHandler;
use crate::record::JobRecord;
use crate::store::{JobEvent, JobStore};

/// Default `--max-chain`: containers in one chain.
pub const DEFAULT_MAX_CHAIN: usize = 8;
/// Default `--max-batch`: requests in one `POST /api/jobs/batch`.
pub const DEFAULT_MAX_BATCH: usize = 100;

/// A job's place in its chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainStep {
    /// The chain's id: its first step's job id.
    pub head: Uuid,
    /// This step's position (0-based).
    pub index: u32,
    /// Every container of the chain, in order.
    pub containers: Vec<ChainContainer>,
    /// Who asked (the client key the rate limit uses): `GET /api/jobs` lists a client's chains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The on-chain request this step runs an interval of (delivered back on chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onchain: Option<onchain::OnchainJob>,
}

/// One container of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainContainer {
    /// As the client named it (`name@version` or the module hash).
    pub id: String,
    /// The registered module.
    pub module: Digest32,
}

/// Step `index`'s job id in the chain `head` (step 0 is the head itself).
pub fn step_id(head: Uuid, index: u32) -> Uuid {
    if index == 0 {
        return head;
    }
    derived_id(&[head.as_bytes().as_slice(), &index.to_be_bytes()].concat())
}

/// A job id derived from `seed`: the first 16 bytes of its sha256 as a version-8 (custom) UUID
/// of RFC 9562, the same for whoever derives it.
pub fn derived_id(seed: &[u8]) -> Uuid {
    let digest = sha256(seed);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.0[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The first link: the chain's containers.
pub fn first_link(containers: &[ChainContainer]) -> Digest32 {
    let mut bytes = b"notary-chain:v1".to_vec();
    for c in containers {
        bytes.extend_from_slice(&c.module.0);
    }
    sha256(&bytes)
}

/// The link after a step: its own link and its attestation's signing hash.
pub fn next_link(link: &Digest32, attestation: &Digest32) -> Digest32 {
    sha256(&[link.0, attestation.0].concat())
}

/// How a step ended, from its record.
#[derive(Clone, Debug, PartialEq)]
pub enum StepEnd {
    /// Not final yet.
    Running,
    /// Ran to its end: its stdout (exact when `exact`), and the link after it.
    Output {
        /// The start of stdout.
        text: String,
        /// Whether `text` is exactly what the step wrote (so it can be passed on).
        exact: bool,
        /// The link after this step.
        link: Digest32,
    },
    /// Failed: why.
    Failed(String),
}

/// How `record`'s step ended.
pub fn step_end(record: &JobRecord) -> StepEnd {
    let Some(outcome) = &record.outcome else {
        return StepEnd::Running;
    };
    match (outcome.result, &outcome.attestation) {
        (Some(Verdict::Valid | Verdict::Invalid), Some(att)) => {
            let text = outcome.output_preview.clone().unwrap_or_default();
            let exact =
                !outcome.output_truncated && Some(sha256(text.as_bytes())) == outcome.actual_hash;
            StepEnd::Output {
                text,
                exact,
                link: next_link(
                    &record.spec.expected_hash,
                    &att.fields.signing_hash(&record.spec.domain),
                ),
            }
        }
        // ERROR, TIMEOUT or an infrastructure failure: it did not run to its end.
        _ => StepEnd::Failed(
            outcome
                .error_message
                .clone()
                .unwrap_or_else(|| "the step failed".into()),
        ),
    }
}

/// What a step ending with an inexact output says when it should be passed on.
pub fn not_passable(container: &str) -> String {
    format!("the output of {container} cannot be passed on exactly (over 4096 bytes, or not UTF-8)")
}

/// Builds a chain step's job (not stored): the module of `containers[index]`, reading
/// `input` (raw stdin bytes; step 0 gets `data`'s canonical JSON), with `link` as its
/// expected hash. A step of an on-chain request is judged by the jury its redundancy needs
/// and runs with at most its `maxFuel`.
pub async fn build_step(
    defaults: &JobDefaults<'_>,
    step: ChainStep,
    input: StepInput<'_>,
    link: Digest32,
) -> std::result::Result<JobRecord, crate::api::error::ApiError> {
    let container = &step.containers[step.index as usize];
    let mut body = serde_json::json!({
        "taskType": "code-execution",
        "moduleHash": container.module.to_hex(),
        "expectedHash": link.to_hex(),
    });
    if let StepInput::Data(data) = input {
        body["inputData"] = data.clone();
    }
    if let Some(o) = &step.onchain {
        let tier = onchain::tier_for(o.redundancy).ok_or_else(|| {
            crate::api::error::ApiError::field(
                "redundancy",
                format!(
                    "redundancy {} is more than a jury's majority can sign (at most 4)",
                    o.redundancy
                ),
            )
        })?;
        if tier > 1 {
            body["trustTier"] = tier.into();
            body["escalation"] = "auto".into();
        }
    }
    let body = serde_json::to_vec(&body).map_err(Error::from)?;
    let mut record = parse_verify_request(&body, defaults).await?.record;
    if let StepInput::Stdin(bytes) = input {
        record.spec.input = Some(bytes.to_string());
        record.spec.input_hash = sha256(bytes.as_bytes());
    }
    record.spec.job_id = step_id(step.head, step.index);
    if let Some(o) = &step.onchain {
        record.spec.fuel = record.spec.fuel.min(o.max_fuel.max(1));
    }
    record.chain = Some(step);
    Ok(record)
}

/// What a step reads.
#[derive(Clone, Copy)]
pub enum StepInput<'a> {
    /// The chain's `data` (step 0), as canonical JSON.
    Data(&'a serde_json::Value),
    /// The previous step's stdout.
    Stdin(&'a str),
}

/// The `chain` event consumer: submits step i+1 when step i has run to its end.
/// It builds steps like any job, so it holds the API state (the job service and the job
/// defaults).
pub struct ChainConsumer(pub Arc<crate::api::AppState>);

#[async_trait]
impl EventHandler for ChainConsumer {
    fn name(&self) -> &'static str {
        "compute-chain"
    }

    async fn handle(&self, event: &JobEvent) -> Result<()> {
        if event.chain_step == Some(false) {
            return Ok(()); // not a chain step: no record read needed
        }
        let state = &self.0;
        let store = state.jobs.store();
        let Some(record) = store.get(event.job_id).await? else {
            return Ok(());
        };
        let Some(step) = &record.chain else {
            return Ok(());
        };
        let next = step.index + 1;
        if next as usize >= step.containers.len() {
            return Ok(());
        }
        let StepEnd::Output { text, exact, link } = step_end(&record) else {
            return Ok(());
        };
        if !exact || store.get(step_id(step.head, next)).await?.is_some() {
            return Ok(());
        }
        let defaults = state.job_defaults();
        let mut next_step = ChainStep {
            index: next,
            ..step.clone()
        };
        if let (Some(o), Some(outcome)) = (&mut next_step.onchain, &record.outcome) {
            // An on-chain request's fuel bounds the whole chain.
            o.max_fuel = o.max_fuel.saturating_sub(outcome.fuel_used);
        }
        let client = step.client.clone();
        let built = build_step(&defaults, next_step, StepInput::Stdin(&text), link).await;
        let next_record = match built {
            Ok(r) => r,
            Err(e) => {
                // The module was withdrawn or the output is refused as an input: the chain
                // ends here, shown as the next container's error when it is read.
                tracing::warn!(job_id = %record.id(), error = ?e, "the next step of a chain cannot be built");
                return Ok(());
            }
        };
        tracing::info!(chain = %step.head, step = next, job_id = %next_record.id(), "chain step submitted");
        state
            .jobs
            .submit(&next_record, client.as_deref())
            .await
            .map_err(|e| Error::Store(format!("chain step: {e}")))
    }
}

/// Reads a chain's steps, in order, as far as they exist.
pub async fn steps(store: &dyn JobStore, head: &JobRecord) -> Result<Vec<JobRecord>> {
    let Some(chain) = &head.chain else {
        return Ok(Vec::new());
    };
    let mut out = vec![head.clone()];
    for i in 1..chain.containers.len() as u32 {
        match store.get(step_id(chain.head, i)).await? {
            Some(r) => out.push(r),
            None => break,
        }
    }
    Ok(out)
}

/// Where a chain stands, from its steps' records.
#[derive(Clone, Debug)]
pub enum Progress {
    /// A step runs, or the next one is about to be submitted.
    Running,
    /// Every step ran to its end: their records, in order.
    Done(Vec<JobRecord>),
    /// A step failed (or its output cannot be passed on): why, naming its container.
    Failed(String),
}

/// Reads where the chain headed by `head` stands.
pub async fn progress(store: &dyn JobStore, head: &JobRecord) -> Result<Progress> {
    let Some(chain) = &head.chain else {
        return Ok(Progress::Failed("not a chain".into()));
    };
    let all = steps(store, head).await?;
    for (i, record) in all.iter().enumerate() {
        let container = &chain.containers[i].id;
        match step_end(record) {
            StepEnd::Running => return Ok(Progress::Running),
            StepEnd::Failed(why) => return Ok(Progress::Failed(format!("{container}: {why}"))),
            StepEnd::Output { exact: false, .. } if i + 1 < chain.containers.len() => {
                return Ok(Progress::Failed(not_passable(container)))
            }
            StepEnd::Output { .. } => {}
        }
    }
    Ok(if all.len() == chain.containers.len() {
        Progress::Done(all)
    } else {
        Progress::Running
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_ids_are_derived_from_the_head_and_distinct() {
        let head = Uuid::new_v4();
        assert_eq!(step_id(head, 0), head);
        let ids: std::collections::HashSet<Uuid> = (0..8).map(|i| step_id(head, i)).collect();
        assert_eq!(ids.len(), 8);
        assert_eq!(step_id(head, 3), step_id(head, 3));
        assert_eq!(step_id(head, 1).get_version_num(), 8);
    }
}
