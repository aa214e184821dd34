//! Delivery of an on-chain request's interval: the `compute-delivery` event consumer sends
//! `deliverCompute(requestId, interval, output, steps, signatures)` when the interval's chain
//! has run to its end: each step's attestation with every agreeing juror's signature of its
//! deciding round (one worker's for redundancy 1).
//!
//! Once per interval: under the job's settling lock the consumer reads the contract's
//! `delivered` first and sends nothing for an interval already delivered; the call is simulated
//! before it is sent, so a delivery the contract would refuse for good (the run does not match
//! the request) is logged and dropped instead of retried, while one refused for now (`NotDue`)
//! or lost to the RPC is retried with the consumer's backoff. A coordinator that dies after
//! broadcasting sends it again after the restart; the contract refuses the second
//! (`AlreadyDelivered`), so the consumer is called once.

use std::sync::Arc;

use alloy::primitives::{Bytes, B256, U256};
use alloy::sol_types::SolCall;
use async_trait::async_trait;
use notary_protocol::SignedAttestation;
use uuid::Uuid;

use super::OnchainJob;
use crate::chain::contracts::{ComputeCoordinator as C, IAttestations};
use crate::compute::{progress, step_end, Progress, StepEnd};
use crate::error::{Error, Result};
use crate::jobs::consumers::EventHandler;
use crate::payments::{chain_err, Payments};
use crate::record::JobRecord;
use crate::store::{JobEvent, JobStore};

/// How long a delivery holds the job's settling lock at most.
const LOCK_TTL: std::time::Duration = std::time::Duration::from_secs(90);

/// What an interval's finished chain delivers.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Where and which interval (of the first step).
    pub job: OnchainJob,
    /// The last step's stdout, exactly.
    pub output: Bytes,
    /// Each step's attestation, as the contract takes it.
    pub steps: Vec<IAttestations::Attestation>,
    /// Each step's signatures, one per distinct agreeing worker.
    pub signatures: Vec<Vec<Bytes>>,
}

/// The delivery of an interval whose chain ran to its end (`steps`, in order), or why it has
/// none (its output cannot be passed on exactly, or too few workers signed a step, or the
/// steps used more fuel than the request allows).
pub fn delivery(steps: &[JobRecord]) -> std::result::Result<Delivery, String> {
    let job = steps
        .first()
        .and_then(|r| r.chain.as_ref())
        .and_then(|c| c.onchain.clone())
        .ok_or("not an on-chain request's chain")?;
    let mut out = Delivery {
        job,
        output: Bytes::new(),
        steps: Vec::with_capacity(steps.len()),
        signatures: Vec::with_capacity(steps.len()),
    };
    let mut fuel = 0u64;
    for record in steps {
        let (attestation, signatures) = signed_step(record, out.job.redundancy)?;
        fuel = fuel.saturating_add(attestation.fuelUsed);
        out.steps.push(attestation);
        out.signatures.push(signatures);
    }
    if fuel > out.job.max_fuel {
        return Err(format!(
            "the chain used {fuel} fuel; the request allows {}",
            out.job.max_fuel
        ));
    }
    match steps.last().map(step_end) {
        Some(StepEnd::Output {
            text, exact: true, ..
        }) => out.output = Bytes::from(text.into_bytes()),
        Some(StepEnd::Output { .. }) => {
            return Err("the output is over 4096 bytes or not UTF-8".into())
        }
        Some(StepEnd::Failed(why)) => return Err(why),
        Some(StepEnd::Running) | None => return Err("not final".into()),
    }
    Ok(out)
}

/// One step's attestation and the signatures of its distinct agreeing workers (at least
/// `redundancy`).
fn signed_step(
    record: &JobRecord,
    redundancy: u16,
) -> std::result::Result<(IAttestations::Attestation, Vec<Bytes>), String> {
    let outcome = record.outcome.as_ref().ok_or("not final")?;
    let signed: Vec<&SignedAttestation> = if outcome.attestations.is_empty() {
        outcome.attestation.iter().collect()
    } else {
        outcome.attestations.iter().collect()
    };
    let first = signed.first().ok_or("no attestation")?;
    let mut workers = Vec::new();
    let mut signatures = Vec::new();
    for a in &signed {
        if a.fields != first.fields || workers.contains(&a.worker) {
            continue;
        }
        let sig = a
            .signature
            .parse::<Bytes>()
            .map_err(|e| format!("a malformed signature: {e}"))?;
        workers.push(a.worker);
        signatures.push(sig);
    }
    if signatures.len() < usize::from(redundancy) {
        return Err(format!(
            "{} workers signed step {}; the request needs {redundancy}",
            signatures.len(),
            record.id()
        ));
    }
    let f = &first.fields;
    let attestation = IAttestations::Attestation {
        jobId: f.job_id_word(),
        codeHash: B256::from(f.code_hash.0),
        inputHash: B256::from(f.input_hash.0),
        outputHash: B256::from(f.output_hash.0),
        expectedHash: B256::from(f.expected_hash.0),
        fuelUsed: f.fuel_used,
        result: f.result.code(),
        runtimeId: B256::from(f.runtime_id.0),
    };
    Ok((attestation, signatures))
}

/// The `compute-delivery` event consumer.
pub struct DeliveryConsumer {
    /// The chain and the ledger (its settling locks).
    pub payments: Arc<Payments>,
    /// Where the final jobs are read.
    pub store: Arc<dyn JobStore>,
}

#[async_trait]
impl EventHandler for DeliveryConsumer {
    fn name(&self) -> &'static str {
        "compute-delivery"
    }

    async fn handle(&self, event: &JobEvent) -> Result<()> {
        let Some(record) = self.store.get(event.job_id).await? else {
            return Ok(());
        };
        let Some(step) = record.chain.as_ref().filter(|c| c.onchain.is_some()) else {
            return Ok(());
        };
        if record.outcome.is_none() {
            return Err(Error::Store(format!(
                "job {} has a final event but no outcome yet",
                event.job_id
            )));
        }
        let head = if step.index == 0 {
            record.clone()
        } else {
            match self.store.get(step.head).await? {
                Some(head) => head,
                None => return Ok(()),
            }
        };
        let steps = match progress(self.store.as_ref(), &head).await? {
            // An earlier step's end: the chain consumer submits the next one.
            Progress::Running => return Ok(()),
            Progress::Failed(why) => {
                tracing::warn!(job_id = %head.id(), why, "on-chain interval failed; not delivered");
                return Ok(());
            }
            Progress::Done(steps) => steps,
        };
        let d = match delivery(&steps) {
            Ok(d) => d,
            Err(why) => {
                tracing::warn!(job_id = %head.id(), why, "on-chain interval not delivered");
                return Ok(());
            }
        };
        let ledger = self.payments.ledger();
        let owner = Uuid::new_v4().to_string();
        if !ledger.lock_settling(head.id(), &owner, LOCK_TTL).await? {
            return Err(Error::Store(format!(
                "job {} is being delivered elsewhere",
                head.id()
            )));
        }
        let result = self.deliver(&d).await;
        if let Err(e) = ledger.unlock_settling(head.id(), &owner).await {
            tracing::warn!(job_id = %head.id(), error = %e, "delivery lock not released; it expires");
        }
        if let Some(tx) = result? {
            tracing::info!(job_id = %head.id(), request = %d.job.request_id, interval = d.job.interval, tx = %tx, "on-chain interval delivered");
        }
        Ok(())
    }
}

impl DeliveryConsumer {
    /// Sends the delivery unless the interval is delivered; the transaction if sent.
    async fn deliver(&self, d: &Delivery) -> Result<Option<B256>> {
        let chain = &self.payments.chain;
        let c = C::new(d.job.contract, chain.provider());
        let (request, interval) = (d.job.request_id, d.job.interval);
        if c.delivered(request, interval)
            .call()
            .await
            .map_err(chain_err)?
        {
            return Ok(None);
        }
        let call = C::deliverComputeCall {
            requestId: request,
            interval,
            output: d.output.clone(),
            steps: d.steps.clone(),
            signatures: d.signatures.clone(),
        };
        let me = self.payments.config.chain_key.0.address();
        let simulated = c
            .deliverCompute(
                request,
                interval,
                d.output.clone(),
                d.steps.clone(),
                d.signatures.clone(),
            )
            .from(me)
            .call()
            .await;
        if let Err(e) = simulated {
            if e.as_decoded_error::<C::AlreadyDelivered>().is_some() {
                return Ok(None);
            }
            if let Some(not_due) = e.as_decoded_error::<C::NotDue>() {
                return Err(Error::Chain(format!(
                    "request {request} interval {interval} is due at {}",
                    not_due.dueAt
                )));
            }
            if e.as_revert_data().is_some() {
                tracing::error!(request = %request, interval, error = %e, "the contract refuses this delivery; dropped");
                return Ok(None);
            }
            return Err(chain_err(e));
        }
        let receipt = chain
            .transact(
                Some(d.job.contract),
                U256::ZERO,
                Bytes::from(call.abi_encode()),
            )
            .await
            .map_err(chain_err)?;
        Ok(Some(receipt.transaction_hash))
    }
}
