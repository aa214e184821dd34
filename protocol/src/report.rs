//! What a worker submits after running (or failing to run) a job.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attestation::SignedAttestation;
use crate::digest::Digest32;

/// The exact runtime that produced a result; its hash is the attestation's `runtimeId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeInfo {
    /// wasmtime's version, e.g. `48.0.8`.
    pub wasmtime: String,
    /// sha256 of the canonical text of every engine and sandbox setting that can change output
    /// or fuel.
    pub config_hash: Digest32,
    /// sha256 of the JavaScript runtime module.
    pub js_runtime_hash: Digest32,
}

impl RuntimeInfo {
    /// The attestation's `runtimeId`: `sha256(wasmtime version bytes || config_hash ||
    /// js_runtime_hash)`. Coordinators recompute it to check a report is consistent.
    pub fn id(&self) -> Digest32 {
        let mut buf = Vec::with_capacity(self.wasmtime.len() + 64);
        buf.extend_from_slice(self.wasmtime.as_bytes());
        buf.extend_from_slice(self.config_hash.as_bytes());
        buf.extend_from_slice(self.js_runtime_hash.as_bytes());
        crate::digest::sha256(&buf)
    }
}

/// A worker's report on one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkerReport {
    /// The job.
    pub job_id: Uuid,
    /// Which delivery of the job this run was (1 for the first).
    pub attempt: u32,
    /// The signed attestation.
    pub attestation: SignedAttestation,
    /// The runtime description behind `attestation.fields.runtime_id`.
    pub runtime: RuntimeInfo,
    /// Why the run was not VALID/INVALID: the trap, the exit code and the end of stderr, the
    /// output limit, the timeout, or the infrastructure failure.
    pub error_message: Option<String>,
    /// The guest's exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The start of stdout as (lossy) UTF-8, for the client to see what the program printed.
    pub output_preview: String,
    /// Whether `output_preview` is shorter than the whole output.
    pub output_truncated: bool,
    /// Time spent running the guest, milliseconds.
    pub execution_ms: f64,
    /// sha256 of the module that ran (the JS runtime for JavaScript jobs).
    pub module_hash: Digest32,
}
