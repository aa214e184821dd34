//! `POST /providers/register` and `POST /verifiers/register` (issue 12, document 000): a worker
//! registers itself with a request signed by its own key (actor headers), naming its runtime
//! (`configHash`, the runtime id its attestations will carry), its engine and a description.
//! 201 with the worker record the first time, 200 when it registers again (a new runtime, a
//! second role). With `--worker-approval open` it may sit on juries at once; with `manual`
//! (the default) after `notary-coordinator workers approve 0x…`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use notary_protocol::Digest32;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::actor::{ActorHeaders, Signed};
use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::workers::{worker_view, WorkerView};
use super::AppState;
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
}

/// `POST /providers/register`.
#[utoipa::path(post, path = "/providers/register", tag = "workers",
    params(ActorHeaders),
    request_body(content = RegisterWorker, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered", body = WorkerView),
        (status = 200, description = "Registered again: runtime, engine and description replaced", body = WorkerView),
        (status = 400, description = "Bad Request: `params.field` names the bad field", body = ErrorBody),
        (status = 401, description = "Unauthorized: `params.reason` is missing, bad_signature, expired or replayed", body = ErrorBody),
        (status = 413, description = "Payload Too Large", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
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
        (status = 400, description = "Bad Request: `params.field` names the bad field", body = ErrorBody),
        (status = 401, description = "Unauthorized: `params.reason` is missing, bad_signature, expired or replayed", body = ErrorBody),
        (status = 413, description = "Payload Too Large", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
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
    let registration = parse(&signed, role)?;
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
        "worker registered"
    );
    let view = worker_view(state, registration.address).await?;
    let status = if first {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// The body, strictly: known fields only, each of the right form.
fn parse(signed: &Signed, role: Role) -> Result<Registration, ApiError> {
    let fields = super::json::object(&signed.body)?;
    super::json::only(&fields, &["configHash", "engine", "description"])?;
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
    Ok(Registration {
        address: signed.actor,
        role,
        config_hash,
        engine,
        description,
    })
}
