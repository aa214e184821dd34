//! The JSON a client sees for a job (source document 002's field names), as typed structs:
//! the handlers return them and the OpenAPI document describes these very types, so the
//! description cannot drift from the answers.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use super::jury_view::{AttestationView, JuryView, RoundView};
use crate::jobs::jury::verdict_outcome;
use crate::record::{JobRecord, JobStatus};

/// ISO 8601 with milliseconds, as document 002 writes times (`2026-02-04T14:30:00.000Z`).
pub(crate) fn iso(ms: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Rounds milliseconds to microsecond precision for display.
fn millis(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// A job as the API shows it (`GET /verify/:id`, the answers of `POST /verify`). Fields of the
/// outcome appear once the job is final; payment fields only with payments on.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// The job id.
    pub job_id: Uuid,
    /// `running`, `completed`, `escalated` (a split jury waits for `POST
    /// /jobs/{jobId}/escalate`) or `error` (infrastructure failure, refundable).
    pub status: JobStatus,
    /// How many distinct workers must agree (1: one worker decides).
    pub trust_tier: u8,
    /// The seed of the jury's order (trust tier above 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jury_seed: Option<String>,
    /// `keccak256` of the jury's pool (trust tier above 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_hash: Option<String>,
    /// The jury: its pool and rounds (trust tier above 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jury: Option<JuryView>,
    /// `code-execution`, `data-transformation` or `api-replay`.
    pub task_type: &'static str,
    /// `javascript`, `wasm` or `wat`.
    pub language: &'static str,
    /// The expected sha256 of the output.
    pub expected_hash: String,
    /// sha256 of the program that runs (for task types, of the generated program).
    pub code_hash: String,
    /// The registered module the job named, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_hash: Option<String>,
    /// The ERC-8004 validation request the job answers: its final verdict is posted to the
    /// validation registry (read it there with `getValidationStatus`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erc8004_request_hash: Option<String>,
    /// sha256 of the input bytes.
    pub input_hash: String,
    /// The wall-clock limit.
    pub timeout_seconds: f64,
    /// When the job was accepted.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// The job's webhook, if it named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<Uuid>,
    /// `VALID`, `INVALID`, `ERROR` or `TIMEOUT`, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'static str>,
    /// sha256 of the program's stdout, when it ran to an exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_hash: Option<String>,
    /// Guest run time (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_time_ms: Option<f64>,
    /// Acceptance to final state (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_time_ms: Option<f64>,
    /// Fuel consumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_used: Option<u64>,
    /// Whether a refund is owed (document 002's table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_eligible: Option<bool>,
    /// What went wrong (ERROR, TIMEOUT, infrastructure failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The failure's code from document 002's error table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The guest's exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The start of stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Whether `output` is cut short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_truncated: Option<bool>,
    /// Which delivery produced the result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The worker's signed attestation (of a jury: the verdict's first juror's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AttestationView>,
    /// Of a jury: every agreeing juror's attestation of the deciding round.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationView>,
    /// The payment (payments on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentView>,
    /// The registry transaction that recorded the result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_tx_hash: Option<String>,
    /// The refund transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_tx_hash: Option<String>,
}

/// How a job was paid (document 002's `payment`).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    /// `exact`.
    pub scheme: String,
    /// The payment transaction.
    pub tx_hash: String,
    /// Amount paid (wei or token units), decimal.
    pub amount: String,
    /// Who paid (checksummed).
    pub payer: String,
    /// When the payment was checked.
    pub verified_at: String,
}

/// `202 Accepted` of `POST /verify`: the job runs; poll `checkStatusAt`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// The job id.
    pub job_id: Uuid,
    /// `running`.
    pub status: JobStatus,
    /// For a person.
    pub message: String,
    /// Where to poll.
    pub check_status_at: String,
}

impl Accepted {
    /// The 202 body of job `id`.
    pub fn running(id: Uuid, message: &str) -> Accepted {
        Accepted {
            job_id: id,
            status: JobStatus::Running,
            message: message.to_string(),
            check_status_at: format!("/verify/{id}"),
        }
    }
}

impl From<&JobRecord> for JobView {
    fn from(record: &JobRecord) -> JobView {
        let mut v = JobView {
            job_id: record.id(),
            status: record.status(),
            trust_tier: record.trust_tier(),
            jury_seed: record.jury.as_ref().map(|j| j.seed.to_hex()),
            pool_hash: record.jury.as_ref().map(|j| j.pool_hash.to_hex()),
            jury: JuryView::of(record),
            task_type: record.spec.task_type.as_str(),
            language: record.language.as_str(),
            expected_hash: record.spec.expected_hash.to_hex(),
            code_hash: record.spec.code_hash.to_hex(),
            module_hash: record.module.map(|m| m.to_hex()),
            erc8004_request_hash: record.validation_request.map(|h| h.to_string()),
            input_hash: record.spec.input_hash.to_hex(),
            timeout_seconds: record.spec.timeout_ms as f64 / 1000.0,
            created_at: iso(record.created_at_ms),
            updated_at: iso(record.updated_at_ms()),
            webhook_id: record.webhook_id,
            result: None,
            actual_hash: None,
            execution_time_ms: None,
            total_time_ms: None,
            fuel_used: None,
            refund_eligible: None,
            error_message: None,
            error_code: None,
            exit_code: None,
            output: None,
            output_truncated: None,
            attempts: None,
            attestation: None,
            attestations: Vec::new(),
            payment: None,
            registry_tx_hash: None,
            refund_tx_hash: None,
        };
        // An escalated jury's majority, if it had one, is the provisional verdict.
        let provisional = match (&record.outcome, &record.jury_state) {
            (None, Some(state)) if state.escalated => verdict_outcome(record, state),
            _ => None,
        };
        if let Some(o) = record.outcome.as_ref().or(provisional.as_ref()) {
            v.result = o.result.map(|r| r.as_str());
            v.actual_hash = o.actual_hash.map(|h| h.to_hex());
            v.execution_time_ms = Some(millis(o.execution_ms));
            v.total_time_ms = Some(millis(o.total_ms));
            v.fuel_used = Some(o.fuel_used);
            v.refund_eligible = Some(o.refund_eligible);
            v.error_message = o.error_message.clone();
            v.error_code = o.error_code.clone();
            v.exit_code = o.exit_code;
            if let Some(preview) = &o.output_preview {
                v.output = Some(preview.clone());
                v.output_truncated = Some(o.output_truncated);
            }
            v.attempts = Some(o.attempt);
            let att_view =
                |att| AttestationView::of(record, att, o.runtime.as_ref(), o.module_hash);
            v.attestation = o.attestation.as_ref().map(att_view);
            v.attestations = o.attestations.iter().map(att_view).collect();
        }
        debug_assert!(v.status != JobStatus::Completed || v.result.is_some());
        v
    }
}
