//! The coordinator's record of one job, from acceptance to its final state.

use notary_protocol::{Digest32, JobSpec, Language, RuntimeInfo, SignedAttestation, Verdict};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jury::{JuryPlan, JuryState};

/// Largest `code` accepted (source document 002: "Code exceeds 100KB limit").
pub const MAX_CODE_BYTES: usize = 100 * 1024;
/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Where a job is in its life (source document 002's `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for the client's payment.
    PendingPayment,
    /// Queued or running on a worker (or a jury).
    Running,
    /// A jury split: the job waits for `POST /jobs/:jobId/escalate` (with the majority's
    /// provisional verdict, if there was one).
    Escalated,
    /// A worker's attested result was accepted (VALID, INVALID, ERROR or TIMEOUT).
    Completed,
    /// Infrastructure failure: no result could be produced; refundable.
    Error,
}

impl JobStatus {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::PendingPayment => "pending_payment",
            JobStatus::Running => "running",
            JobStatus::Escalated => "escalated",
            JobStatus::Completed => "completed",
            JobStatus::Error => "error",
        }
    }
}

/// What the client asked for, fixed at acceptance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobRecord {
    /// The job as queued.
    pub spec: JobSpec,
    /// The language the client wrote (`wat` is queued as a module).
    pub language: Language,
    /// When the coordinator accepted the request (unix ms).
    pub created_at_ms: u64,
    /// Set once, when the job reaches its final state.
    pub outcome: Option<JobOutcome>,
    /// The registered module the job named by `moduleHash`, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<Digest32>,
    /// The webhook the client named by `webhookId`, told when the job is final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<Uuid>,
    /// The jury fixed at acceptance (trust tier above 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jury: Option<JuryPlan>,
    /// The jury's rounds as they are now (stored apart from the accepted record, which never
    /// changes; see `JobStore::save_jury`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jury_state: Option<JuryState>,
    /// The ERC-8004 validation request the job answers (`erc8004RequestHash`): its final
    /// verdict is posted to the validation registry ([`crate::payments::validation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_request: Option<alloy::primitives::B256>,
    /// The compute chain this job is a step of (document 001's `POST /api/jobs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<crate::compute::ChainStep>,
}

impl JobRecord {
    /// The job id.
    pub fn id(&self) -> Uuid {
        self.spec.job_id
    }

    /// The current status.
    pub fn status(&self) -> JobStatus {
        match &self.outcome {
            None if self.jury_state.as_ref().is_some_and(|j| j.escalated) => JobStatus::Escalated,
            None => JobStatus::Running,
            Some(o) if o.result.is_some() => JobStatus::Completed,
            Some(_) => JobStatus::Error,
        }
    }

    /// The trust tier the client asked for (1: no jury).
    pub fn trust_tier(&self) -> u8 {
        self.jury.as_ref().map_or(1, |j| j.tier)
    }

    /// When the record last changed (unix ms).
    pub fn updated_at_ms(&self) -> u64 {
        self.outcome
            .as_ref()
            .map_or(self.created_at_ms, |o| o.completed_at_ms)
    }
}

/// The final state of a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobOutcome {
    /// VALID / INVALID / ERROR / TIMEOUT; `None` for an infrastructure failure (`status:
    /// "error"`).
    pub result: Option<Verdict>,
    /// sha256 of the program's stdout, when it ran to an exit.
    pub actual_hash: Option<Digest32>,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Guest run time (ms).
    pub execution_ms: f64,
    /// From acceptance to the final state (ms).
    pub total_ms: f64,
    /// What went wrong, for ERROR, TIMEOUT and infrastructure failures.
    pub error_message: Option<String>,
    /// The failure's code from document 002's error table (e.g. "VM Spawn Failed").
    pub error_code: Option<String>,
    /// Whether the client is owed a refund (document 002's table).
    pub refund_eligible: bool,
    /// The worker's signed attestation (absent when no worker produced one); of a jury, the
    /// first agreeing juror's.
    pub attestation: Option<SignedAttestation>,
    /// Of a jury: every agreeing juror's attestation of the deciding round, in seat order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<SignedAttestation>,
    /// The runtime behind the attestation's `runtimeId`.
    pub runtime: Option<RuntimeInfo>,
    /// sha256 of the module that ran.
    pub module_hash: Option<Digest32>,
    /// The start of stdout.
    pub output_preview: Option<String>,
    /// Whether the preview is cut short.
    pub output_truncated: bool,
    /// The guest's exit code.
    pub exit_code: Option<i32>,
    /// Which delivery produced the result.
    pub attempt: u32,
    /// When the final state was reached (unix ms).
    pub completed_at_ms: u64,
}

impl JobOutcome {
    /// The attestations of the verdict: every agreeing juror's of the deciding round (a
    /// jury), or the one worker's (tier 1); none without a verdict.
    pub fn deciding_attestations(&self) -> &[SignedAttestation] {
        if self.attestations.is_empty() {
            self.attestation.as_slice()
        } else {
            &self.attestations
        }
    }

    /// The outcome of a job that could not produce a result (refundable).
    pub fn infrastructure_failure(
        record: &JobRecord,
        code: &str,
        message: &str,
        attempt: u32,
    ) -> Self {
        let now = now_ms();
        JobOutcome {
            result: None,
            actual_hash: None,
            fuel_used: 0,
            execution_ms: 0.0,
            total_ms: now.saturating_sub(record.created_at_ms) as f64,
            error_message: Some(message.to_string()),
            error_code: Some(code.to_string()),
            refund_eligible: true,
            attestation: None,
            attestations: Vec::new(),
            runtime: None,
            module_hash: None,
            output_preview: None,
            output_truncated: false,
            exit_code: None,
            attempt,
            completed_at_ms: now,
        }
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
