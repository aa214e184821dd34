//! Turning a `POST /verify` body into a job, with a precise 400 or 413 for everything wrong.
//!
//! The body is read as a JSON object and each field checked by hand (rather than by a derived
//! deserializer), so every error names its field and bound in `params`, in the API's own
//! error shape.
//!
//! `code` or `moduleHash` (a registered module) gives the program; the task type shapes it
//! (see [`crate::tasks`]).
//!
//! Input encoding, defined once: `inputData` is serialized as RFC 8785 canonical JSON. A wasm
//! guest reads exactly those bytes on stdin (nothing when `inputData` is absent); a JavaScript
//! program sees the parsed value as the global `inputData`. `inputHash` is the sha256 of those
//! bytes.

use base64::Engine as _;
use notary_profile::{validate_module, wat_to_wasm, ValidationLimits};
use notary_protocol::canonical::to_canonical_string;
use notary_protocol::{
    sha256, AttestationDomain, Digest32, JobSpec, Language, ModuleLanguage, ProgramSpec, TaskType,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::error::ApiError;
use crate::config::MAX_CODE_BYTES;
use crate::jury::{self, Escalation, JuryRequest};
use crate::modules::{ModuleStore, RegisteredModule};
use crate::record::{now_ms, JobRecord};
use crate::tasks;
use crate::webhooks::WebhookStore;

/// Bounds on `timeoutSeconds` (source document 002).
pub const TIMEOUT_SECONDS: (f64, f64) = (5.0, 60.0);
/// Default `timeoutSeconds`.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;

/// What the coordinator needs to turn a request into a job.
pub struct JobDefaults<'a> {
    /// Fuel budget per job.
    pub fuel: u64,
    /// Attestation domain.
    pub domain: AttestationDomain,
    /// Module admission limits (the workers' own).
    pub limits: &'a ValidationLimits,
    /// The module registry, for jobs that name a module by `moduleHash`.
    pub modules: &'a dyn ModuleStore,
    /// The webhooks, for jobs that name one by `webhookId` (`None`: `webhookId` is refused).
    pub webhooks: Option<&'a dyn WebhookStore>,
}

/// Where the program comes from: the request's `code`, or the registry by `moduleHash`.
#[derive(Clone, Copy)]
enum ProgramSource<'a> {
    Inline(&'a String),
    Registered(Digest32),
}

/// The program as the client gave it, before the task type shapes it.
enum UserProgram {
    JavaScript(String),
    Wasm(Vec<u8>),
    /// A registered wasm module: the worker reads its bytes from the registry.
    Registered(Digest32),
}

/// The fields of a `POST /verify` body; any other is a 400 naming it.
pub const FIELDS: [&str; 12] = [
    "taskType",
    "code",
    "moduleHash",
    "language",
    "expectedHash",
    "inputData",
    "timeoutSeconds",
    "webhookId",
    "trustTier",
    "escalation",
    "maxTier",
    "erc8004RequestHash",
];

/// A parsed request: the job (not yet stored, without its jury plan) and what it asks of a
/// jury.
pub struct ParsedJob {
    /// The job record.
    pub record: JobRecord,
    /// `trustTier`, `escalation`, `maxTier`.
    pub jury: JuryRequest,
}

/// Parses and validates a request body into a job record (not yet stored).
pub async fn parse_verify_request(
    body: &[u8],
    defaults: &JobDefaults<'_>,
) -> Result<ParsedJob, ApiError> {
    let fields = super::json::object(body)?;
    super::json::only(&fields, &FIELDS)?;

    // Size first: an oversized program is 413 whatever else is wrong with the request.
    let code = match (fields.get("code"), fields.get("moduleHash")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "moduleHash",
                "give either code or moduleHash, not both",
            ))
        }
        (None, Some(Value::String(hash))) => {
            let hash = Digest32::from_hex(hash).map_err(|_| {
                ApiError::field(
                    "moduleHash",
                    "moduleHash must be a SHA-256 hash: 64 hex characters",
                )
            })?;
            ProgramSource::Registered(hash)
        }
        (None, Some(_)) => {
            return Err(ApiError::field("moduleHash", "moduleHash must be a string"))
        }
        (Some(Value::String(code)), None) => ProgramSource::Inline(code),
        (Some(_), None) => return Err(ApiError::field("code", "code must be a string")),
        (None, None) => {
            return Err(ApiError::field(
                "code",
                "code is required (or moduleHash, the hash of a registered module)",
            ))
        }
    };
    if let ProgramSource::Inline(code) = code {
        if code.len() > MAX_CODE_BYTES {
            return Err(ApiError::PayloadTooLarge {
                message: format!(
                    "code is {} bytes; the limit is {} bytes (100 KB)",
                    code.len(),
                    MAX_CODE_BYTES
                ),
                params: json!({"field": "code", "limit": MAX_CODE_BYTES, "size": code.len()}),
            });
        }
    }

    let task_type = parse_task_type(&fields)?;
    let language = parse_language(&fields)?;
    if let ProgramSource::Inline(code) = code {
        if code.trim().is_empty() {
            return Err(ApiError::field("code", "code must not be empty"));
        }
    }
    let expected_hash = match fields.get("expectedHash") {
        Some(Value::String(h)) => Digest32::from_hex(h).map_err(|_| {
            ApiError::field("expectedHash", "expectedHash must be a SHA-256 hash: 64 hex characters (an optional 0x prefix is allowed)")
        })?,
        Some(_) => return Err(ApiError::field("expectedHash", "expectedHash must be a string")),
        None => return Err(ApiError::field("expectedHash", "expectedHash is required")),
    };
    let timeout_seconds = match fields.get("timeoutSeconds") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT_SECONDS,
        Some(Value::Number(n)) => {
            let t = n.as_f64().unwrap_or(f64::NAN);
            if !(TIMEOUT_SECONDS.0..=TIMEOUT_SECONDS.1).contains(&t) {
                return Err(ApiError::field_with(
                    "timeoutSeconds",
                    format!(
                        "timeoutSeconds must be between {} and {}",
                        TIMEOUT_SECONDS.0, TIMEOUT_SECONDS.1
                    ),
                    json!({"min": TIMEOUT_SECONDS.0, "max": TIMEOUT_SECONDS.1, "got": n}),
                ));
            }
            t
        }
        Some(_) => {
            return Err(ApiError::field(
                "timeoutSeconds",
                "timeoutSeconds must be a number",
            ))
        }
    };
    // `inputData: null` is an input (the JSON text `null`); an absent field is no input.
    let input = match fields.get("inputData") {
        None => None,
        Some(v) => Some(
            to_canonical_string(v)
                .map_err(|e| ApiError::field("inputData", format!("inputData: {e}")))?,
        ),
    };

    // The program: inline code in its language, or a registered module.
    let mut fuel = defaults.fuel;
    let (language, user, module) = match code {
        ProgramSource::Inline(code) => {
            let user = match language {
                Language::Javascript => UserProgram::JavaScript(code.clone()),
                Language::Wasm => UserProgram::Wasm(
                    base64::engine::general_purpose::STANDARD
                        .decode(code.trim())
                        .map_err(|e| {
                            ApiError::field(
                                "code",
                                format!("code must be a base64 wasm module for language wasm: {e}"),
                            )
                        })?,
                ),
                Language::Wat => UserProgram::Wasm(wat_to_wasm(code).map_err(|e| {
                    ApiError::field("code", format!("invalid WebAssembly text: {e}"))
                })?),
            };
            (language, user, None)
        }
        ProgramSource::Registered(hash) => {
            let (registered, user) = resolve_module(defaults.modules, &hash).await?;
            let language = match registered.manifest.language {
                ModuleLanguage::Javascript => Language::Javascript,
                ModuleLanguage::Wasm => Language::Wasm,
            };
            if let Some(fuel_hint) = registered.manifest.fuel {
                fuel = fuel_hint.min(defaults.fuel);
            }
            (language, user, Some(hash))
        }
    };

    let (program, code_hash) = match (task_type, user) {
        (TaskType::CodeExecution, UserProgram::JavaScript(source)) => {
            let hash = sha256(source.as_bytes());
            (ProgramSpec::Javascript { source }, hash)
        }
        (TaskType::CodeExecution, UserProgram::Wasm(bytes)) => {
            admit_module(bytes, defaults.limits)?
        }
        // Validated when it was published (and again by the worker before compiling).
        (TaskType::CodeExecution, UserProgram::Registered(hash)) => {
            (ProgramSpec::Module { hash }, hash)
        }
        (TaskType::DataTransformation, UserProgram::JavaScript(source)) => {
            let source = tasks::data_transformation_program(&source);
            let hash = sha256(source.as_bytes());
            (ProgramSpec::Javascript { source }, hash)
        }
        (TaskType::ApiReplay, UserProgram::JavaScript(source)) => {
            tasks::check_transcript(fields.get("inputData"))?;
            let source = tasks::api_replay_program(&source);
            let hash = sha256(source.as_bytes());
            (ProgramSpec::Javascript { source }, hash)
        }
        (
            TaskType::DataTransformation | TaskType::ApiReplay,
            UserProgram::Wasm(_) | UserProgram::Registered(_),
        ) => {
            let field = if module.is_some() {
                "moduleHash"
            } else {
                "language"
            };
            let task = task_type.as_str();
            return Err(ApiError::field_with(
                field,
                format!("taskType {task} runs JavaScript; this program is a wasm module"),
                json!({"supported": ["javascript"]}),
            ));
        }
    };

    let webhook_id = parse_webhook_id(&fields, defaults.webhooks).await?;
    let jury = parse_jury(&fields)?;
    let validation_request = match fields.get("erc8004RequestHash") {
        None | Some(Value::Null) => None,
        Some(Value::String(h)) if h.len() == 66 && h.starts_with("0x") => Some(
            h.parse::<alloy::primitives::B256>()
                .map_err(|_| bad_request_hash())?,
        ),
        Some(_) => return Err(bad_request_hash()),
    };

    let input_hash = sha256(input.as_deref().unwrap_or("").as_bytes());
    let now = now_ms();
    let spec = JobSpec {
        job_id: Uuid::new_v4(),
        task_type,
        program,
        code_hash,
        input,
        input_hash,
        expected_hash,
        fuel,
        timeout_ms: (timeout_seconds * 1000.0).round() as u64,
        domain: defaults.domain,
        enqueued_at_ms: now,
        stream: false,
    };
    Ok(ParsedJob {
        record: JobRecord {
            spec,
            language,
            created_at_ms: now,
            outcome: None,
            module,
            webhook_id,
            jury: None,
            jury_state: None,
            validation_request,
            chain: None,
        },
        jury,
    })
}

fn bad_request_hash() -> ApiError {
    ApiError::field(
        "erc8004RequestHash",
        "erc8004RequestHash must be an ERC-8004 requestHash: 0x and 64 hex characters",
    )
}

/// `trustTier` (1, 3, 5, 7), `escalation` (`manual`, `auto`), `maxTier` (a tier, at least
/// `trustTier`).
fn parse_jury(fields: &Map<String, Value>) -> Result<JuryRequest, ApiError> {
    let tier = |field: &str, default: u8| -> Result<u8, ApiError> {
        let bad = || {
            ApiError::field_with(
                field,
                format!("{field} must be one of 1, 3, 5, 7"),
                json!({"supported": jury::TIERS}),
            )
        };
        match fields.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|t| u8::try_from(t).ok())
                .filter(|t| jury::is_tier(*t))
                .ok_or_else(bad),
            Some(_) => Err(bad()),
        }
    };
    let trust_tier = tier("trustTier", 1)?;
    let max_tier = tier("maxTier", jury::MAX_TIER)?;
    if max_tier < trust_tier {
        return Err(ApiError::field_with(
            "maxTier",
            format!("maxTier ({max_tier}) must be at least trustTier ({trust_tier})"),
            json!({"trustTier": trust_tier}),
        ));
    }
    let escalation = match fields.get("escalation") {
        None | Some(Value::Null) => Escalation::Manual,
        Some(Value::String(e)) if e == "manual" => Escalation::Manual,
        Some(Value::String(e)) if e == "auto" => Escalation::Auto,
        Some(_) => {
            return Err(ApiError::field_with(
                "escalation",
                "escalation must be \"manual\" or \"auto\"",
                json!({"supported": ["manual", "auto"]}),
            ))
        }
    };
    Ok(JuryRequest {
        tier: trust_tier,
        escalation,
        max_tier,
    })
}

/// `webhookId`: the id of a registered, enabled webhook (a 400 naming it otherwise).
async fn parse_webhook_id(
    fields: &Map<String, Value>,
    webhooks: Option<&dyn WebhookStore>,
) -> Result<Option<Uuid>, ApiError> {
    let id = match fields.get("webhookId") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => Uuid::parse_str(s)
            .map_err(|_| ApiError::field("webhookId", "webhookId must be a webhook id (a UUID)"))?,
        Some(_) => return Err(ApiError::field("webhookId", "webhookId must be a string")),
    };
    let unknown = || {
        ApiError::field(
            "webhookId",
            format!("no webhook with id {id} is registered (POST /webhooks/register)"),
        )
    };
    let Some(webhooks) = webhooks else {
        return Err(unknown());
    };
    match webhooks.webhook(id).await? {
        Some(w) if !w.disabled => Ok(Some(id)),
        Some(_) => Err(ApiError::field(
            "webhookId",
            format!("webhook {id} is disabled (its receiver answered 410 Gone)"),
        )),
        None => Err(unknown()),
    }
}

/// A registered module's registration and program; a 400 naming `moduleHash` when unknown.
async fn resolve_module(
    modules: &dyn ModuleStore,
    hash: &Digest32,
) -> Result<(RegisteredModule, UserProgram), ApiError> {
    let unknown = || {
        ApiError::field_with(
            "moduleHash",
            format!("no module with hash {hash} is registered (publish it with POST /modules)"),
            json!({"moduleHash": hash}),
        )
    };
    let registered = modules.manifest(hash).await?.ok_or_else(unknown)?;
    let user = match registered.manifest.language {
        ModuleLanguage::Wasm => UserProgram::Registered(*hash),
        ModuleLanguage::Javascript => {
            let bytes = modules.bytes(hash).await?.ok_or_else(unknown)?;
            UserProgram::JavaScript(String::from_utf8(bytes).map_err(|_| unknown())?)
        }
    };
    Ok((registered, user))
}

fn admit_module(
    bytes: Vec<u8>,
    limits: &ValidationLimits,
) -> Result<(ProgramSpec, Digest32), ApiError> {
    validate_module(&bytes, limits).map_err(|e| {
        ApiError::field_with(
            "code",
            format!("module rejected: {e}"),
            json!({"reason": "module-validation"}),
        )
    })?;
    let hash = sha256(&bytes);
    Ok((
        ProgramSpec::Wasm {
            module: base64::engine::general_purpose::STANDARD.encode(&bytes),
        },
        hash,
    ))
}

fn parse_task_type(fields: &Map<String, Value>) -> Result<TaskType, ApiError> {
    let supported = json!({"supported": ["code-execution", "data-transformation", "api-replay"]});
    match fields.get("taskType") {
        Some(Value::String(t)) => match t.as_str() {
            "code-execution" => Ok(TaskType::CodeExecution),
            "data-transformation" => Ok(TaskType::DataTransformation),
            "api-replay" => Ok(TaskType::ApiReplay),
            other => Err(ApiError::field_with(
                "taskType",
                format!("unknown taskType {other:?}"),
                supported,
            )),
        },
        Some(_) => Err(ApiError::field_with(
            "taskType",
            "taskType must be a string",
            supported,
        )),
        None => Err(ApiError::field_with(
            "taskType",
            "taskType is required",
            supported,
        )),
    }
}

fn parse_language(fields: &Map<String, Value>) -> Result<Language, ApiError> {
    let supported = json!({"supported": ["javascript", "wasm", "wat"]});
    match fields.get("language") {
        None | Some(Value::Null) => Ok(Language::Javascript),
        Some(Value::String(l)) => match l.to_ascii_lowercase().as_str() {
            "javascript" | "js" => Ok(Language::Javascript),
            "wasm" => Ok(Language::Wasm),
            "wat" => Ok(Language::Wat),
            other => Err(ApiError::field_with(
                "language",
                format!("unknown language {other:?}"),
                supported,
            )),
        },
        Some(_) => Err(ApiError::field_with(
            "language",
            "language must be a string",
            supported,
        )),
    }
}
