//! Result intake: worker reports (and dead letters) from the queue, checked, then handed to the
//! completion policy.
//!
//! Every report is checked before it counts: the signature must recover to the address the
//! report names, that address must be an allowed worker, the signed fields must be this job's
//! (code, input and expected hash), the runtime id must match the runtime described, and the
//! verdict must agree with the hashes. A report that fails any check is dropped and the job is
//! queued again, so a rogue or broken worker cannot decide a result. Who is at fault decides
//! whether that costs a delivery: a report refused for the worker's identity or setup (a bad
//! signature, a worker not on the allow list, a runtime id that does not match or is not among
//! the accepted ones) is no delivery
//! of the job, which goes back with its count unchanged and the refusal logged at error with
//! the worker's address; a report that misstates the job itself counts one (up to the
//! delivery limit).
//! An accepted report goes to the policy ([`super::policy`]); the final write is
//! compare-and-set, so duplicates (two workers finishing one job) are harmless.

use std::time::Duration;

use notary_protocol::{Address, Verdict, WorkerReport};
use notary_queue::IntakeItem;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::policy::Decision;

/// Why a report does not count.
/// What [`JobService::precheck`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precheck {
    /// Every check passed: the intake will take it.
    Passed,
    /// No such job (or expired).
    UnknownJob,
    /// The job is final already.
    Final,
    /// A check failed: `worker` (signer, approval, runtime) or `report` (what it says about
    /// the job), and why.
    Refused(&'static str, String),
}

enum Refusal {
    /// The worker's identity or setup: not a delivery of the job.
    Worker(String),
    /// What the report says about the job: a delivery that failed.
    Report(String),
}
use super::JobService;
use crate::error::Result;
use crate::record::{JobOutcome, JobRecord};

impl JobService {
    /// Consumes the intake as `consumer` until `stop` is cancelled.
    pub async fn run_intake(&self, consumer: &str, stop: CancellationToken) {
        let mut delay = Duration::from_millis(100);
        while !stop.is_cancelled() {
            let next = tokio::select! {
                next = self.queue.next_intake(consumer, Duration::from_secs(1)) => next,
                _ = stop.cancelled() => break,
            };
            match next {
                Ok(Some(delivery)) => {
                    delay = Duration::from_millis(100);
                    match self.handle(&delivery.item).await {
                        Ok(()) => {
                            if let Err(e) = self.queue.ack_intake(&delivery).await {
                                tracing::warn!(error = %e, "intake ack failed; the item will be handled again (idempotent)");
                            }
                        }
                        // Not acknowledged: after the intake TTL it is handed out again.
                        Err(e) => {
                            tracing::warn!(job_id = delivery.item.job_id(), error = %e, "could not record result; will retry")
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "intake read failed; backing off");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.cancelled() => break,
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Handles one intake item; `Err` means "try again later" (a backend failure).
    pub async fn handle(&self, item: &IntakeItem) -> Result<()> {
        match item {
            IntakeItem::Submitted {
                job_id,
                worker,
                attempt,
                payload,
            } => {
                let report: WorkerReport = match serde_json::from_str(payload) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(job_id, worker, error = %e, "unreadable report dropped");
                        return self
                            .requeue_or_fail(job_id, *attempt, "unreadable worker report")
                            .await;
                    }
                };
                let record = match self.accepted.get(report.job_id) {
                    Some(record) => record,
                    None => match self.store.get(report.job_id).await? {
                        Some(record) => record,
                        None => {
                            tracing::warn!(job_id, "report for an unknown or expired job dropped");
                            return Ok(());
                        }
                    },
                };
                if record.outcome.is_some() {
                    tracing::debug!(job_id, "report for a final job ignored");
                    return Ok(());
                }
                if record.jury.is_some() {
                    return self.handle_juror(&record, &report, job_id, worker).await;
                }
                match self.check(&record, &report).await? {
                    Ok(()) => {}
                    Err(Refusal::Worker(reason)) => {
                        tracing::error!(
                            job_id,
                            worker,
                            %reason,
                            "worker refused: its report does not count and the job goes back with its delivery count unchanged"
                        );
                        crate::metrics::report_refused("worker");
                        return self.requeue(&record, *attempt).await;
                    }
                    Err(Refusal::Report(reason)) => {
                        tracing::warn!(job_id, worker, %reason, "report rejected");
                        crate::metrics::report_refused("report");
                        return self
                            .requeue_or_fail(
                                job_id,
                                *attempt,
                                &format!("rejected worker report: {reason}"),
                            )
                            .await;
                    }
                }
                self.conclude(&record, self.policy.on_accepted(&record, &report))
                    .await
            }
            IntakeItem::DeadLettered { job, reason } => {
                let Some(record) = self.get_str(&job.job_id).await? else {
                    return Ok(());
                };
                if let (Some(_), Some(target)) = (&record.jury, &job.target) {
                    let Ok(juror) = target.parse::<Address>() else {
                        tracing::warn!(job_id = %job.job_id, %target, "dead letter of a task for no worker address");
                        return Ok(());
                    };
                    let why = format!("no result: {reason}");
                    let decision = self.juries.on_juror_failed(&record, juror, &why).await?;
                    return self.conclude(&record, decision).await;
                }
                tracing::error!(job_id = %job.job_id, %reason, "job dead-lettered");
                let outcome = JobOutcome::infrastructure_failure(
                    &record,
                    "VM Spawn Failed",
                    &format!("no worker produced a result: {reason}"),
                    job.attempt,
                );
                self.finalize(&record, &outcome).await
            }
        }
    }

    /// A juror's report: checked like any report, then sealed in the jury; a refused report
    /// costs the juror its seat (the next worker of the order takes it), never the job a
    /// delivery. The seat is the one of the address the attestation names.
    async fn handle_juror(
        &self,
        record: &JobRecord,
        report: &WorkerReport,
        job_id: &str,
        worker: &str,
    ) -> Result<()> {
        let decision = match self.check(record, report).await? {
            Ok(()) => self.juries.on_report(record, report).await?,
            Err(Refusal::Worker(reason) | Refusal::Report(reason)) => {
                let juror = report.attestation.worker;
                tracing::warn!(job_id, worker, %juror, %reason, "juror's report refused");
                crate::metrics::report_refused("juror");
                let why = format!("report refused: {reason}");
                self.juries.on_juror_failed(record, juror, &why).await?
            }
        };
        self.conclude(record, decision).await
    }

    /// Acts on a policy's decision: the final write, or nothing yet.
    async fn conclude(&self, record: &JobRecord, decision: Decision) -> Result<()> {
        match decision {
            Decision::Final(outcome) => self.finalize(record, &outcome).await,
            Decision::Pending => Ok(()),
        }
    }

    async fn get_str(&self, job_id: &str) -> Result<Option<JobRecord>> {
        match Uuid::parse_str(job_id) {
            Ok(id) => self.store.get(id).await,
            Err(_) => Ok(None),
        }
    }

    /// A report that cannot be trusted does not decide the job: run it again elsewhere, or
    /// give up (refundable) at the delivery limit.
    async fn requeue_or_fail(&self, job_id: &str, attempt: u32, why: &str) -> Result<()> {
        let Some(record) = self.get_str(job_id).await? else {
            return Ok(());
        };
        if record.outcome.is_some() {
            return Ok(());
        }
        if attempt < self.max_deliveries {
            self.requeue(&record, attempt + 1).await
        } else {
            let outcome =
                JobOutcome::infrastructure_failure(&record, "VM Spawn Failed", why, attempt);
            self.finalize(&record, &outcome).await
        }
    }

    /// The intake's checks of `report` before it is submitted (a remote worker's `POST
    /// /jobs/:jobId/result` or `/attest`), so the worker hears at once which check failed.
    pub async fn precheck(&self, report: &WorkerReport) -> Result<Precheck> {
        let Some(record) = self.store.get(report.job_id).await? else {
            return Ok(Precheck::UnknownJob);
        };
        if record.outcome.is_some() {
            return Ok(Precheck::Final);
        }
        Ok(match self.check(&record, report).await? {
            Ok(()) => Precheck::Passed,
            Err(Refusal::Worker(why)) => Precheck::Refused("worker", why),
            Err(Refusal::Report(why)) => Precheck::Refused("report", why),
        })
    }

    /// Every check of a report: signer (allowed, or registered and approved with this
    /// runtime), runtime, and the signed fields against the job.
    async fn check(
        &self,
        record: &JobRecord,
        report: &WorkerReport,
    ) -> Result<std::result::Result<(), Refusal>> {
        let domain = &record.spec.domain;
        let att = &report.attestation;
        let signer = match att.verify(domain) {
            Ok(signer) => signer,
            Err(e) => return Ok(Err(Refusal::Worker(format!("bad signature: {e}")))),
        };
        if let Err(why) = self.juries.admits(signer, &att.fields.runtime_id).await? {
            return Ok(Err(Refusal::Worker(why)));
        }
        if att.fields.runtime_id != report.runtime.id() {
            return Ok(Err(Refusal::Worker(
                "runtime id does not match the runtime described".into(),
            )));
        }
        if !self.accepts_runtime(&att.fields.runtime_id) {
            return Ok(Err(Refusal::Worker(format!(
                "runtime {} is not accepted (--accept-runtime)",
                att.fields.runtime_id
            ))));
        }
        Ok(self.check_fields(record, report).map_err(Refusal::Report))
    }

    /// What the attestation says about the job: it must be this job, within its budget, with a
    /// verdict that agrees with the hashes.
    fn check_fields(
        &self,
        record: &JobRecord,
        report: &WorkerReport,
    ) -> std::result::Result<(), String> {
        let att = &report.attestation;
        let f = &att.fields;
        let spec = &record.spec;
        if f.job_id != spec.job_id || report.job_id != spec.job_id {
            return Err("attestation is for another job".into());
        }
        if f.code_hash != spec.code_hash
            || f.input_hash != spec.input_hash
            || f.expected_hash != spec.expected_hash
        {
            return Err("attested code, input or expected hash differs from the job".into());
        }
        if f.fuel_used > spec.fuel {
            return Err("attested fuel exceeds the job's budget".into());
        }
        match f.result {
            Verdict::Valid if f.output_hash != spec.expected_hash => {
                Err("VALID with a different output hash".into())
            }
            Verdict::Invalid if f.output_hash == spec.expected_hash => {
                Err("INVALID with the expected output hash".into())
            }
            _ => Ok(()),
        }
    }
}
