//! When is a job final? The job service asks a [`CompletionPolicy`] each time a worker's result
//! has passed the intake's checks; the store only makes the final write atomic.
//!
//! Today one accepted result decides a job ([`FirstAccepted`]): every worker is trusted alike
//! and a duplicate run of a redelivered job gives the same answer anyway. A jury (several
//! workers that must agree) is another policy: it keeps the jurors' sealed results and answers
//! [`Decision::Pending`] until a quorum agrees.

use notary_protocol::{Verdict, WorkerReport};

use crate::record::{now_ms, JobOutcome, JobRecord};

/// What a policy says about a job after an accepted result.
#[derive(Debug)]
pub enum Decision {
    /// The job is final with this outcome.
    Final(Box<JobOutcome>),
    /// More results are needed.
    Pending,
}

impl Decision {
    /// Final with `outcome`, or pending without one.
    pub fn of(outcome: Option<JobOutcome>) -> Decision {
        match outcome {
            Some(outcome) => Decision::Final(Box::new(outcome)),
            None => Decision::Pending,
        }
    }
}

/// Decides when a job is final.
pub trait CompletionPolicy: Send + Sync + 'static {
    /// `report` passed every check of the intake for `record` (signer allowed, signed fields
    /// the job's, verdict consistent with the hashes).
    fn on_accepted(&self, record: &JobRecord, report: &WorkerReport) -> Decision;
}

/// The first accepted result decides the job.
#[derive(Debug, Default, Clone, Copy)]
pub struct FirstAccepted;

impl CompletionPolicy for FirstAccepted {
    fn on_accepted(&self, record: &JobRecord, report: &WorkerReport) -> Decision {
        Decision::Final(Box::new(outcome_from_report(record, report)))
    }
}

/// The final outcome a worker's accepted report gives a job.
pub fn outcome_from_report(record: &JobRecord, report: &WorkerReport) -> JobOutcome {
    let f = &report.attestation.fields;
    let now = now_ms();
    let (result, refund, code) = match f.result {
        Verdict::Failed => (None, true, Some("VM Spawn Failed".to_string())),
        // A timeout is the wall clock's doing, not the code's: refundable (document 002).
        Verdict::Timeout => (Some(Verdict::Timeout), true, None),
        v => (Some(v), false, None),
    };
    JobOutcome {
        result,
        actual_hash: report.exit_code.map(|_| f.output_hash),
        fuel_used: f.fuel_used,
        execution_ms: report.execution_ms,
        total_ms: now.saturating_sub(record.created_at_ms) as f64,
        error_message: report.error_message.clone(),
        error_code: code,
        refund_eligible: refund,
        attestation: Some(report.attestation.clone()),
        attestations: Vec::new(),
        runtime: Some(report.runtime.clone()),
        module_hash: Some(report.module_hash),
        output_preview: Some(report.output_preview.clone()),
        output_truncated: report.output_truncated,
        exit_code: report.exit_code,
        attempt: report.attempt,
        completed_at_ms: now,
    }
}
