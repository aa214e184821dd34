//! The OpenAPI 3.1 description of the API, generated from the code and served at
//! `GET /openapi.json`.
//!
//! Each handler carries its own `#[utoipa::path]` (method, path, parameters, every status it
//! can answer), and the router is built with `utoipa_axum`'s `routes!`, which registers a
//! route and its description in one step: a route cannot be served without being described.
//! Response bodies are the handlers' own `Serialize` types (the job view is
//! [`super::view::JobView`]); the request body below describes what `api::request` parses by
//! hand (field by field, for precise errors). `tests/it/openapi.rs` checks that real answers
//! match the document and that every route of the router is in it, and
//! `scripts/api-fuzz.sh` (schemathesis) fuzzes a live coordinator against it.

use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

/// The API description's fixed parts; paths are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Notary",
        description = "Deterministic, attested code verification in a WebAssembly sandbox (source document 002's API).",
        license(name = "Apache-2.0")
    ),
    components(schemas(
        VerifyRequest,
        super::view::JobView,
        super::view::AttestationView,
        super::view::JuryView,
        super::view::RoundView,
        crate::jury::Replaced,
        crate::jury::Escalation,
        crate::jury::RoundOutcome,
        crate::workers::WorkerStats,
        super::view::PaymentView,
        super::view::Accepted,
        ErrorBody,
        HealthBody,
        ReadyBody,
        TaskType,
        Language,
        crate::record::JobStatus
    ))
)]
pub struct ApiDoc;

/// `taskType` (document 002).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum TaskType {
    /// Run code, hash its stdout.
    CodeExecution,
    /// Transform `inputData` with the code's function.
    DataTransformation,
    /// Replay a recorded API exchange.
    ApiReplay,
}

/// The program's language.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum Language {
    /// JavaScript source, run by QuickJS-ng.
    Javascript,
    /// A base64 WASI command module.
    Wasm,
    /// WebAssembly text.
    Wat,
}

/// `POST /verify` body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct VerifyRequest {
    /// The kind of task.
    pub task_type: TaskType,
    /// The program (at most 100 KB; larger is 413). Required unless `moduleHash` names a
    /// registered module.
    #[schema(max_length = 102400)]
    pub code: Option<String>,
    /// sha256 of a registered module (`POST /modules`) to run instead of `code`.
    pub module_hash: Option<String>,
    /// The program's language (default `javascript`).
    pub language: Option<Language>,
    /// sha256 of the expected stdout: 64 hex characters, optional `0x`.
    #[schema(pattern = "^(0x|0X)?[0-9a-fA-F]{64}$")]
    pub expected_hash: String,
    /// Any JSON: the program's input (RFC 8785 canonical JSON on stdin).
    pub input_data: Option<Value>,
    /// Wall-clock limit in seconds (5 to 60, default 30).
    #[schema(minimum = 5, maximum = 60)]
    pub timeout_seconds: Option<f64>,
    /// A registered webhook (`POST /webhooks/register`) told when the job is final.
    pub webhook_id: Option<uuid::Uuid>,
    /// How many distinct workers must agree: 1 (default, one worker decides), 3, 5 or 7. A
    /// tier-n job costs n times the base price.
    #[schema(minimum = 1, maximum = 7)]
    pub trust_tier: Option<u8>,
    /// What a split jury does: `manual` (default; the job waits as `escalated` for
    /// `POST /jobs/{jobId}/escalate`) or `auto` (a fresh, larger jury at once).
    pub escalation: Option<crate::jury::Escalation>,
    /// Highest tier an automatic escalation reaches (default 7; at least `trustTier`).
    #[schema(minimum = 1, maximum = 7)]
    pub max_tier: Option<u8>,
    /// An ERC-8004 validation request (`0x` and 64 hex) that names this notary's chain key as
    /// its validator: the final verdict is posted there as `validationResponse` (100 VALID, 0
    /// otherwise; `responseURI` the job's result URL, `responseHash` the attestation digest,
    /// `tag` `notary.tier-<n>` of the deciding round). Needs `--validation-registry`.
    pub erc8004_request_hash: Option<String>,
}

/// Every error: a code from document 002's error table, a message and details.
#[derive(Clone, Debug, serde::Serialize, ToSchema)]
pub struct ErrorBody {
    /// The table's code (`Bad Request`, `Rate Limited`, `Service Unavailable`, …).
    pub error: String,
    /// What is wrong, for a person.
    pub message: String,
    /// Which field, which bound.
    #[schema(value_type = Object)]
    pub params: Value,
}

/// `GET /health`.
#[derive(serde::Serialize, ToSchema)]
pub struct HealthBody {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// Job records answer.
    pub store: bool,
    /// The queue answers.
    pub queue: bool,
}

/// `GET /ready`.
#[derive(serde::Serialize, ToSchema)]
pub struct ReadyBody {
    /// Whether this coordinator can take work now.
    pub ready: bool,
    /// Redis (or the in-memory backends) answered at the last check.
    pub backends: bool,
    /// `closed`, `half-open` or `open`.
    pub breaker: &'static str,
    /// Shutting down.
    pub draining: bool,
}
