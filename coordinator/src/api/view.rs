//! The JSON a client sees for a job (source document 002's field names).

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::record::{JobRecord, JobStatus};

/// ISO 8601 with milliseconds, as document 002 writes times (`2026-02-04T14:30:00.000Z`).
pub(crate) fn iso(ms: u64) -> Value {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

/// Rounds milliseconds to microsecond precision for display.
fn millis(ms: f64) -> Value {
    json!((ms * 1000.0).round() / 1000.0)
}

/// The job as the API shows it.
pub fn job_view(record: &JobRecord) -> Value {
    let status = record.status();
    let mut v = Map::new();
    v.insert("jobId".into(), json!(record.id()));
    v.insert("status".into(), json!(status.as_str()));
    v.insert("taskType".into(), json!(record.spec.task_type.as_str()));
    v.insert("language".into(), json!(record.language.as_str()));
    v.insert("expectedHash".into(), json!(record.spec.expected_hash));
    v.insert("codeHash".into(), json!(record.spec.code_hash));
    if let Some(module) = &record.module {
        v.insert("moduleHash".into(), json!(module));
    }
    v.insert("inputHash".into(), json!(record.spec.input_hash));
    v.insert(
        "timeoutSeconds".into(),
        json!(record.spec.timeout_ms as f64 / 1000.0),
    );
    v.insert("createdAt".into(), iso(record.created_at_ms));
    v.insert("updatedAt".into(), iso(record.updated_at_ms()));
    if let Some(o) = &record.outcome {
        if let Some(result) = o.result {
            v.insert("result".into(), json!(result.as_str()));
        }
        if let Some(actual) = &o.actual_hash {
            v.insert("actualHash".into(), json!(actual));
        }
        v.insert("executionTimeMs".into(), millis(o.execution_ms));
        v.insert("totalTimeMs".into(), millis(o.total_ms));
        v.insert("fuelUsed".into(), json!(o.fuel_used));
        v.insert("refundEligible".into(), json!(o.refund_eligible));
        if let Some(msg) = &o.error_message {
            v.insert("errorMessage".into(), json!(msg));
        }
        if let Some(code) = &o.error_code {
            v.insert("errorCode".into(), json!(code));
        }
        if let Some(code) = o.exit_code {
            v.insert("exitCode".into(), json!(code));
        }
        if let Some(preview) = &o.output_preview {
            v.insert("output".into(), json!(preview));
            v.insert("outputTruncated".into(), json!(o.output_truncated));
        }
        v.insert("attempts".into(), json!(o.attempt));
        if let Some(att) = &o.attestation {
            let fields = &att.fields;
            v.insert(
                "attestation".into(),
                json!({
                    "worker": att.worker.to_checksum(None),
                    "signature": att.signature,
                    "signingHash": format!("0x{}", fields.signing_hash(&record.spec.domain).to_hex()),
                    "fields": fields,
                    "runtime": o.runtime,
                    "moduleHash": o.module_hash,
                    "typedData": fields.typed_data(&record.spec.domain),
                }),
            );
        }
    }
    debug_assert!(status != JobStatus::Completed || v.contains_key("result"));
    Value::Object(v)
}
