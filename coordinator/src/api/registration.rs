//! `POST /providers/register` and `POST /verifiers/register` (issue 12, document 000): a worker
//! registers itself with a request signed by its own key (actor headers), naming its runtime
//! (`configHash`, the runtime id its attestations will carry), its engine and a description.
//! 201 with the worker record the first time, 200 when it registers again (a new runtime, a
//! second role). With `--worker-approval open` it may sit on juries at once; with `manual`
//! (the default) after `notary-coordinator workers approve 0x…`.
//!
//! When the fleet has a registry contract (payments on), the body also carries `anchor`: the
//! worker's own EIP-712 [`WorkerRegistration`] signature with its deadline. The coordinator
//! checks it, then anchors the worker with `registerWorkerSigned` before it keeps the
//! registration (the contract recovers the signature itself: no operator can register a key it
//! does not hold). The domain to sign in is `GET /notary/domain`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use notary_protocol::{AttestationDomain, Digest32, WorkerRegistration};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::actor::{ActorHeaders, Signed};
use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::workers::{worker_view, WorkerView};
use super::AppState;
use crate::payments::registry::{anchor_worker, AnchorError};
use crate::record::now_ms;
use crate::workers::registration::ENGINES;
use crate::workers::{Approval, Registration, Role};

/// Longest description kept, characters.
const MAX_DESCRIPTION_CHARS: usize = 1024;

/// A registration body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // the handler reads the body strictly by hand; this describes it
pub struct RegisterWorker {
    /// The worker's runtime id (`0x` + 64 hex): the `runtimeId` its attestations carry
    /// (`notary-worker runtime-id` prints it).
    config_hash: String,
    /// `cranelift` or `pulley`.
    engine: String,
    /// Free text for operators (at most 1024 characters).
    description: Option<String>,
    /// The worker's signed registration for the registry contract: required when the fleet
    /// writes results on chain, checked in any case.
    anchor: Option<AnchorBody>,
}

/// A signed registration (EIP-712 `WorkerRegistration(address worker,bytes32 configHash,uint64
/// deadline)` in the domain of `GET /notary/domain`).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // the handler reads the body strictly by hand; this describes it
pub struct AnchorBody {
    /// Unix seconds: in the future, at most a week ahead, later than the worker's previous one.
    deadline: u64,
    /// `0x` + 65-byte signature by the worker's key.
    signature: String,
}

/// Longest an anchor's deadline may reach ahead: a far deadline would block the worker's own
/// later registrations (each must carry a later one).
const MAX_ANCHOR_AHEAD_SECS: u64 = 7 * 24 * 3600;
/// Least time an anchor's deadline must leave for the transaction to be mined.
const MIN_ANCHOR_AHEAD_SECS: u64 = 60;

/// `GET /notary/domain`: the EIP-712 domain of attestations and registrations.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainView {
    /// Always `Notary`.
    pub name: &'static str,
    /// Always `1`.
    pub version: &'static str,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The registry contract (the zero address when results are not written on chain).
    pub verifying_contract: String,
    /// Whether registrations must carry `anchor` (the fleet anchors workers on chain).
    pub anchors_registrations: bool,
}

/// `GET /notary/domain`.
#[utoipa::path(get, path = "/notary/domain", tag = "workers",
    responses(
        (status = 200, description = "The signing domain", body = DomainView),
        (status = 429, description = "Rate Limited", body = ErrorBody),
    ))]
pub async fn domain(State(state): State<Arc<AppState>>) -> Json<DomainView> {
    Json(DomainView {
        name: "Notary",
        version: "1",
        chain_id: state.domain.chain_id,
        verifying_contract: state.domain.verifying_contract.to_checksum(None),
        anchors_registrations: anchoring(&state).is_some(),
    })
}

/// The chain and registry registrations are anchored in, when there is one.
pub(super) fn anchoring(
    state: &AppState,
) -> Option<(&crate::chain::Chain, notary_protocol::Address)> {
    let payments = state.payments.as_ref()?;
    Some((payments.chain.as_ref(), payments.registry?))
}

/// `POST /providers/register`.
#[utoipa::path(post, path = "/providers/register", tag = "workers",
    params(ActorHeaders),
    request_body(content = RegisterWorker, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered", body = WorkerView),
        (status = 200, description = "Registered again: runtime, engine and description replaced", body = WorkerView),
        (status = 400, description = "Bad Request: `params.field` names the bad field (`anchor.signature`: not the worker's own; `anchor.deadline`: passed, too far, or not later than the registry's)", body = ErrorBody),
        (status = 401, description = "Unauthorized: `params.reason` is missing, bad_signature, expired or replayed", body = ErrorBody),
        (status = 413, description = "Payload Too Large", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend or the chain is away (nothing is kept; retry)", body = ErrorBody),
    ))]
pub async fn provider(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<(StatusCode, Json<WorkerView>), ApiError> {
    register(&state, signed, Role::Provider).await
}

/// `POST /verifiers/register`.
#[utoipa::path(post, path = "/verifiers/register", tag = "workers",
    params(ActorHeaders),
    request_body(content = RegisterWorker, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered", body = WorkerView),
        (status = 200, description = "Registered again: runtime, engine and description replaced", body = WorkerView),
        (status = 400, description = "Bad Request: `params.field` names the bad field (`anchor.signature`: not the worker's own; `anchor.deadline`: passed, too far, or not later than the registry's)", body = ErrorBody),
        (status = 401, description = "Unauthorized: `params.reason` is missing, bad_signature, expired or replayed", body = ErrorBody),
        (status = 413, description = "Payload Too Large", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend or the chain is away (nothing is kept; retry)", body = ErrorBody),
    ))]
pub async fn verifier(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<(StatusCode, Json<WorkerView>), ApiError> {
    register(&state, signed, Role::Verifier).await
}

async fn register(
    state: &AppState,
    signed: Signed,
    role: Role,
) -> Result<(StatusCode, Json<WorkerView>), ApiError> {
    let (registration, anchor) = parse(&signed, role)?;
    if !state.jobs.accepts_runtime(&registration.config_hash) {
        return Err(ApiError::field_with(
            "configHash",
            format!(
                "runtime {} is not accepted by this fleet (--accept-runtime)",
                registration.config_hash
            ),
            json!({"reason": "runtime_not_accepted"}),
        ));
    }
    let anchored = match (anchoring(state), anchor) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(ApiError::field(
                "anchor",
                "anchor is required: this fleet anchors its workers in the registry contract \
                 (sign WorkerRegistration in the domain of GET /notary/domain)",
            ))
        }
        (chain, Some((deadline, signature))) => {
            let signed = WorkerRegistration {
                worker: registration.address,
                config_hash: registration.config_hash,
                deadline,
            };
            check_anchor(&signed, &signature, &state.domain)?;
            match chain {
                None => None,
                Some((chain, registry)) => {
                    Some(anchor_worker(chain, registry, &signed, &signature).await.map_err(
                        |e| match e {
                            AnchorError::Stale(last) => ApiError::field_with(
                                "anchor.deadline",
                                e.to_string(),
                                json!({"reason": "stale", "lastDeadline": last}),
                            ),
                            AnchorError::Chain(e) => {
                                tracing::warn!(worker = %registration.address, error = %e, "anchoring a registration failed");
                                ApiError::Unavailable(
                                    "the registry transaction failed or was not mined in time; nothing was kept, retry"
                                        .into(),
                                )
                            }
                        },
                    )?)
                }
            }
        }
    };
    let book = state.jobs.juries().book();
    let approve = state.approval == Approval::Open;
    let (registered, first) = book.register(&registration, approve, now_ms()).await?;
    tracing::info!(
        worker = %registration.address,
        role = role.as_str(),
        config_hash = %registration.config_hash,
        engine = %registration.engine,
        approved = registered.approved,
        first,
        anchor_tx = ?anchored.as_ref().and_then(|a| a.tx_hash),
        "worker registered"
    );
    let mut view = worker_view(state, registration.address).await?;
    if anchored.is_some() {
        view.anchor = anchored;
    }
    let status = if first {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Checks a signed registration before any transaction: the worker's own signature, in this
/// fleet's domain, with a deadline the contract will take.
fn check_anchor(
    signed: &WorkerRegistration,
    signature: &str,
    domain: &AttestationDomain,
) -> Result<(), ApiError> {
    let now = now_ms() / 1000;
    if signed.deadline < now + MIN_ANCHOR_AHEAD_SECS
        || signed.deadline > now + MAX_ANCHOR_AHEAD_SECS
    {
        return Err(ApiError::field_with(
            "anchor.deadline",
            format!(
                "anchor.deadline must be between {MIN_ANCHOR_AHEAD_SECS} s and {MAX_ANCHOR_AHEAD_SECS} s from now (unix seconds; now is {now})"
            ),
            json!({"reason": "out_of_range", "now": now}),
        ));
    }
    signed.verify(signature, domain).map_err(|e| {
        ApiError::field_with(
            "anchor.signature",
            format!(
                "anchor.signature is not the worker's own EIP-712 signature of {} in the domain of GET /notary/domain: {e}",
                WorkerRegistration::type_string()
            ),
            json!({"reason": "not_worker_signature"}),
        )
    })
}

/// The body, strictly: known fields only, each of the right form.
fn parse(signed: &Signed, role: Role) -> Result<(Registration, Option<(u64, String)>), ApiError> {
    let fields = super::json::object(&signed.body)?;
    super::json::only(&fields, &["configHash", "engine", "description", "anchor"])?;
    let config_hash = match fields.get("configHash") {
        Some(Value::String(text)) if text.starts_with("0x") => Digest32::from_hex(text).ok(),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::field(
            "configHash",
            "configHash is required: the runtime id, 0x and 64 hex characters",
        )
    })?;
    let engine = match fields.get("engine") {
        Some(Value::String(e)) if ENGINES.contains(&e.as_str()) => e.clone(),
        _ => {
            return Err(ApiError::field_with(
                "engine",
                "engine is required: cranelift or pulley",
                json!({"supported": ENGINES}),
            ))
        }
    };
    let description = match fields.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) if d.chars().count() <= MAX_DESCRIPTION_CHARS => Some(d.clone()),
        Some(_) => {
            return Err(ApiError::field_with(
                "description",
                format!(
                    "description must be a string of at most {MAX_DESCRIPTION_CHARS} characters"
                ),
                json!({"maxLength": MAX_DESCRIPTION_CHARS}),
            ))
        }
    };
    let anchor = match fields.get("anchor") {
        None | Some(Value::Null) => None,
        Some(Value::Object(anchor)) => {
            if let Some(unknown) = anchor
                .keys()
                .find(|k| !["deadline", "signature"].contains(&k.as_str()))
            {
                return Err(ApiError::field_with(
                    &format!("anchor.{unknown}"),
                    format!("unknown field anchor.{unknown}"),
                    json!({"reason": "unknown_field", "supported": ["deadline", "signature"]}),
                ));
            }
            let deadline = anchor
                .get("deadline")
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    ApiError::field(
                        "anchor.deadline",
                        "anchor.deadline is required: unix seconds",
                    )
                })?;
            let signature = match anchor.get("signature") {
                Some(Value::String(s)) if s.starts_with("0x") && s.len() == 132 => s.clone(),
                _ => {
                    return Err(ApiError::field(
                        "anchor.signature",
                        "anchor.signature is required: 0x and a 65-byte signature in hex",
                    ))
                }
            };
            Some((deadline, signature))
        }
        Some(_) => {
            return Err(ApiError::field(
                "anchor",
                "anchor must be an object {\"deadline\", \"signature\"}",
            ))
        }
    };
    Ok((
        Registration {
            address: signed.actor,
            role,
            config_hash,
            engine,
            description,
        },
        anchor,
    ))
}
