//! The job a coordinator queues and a worker runs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attestation::AttestationDomain;
use crate::digest::{sha256, Digest32};

/// Task types named by source document 002.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskType {
    /// Run code on an input and hash its stdout.
    CodeExecution,
    /// Apply a JavaScript function to the input and hash its canonical JSON result.
    DataTransformation,
    /// Replay a recorded HTTP transcript to a program.
    ApiReplay,
}

impl TaskType {
    /// The wire name, as in source document 002.
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskType::CodeExecution => "code-execution",
            TaskType::DataTransformation => "data-transformation",
            TaskType::ApiReplay => "api-replay",
        }
    }
}

/// The language the user wrote `code` in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// JavaScript source, run by the QuickJS-ng runtime module.
    #[default]
    Javascript,
    /// A base64 WASI preview1 command module.
    Wasm,
    /// WebAssembly text, compiled to a module by the coordinator before queuing.
    Wat,
}

impl Language {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Language::Javascript => "javascript",
            Language::Wasm => "wasm",
            Language::Wat => "wat",
        }
    }
}

/// What the guest runs. `wat` never reaches a worker: the coordinator compiles it to `Wasm`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ProgramSpec {
    /// JavaScript source for the QuickJS runtime.
    Javascript {
        /// The program text.
        source: String,
    },
    /// A WASI command module, base64 (standard alphabet, padded) in JSON.
    Wasm {
        /// The module bytes, base64.
        module: String,
    },
    /// A WASI command module from the module registry, by its sha256: the worker reads the
    /// bytes from the registry (so a job stays small however large the module is) and checks
    /// them against the hash.
    Module {
        /// sha256 of the module bytes.
        hash: Digest32,
    },
}

/// One verification job as it travels through the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpec {
    /// The job's id, as given to the client.
    pub job_id: Uuid,
    /// The task type.
    pub task_type: TaskType,
    /// The program.
    pub program: ProgramSpec,
    /// sha256 of the program: the JavaScript source bytes, or the wasm module bytes.
    pub code_hash: Digest32,
    /// Canonical JSON of `inputData`; `None` when the client sent none (the guest's stdin input
    /// part is then empty).
    pub input: Option<String>,
    /// sha256 of the input bytes (of the empty string when there is no input).
    pub input_hash: Digest32,
    /// The hash the client expects stdout to have.
    pub expected_hash: Digest32,
    /// Fuel budget for the run.
    pub fuel: u64,
    /// Wall-clock limit of the run in milliseconds (the client's `timeoutSeconds`).
    pub timeout_ms: u64,
    /// The EIP-712 domain the attestation must be signed in.
    pub domain: AttestationDomain,
    /// When the job entered the queue (unix milliseconds), for queue-wait measurements.
    pub enqueued_at_ms: u64,
    /// Whether a client watches the job's stdout live (document 001's `POST /api/jobs/stream`):
    /// the worker copies each write to the job's output log in the queue as the guest makes
    /// it. Changes nothing in the run or its attestation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

impl JobSpec {
    /// The input bytes the guest reads (empty when absent).
    pub fn input_bytes(&self) -> &[u8] {
        self.input.as_deref().unwrap_or("").as_bytes()
    }

    /// The deterministic randomness seed of this job (see [`derive_seed`]).
    pub fn seed(&self) -> [u8; 32] {
        derive_seed(&self.code_hash, &self.input_hash)
    }
}

/// The seed of a job's randomness (WASI `random_get`, and so `Math.random()`).
///
/// It depends on the code and the input only, not on the job id: running the same program on
/// the same input twice must give the same output, on any worker, or the result could not be
/// verified by anyone else.
pub fn derive_seed(code_hash: &Digest32, input_hash: &Digest32) -> [u8; 32] {
    let mut buf = Vec::with_capacity(16 + 64);
    buf.extend_from_slice(b"notary/seed/v1\0\0");
    buf.extend_from_slice(code_hash.as_bytes());
    buf.extend_from_slice(input_hash.as_bytes());
    sha256(&buf).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_type_wire_names() {
        assert_eq!(
            serde_json::to_string(&TaskType::CodeExecution).unwrap(),
            "\"code-execution\""
        );
        assert_eq!(
            serde_json::from_str::<TaskType>("\"api-replay\"").unwrap(),
            TaskType::ApiReplay
        );
        assert_eq!(TaskType::DataTransformation.as_str(), "data-transformation");
    }

    #[test]
    fn seed_depends_on_code_and_input_only() {
        let a = derive_seed(&sha256(b"x"), &sha256(b""));
        assert_eq!(a, derive_seed(&sha256(b"x"), &sha256(b"")));
        assert_ne!(a, derive_seed(&sha256(b"y"), &sha256(b"")));
        assert_ne!(a, derive_seed(&sha256(b"x"), &sha256(b"1")));
    }
}
