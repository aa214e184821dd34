//! Delivery of an on-chain request's interval: the `compute-delivery` event consumer sends
//! `deliverCompute(requestId, interval, output, attestation, signatures)` when the interval's
//! job is final, with every agreeing juror's signature of the deciding round (one worker's for
//! redundancy 1).
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
use crate::compute::{step_end, StepEnd};
use crate::error::{Error, Result};
use crate::jobs::consumers::EventHandler;
use crate::payments::{chain_err, Payments};
use crate::record::JobRecord;
use crate::store::{JobEvent, JobStore};

/// How long a delivery holds the job's settling lock at most.
const LOCK_TTL: std::time::Duration = std::time::Duration::from_secs(90);

/// What an interval's final job delivers.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Where and which interval.
    pub job: OnchainJob,
    /// The step's stdout, exactly.
    pub output: Bytes,
    /// The attestation, as the contract takes it.
    pub attestation: IAttestations::Attestation,
    /// One signature per distinct agreeing worker.
    pub signatures: Vec<Bytes>,
}

/// The delivery of an interval's final job, or why it has none (the run failed, its output
/// cannot be passed on exactly, or too few workers signed it).
pub fn delivery(record: &JobRecord) -> std::result::Result<Delivery, String> {
    let job = record
        .chain
        .as_ref()
        .and_then(|c| c.onchain.clone())
        .ok_or("not an on-chain request's job")?;
    let outcome = record.outcome.as_ref().ok_or("not final")?;
    let text = match step_end(record) {
        StepEnd::Output {
            text, exact: true, ..
        } => text,
        StepEnd::Output { .. } => {
            return Err("the output is over 4096 bytes or not UTF-8".into());
        }
        StepEnd::Failed(why) => return Err(why),
        StepEnd::Running => return Err("not final".into()),
    };
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
    if signatures.len() < usize::from(job.redundancy) {
        return Err(format!(
            "{} workers signed it; the request needs {}",
            signatures.len(),
            job.redundancy
        ));
    }
    let f = &first.fields;
    if f.fuel_used > job.max_fuel {
        return Err(format!(
            "it used {} fuel; the request allows {}",
            f.fuel_used, job.max_fuel
        ));
    }
    Ok(Delivery {
        attestation: IAttestations::Attestation {
            jobId: f.job_id_word(),
            codeHash: B256::from(f.code_hash.0),
            inputHash: B256::from(f.input_hash.0),
            outputHash: B256::from(f.output_hash.0),
            expectedHash: B256::from(f.expected_hash.0),
            fuelUsed: f.fuel_used,
            result: f.result.code(),
            runtimeId: B256::from(f.runtime_id.0),
        },
        output: Bytes::from(text.into_bytes()),
        signatures,
        job,
    })
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
        if record
            .chain
            .as_ref()
            .and_then(|c| c.onchain.as_ref())
            .is_none()
        {
            return Ok(());
        }
        if record.outcome.is_none() {
            return Err(Error::Store(format!(
                "job {} has a final event but no outcome yet",
                event.job_id
            )));
        }
        let d = match delivery(&record) {
            Ok(d) => d,
            Err(why) => {
                tracing::warn!(job_id = %record.id(), why, "on-chain interval not delivered");
                return Ok(());
            }
        };
        let ledger = self.payments.ledger();
        let owner = Uuid::new_v4().to_string();
        if !ledger.lock_settling(record.id(), &owner, LOCK_TTL).await? {
            return Err(Error::Store(format!(
                "job {} is being delivered elsewhere",
                record.id()
            )));
        }
        let result = self.deliver(&d).await;
        if let Err(e) = ledger.unlock_settling(record.id(), &owner).await {
            tracing::warn!(job_id = %record.id(), error = %e, "delivery lock not released; it expires");
        }
        if let Some(tx) = result? {
            tracing::info!(job_id = %record.id(), request = %d.job.request_id, interval = d.job.interval, tx = %tx, "on-chain interval delivered");
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
            attestation: d.attestation.clone(),
            signatures: d.signatures.clone(),
        };
        let me = self.payments.config.chain_key.0.address();
        let simulated = c
            .deliverCompute(
                request,
                interval,
                d.output.clone(),
                d.attestation.clone(),
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
