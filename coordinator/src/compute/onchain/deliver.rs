//! Delivery of an on-chain request's interval: the `compute-delivery` event consumer sends
//! `deliverCompute(requestId, interval, output, steps, signatures)` when the interval's chain
//! has run to its end: each step's attestation with every agreeing juror's signature of its
//! deciding round (one worker's for redundancy 1).
//!
//! An interval whose chain failed (a step erred, ran out of fuel or time, or wrote more than
//! can be passed on) or cannot be delivered (too few signers) is refused instead:
//! `refuseCompute(requestId, interval, reason)` credits its payment back to the consumer.
//!
//! Once per interval: under the job's settling lock the consumer reads the contract's `ended`
//! first and sends nothing for an interval already delivered or refused; the call is simulated
//! before it is sent, so a delivery the contract would refuse for good (a signer it does not
//! know) becomes a refusal instead of a retry, while one refused for now (`NotDue`) or lost to
//! the RPC is retried with the consumer's backoff. A coordinator that dies after broadcasting
//! sends it again after the restart; the contract refuses the second (`AlreadyDelivered`), so
//! the consumer is called once.

use std::sync::Arc;

use alloy::primitives::{Bytes, B256, U256};
use async_trait::async_trait;
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
    let signed = outcome.deciding_attestations();
    let first = signed.first().ok_or("no attestation")?;
    let mut workers = Vec::new();
    let mut signatures = Vec::new();
    for a in signed {
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
    let (attestation, _) = crate::payments::registry::to_sol(first);
    let attestation = crate::chain::contracts::compute_attestation(&attestation);
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
        let Some(job) = head.chain.as_ref().and_then(|c| c.onchain.clone()) else {
            return Ok(());
        };
        let ending = match progress(self.store.as_ref(), &head).await? {
            // An earlier step's end: the chain consumer submits the next one.
            Progress::Running => return Ok(()),
            Progress::Failed(why) => Ending::Refuse(why),
            Progress::Done(steps) => match delivery(&steps) {
                Ok(d) => Ending::Deliver(d),
                Err(why) => Ending::Refuse(why),
            },
        };
        end_interval(&self.payments, &job, head.id(), ending).await
    }
}

/// How an interval ends.
#[derive(Clone, Debug)]
pub enum Ending {
    /// Delivered with its result.
    Deliver(Delivery),
    /// Refused (its payment goes back to the consumer), and why.
    Refuse(String),
}

/// Ends `job`'s interval on chain once: under the settling lock of `lock` (the interval's job
/// id), unless the contract says it has ended already; the call is simulated first, so a
/// delivery the contract would refuse for good becomes a refusal (a refusal it would refuse is
/// logged and dropped), while one refused for now (`NotDue`) or lost to the RPC is an error
/// (retried).
pub async fn end_interval(
    payments: &Payments,
    job: &OnchainJob,
    lock: Uuid,
    ending: Ending,
) -> Result<()> {
    let ledger = payments.ledger();
    let owner = Uuid::new_v4().to_string();
    if !ledger.lock_settling(lock, &owner, LOCK_TTL).await? {
        return Err(Error::Store(format!(
            "on-chain interval {lock} is being ended elsewhere"
        )));
    }
    let mut ending = ending;
    let mut result = send_ending(payments, job, &ending).await;
    if let (Err(Rejected(why)), Ending::Deliver(_)) = (&result, &ending) {
        // A delivery the contract refuses for good (say, a signer it does not know): the
        // interval cannot be delivered, so it is refused and the consumer refunded.
        ending = Ending::Refuse(format!("the contract refused the delivery: {why}"));
        result = send_ending(payments, job, &ending).await;
    }
    if let Err(e) = ledger.unlock_settling(lock, &owner).await {
        tracing::warn!(job_id = %lock, error = %e, "delivery lock not released; it expires");
    }
    let (request, interval) = (job.request_id, job.interval);
    let sent = match result {
        Ok(sent) => sent,
        Err(Rejected(why)) => {
            tracing::error!(request = %request, interval, why, "the contract refuses to end this interval; dropped");
            None
        }
        Err(Failed(e)) => return Err(e),
    };
    match (sent, &ending) {
        (Some(tx), Ending::Deliver(_)) => {
            tracing::info!(job_id = %lock, request = %request, interval, tx = %tx, "on-chain interval delivered");
        }
        (Some(tx), Ending::Refuse(why)) => {
            tracing::warn!(job_id = %lock, request = %request, interval, tx = %tx, why, "on-chain interval refused; its payment goes back to the consumer");
        }
        (None, _) => {}
    }
    Ok(())
}

/// The reason a refusal carries on chain: the start of `why`.
fn reason(why: &str) -> String {
    why.chars().take(200).collect()
}

/// Why an ending was not sent.
enum NotSent {
    /// The contract would revert it, for good: why.
    Rejected(String),
    /// For now (the RPC, `NotDue`): retried.
    Failed(Error),
}
use NotSent::{Failed, Rejected};

/// Sends the ending unless the interval has ended; the transaction if sent.
async fn send_ending(
    payments: &Payments,
    job: &OnchainJob,
    ending: &Ending,
) -> std::result::Result<Option<B256>, NotSent> {
    let failed = |e: Error| Failed(e);
    let chain = &payments.chain;
    let c = C::new(job.contract, chain.provider());
    let (request, interval) = (job.request_id, job.interval);
    if c.ended(request, interval)
        .call()
        .await
        .map_err(|e| failed(chain_err(e)))?
    {
        return Ok(None);
    }
    let me = payments.config.chain_key.0.address();
    let (simulated, data) = match ending {
        Ending::Deliver(d) => {
            let call = c
                .deliverCompute(
                    request,
                    interval,
                    d.output.clone(),
                    d.steps.clone(),
                    d.signatures.clone(),
                )
                .from(me);
            (call.call().await.map(|_| ()), call.calldata().clone())
        }
        Ending::Refuse(why) => {
            let call = c.refuseCompute(request, interval, reason(why)).from(me);
            (call.call().await.map(|_| ()), call.calldata().clone())
        }
    };
    if let Err(e) = simulated {
        if e.as_decoded_error::<C::AlreadyDelivered>().is_some()
            || e.as_decoded_error::<C::AlreadyRefused>().is_some()
        {
            return Ok(None);
        }
        if let Some(not_due) = e.as_decoded_error::<C::NotDue>() {
            return Err(failed(Error::Chain(format!(
                "request {request} interval {interval} is due at {}",
                not_due.dueAt
            ))));
        }
        if e.as_revert_data().is_some() {
            return Err(Rejected(e.to_string()));
        }
        return Err(failed(chain_err(e)));
    }
    let receipt = chain
        .transact(Some(job.contract), U256::ZERO, data)
        .await
        .map_err(|e| failed(chain_err(e)))?;
    Ok(Some(receipt.transaction_hash))
}
