//! A provider's services (issue 12, document 000): `POST /providers/:address/services`
//! declares one (`{"moduleHash" | "language", "price"}`), `GET` lists them (public), `DELETE
//! /providers/:address/services/:serviceId` withdraws one. Writes are signed by the provider
//! itself (the path's address must be the actor, registered as a provider). Jury selection
//! seats a provider that declared services only for jobs one of them covers
//! ([`crate::workers::services`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use notary_protocol::{Address, Digest32};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::actor::{ActorHeaders, Signed};
use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;
use crate::record::now_ms;
use crate::workers::services::SERVICE_LANGUAGES;
use crate::workers::{Role, Service, ServiceTarget};

/// Most services one provider may declare.
pub const MAX_SERVICES: usize = 256;

/// A service declaration: `moduleHash` or `language` (exactly one), and `price`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // the handler reads the body strictly by hand; this describes it
pub struct DeclareService {
    /// A module's sha256 (`0x` + 64 hex): jobs with this code hash.
    module_hash: Option<String>,
    /// `javascript` or `wasm` (inline or registered modules; `wat` is queued as wasm).
    language: Option<String>,
    /// Price per job in the payment token's base units: a decimal string (or a JSON integer).
    price: String,
}

/// `GET /providers/:address/services`.
#[derive(Serialize, ToSchema)]
pub struct ServiceList {
    /// By id.
    pub services: Vec<Service>,
}

fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse().map_err(|_| {
        ApiError::field(
            "address",
            format!("{text:?} is not an address (0x and 40 hex characters)"),
        )
    })
}

/// The actor may change `address`'s services: it is that address, registered as a provider.
async fn owner(state: &AppState, signed: &Signed, address: &str) -> Result<Address, ApiError> {
    let address = parse_address(address)?;
    if address != signed.actor {
        return Err(ApiError::Forbidden {
            message: format!("{} cannot change the services of {address}", signed.actor),
            params: json!({"reason": "not_your_provider"}),
        });
    }
    match state.jobs.juries().book().registration(address).await? {
        Some(r) if r.roles.contains(&Role::Provider) => Ok(address),
        Some(_) => Err(ApiError::Forbidden {
            message: format!("{address} is not registered as a provider"),
            params: json!({"reason": "wrong_role"}),
        }),
        None => Err(ApiError::Forbidden {
            message: format!("{address} has not registered (POST /providers/register)"),
            params: json!({"reason": "not_registered"}),
        }),
    }
}

/// `POST /providers/:address/services`.
#[utoipa::path(post, path = "/providers/{address}/services", tag = "workers",
    params(ActorHeaders, ("address" = String, Path, description = "the provider (must be the actor)")),
    request_body(content = DeclareService, content_type = "application/json"),
    responses(
        (status = 201, description = "Declared", body = Service),
        (status = 200, description = "Declared again: the price replaced", body = Service),
        (status = 400, description = "Bad Request: `params.field` names the bad field", body = ErrorBody),
        (status = 401, description = "Unauthorized: `params.reason` is missing, bad_signature, expired or replayed", body = ErrorBody),
        (status = 403, description = "Forbidden: `params.reason` not_your_provider, not_registered or wrong_role", body = ErrorBody),
        (status = 409, description = "Conflict: `params.reason` too_many_services", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn declare(
    State(state): State<Arc<AppState>>,
    Path(address): Path<String>,
    signed: Signed,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let provider = owner(&state, &signed, &address).await?;
    let (target, price) = parse(&signed.body)?;
    let book = state.jobs.juries().book();
    let held = book.services(provider).await?;
    if held.len() >= MAX_SERVICES && !held.iter().any(|s| s.service_id == target.id()) {
        return Err(ApiError::Conflict {
            message: format!("a provider declares at most {MAX_SERVICES} services"),
            params: json!({"reason": "too_many_services", "max": MAX_SERVICES}),
        });
    }
    let (service, new) = book
        .put_service(provider, &Service::new(target, price, now_ms()))
        .await?;
    tracing::info!(worker = %provider, service = %service.service_id, price = %service.price, new, "service declared");
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(service)))
}

/// `GET /providers/:address/services`.
#[utoipa::path(get, path = "/providers/{address}/services", tag = "workers",
    params(("address" = String, Path, description = "the provider")),
    responses(
        (status = 200, description = "Its services, by id", body = ServiceList),
        (status = 400, description = "Bad Request: not an address", body = ErrorBody),
        (status = 404, description = "Not Found: not a registered provider", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Path(address): Path<String>,
) -> Result<Json<ServiceList>, ApiError> {
    let provider = parse_address(&address)?;
    let book = state.jobs.juries().book();
    match book.registration(provider).await? {
        Some(r) if r.roles.contains(&Role::Provider) => {}
        _ => {
            return Err(ApiError::NotFound(format!(
                "{provider} is not a registered provider"
            )))
        }
    }
    Ok(Json(ServiceList {
        services: book.services(provider).await?,
    }))
}

/// `DELETE /providers/:address/services/:serviceId`.
#[utoipa::path(delete, path = "/providers/{address}/services/{serviceId}", tag = "workers",
    params(ActorHeaders,
        ("address" = String, Path, description = "the provider (must be the actor)"),
        ("serviceId" = String, Path, description = "`module:<hex>` or `language:<name>`")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "Unauthorized", body = ErrorBody),
        (status = 403, description = "Forbidden: `params.reason` not_your_provider, not_registered or wrong_role", body = ErrorBody),
        (status = 404, description = "Not Found: no such service", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn withdraw(
    State(state): State<Arc<AppState>>,
    Path((address, service_id)): Path<(String, String)>,
    signed: Signed,
) -> Result<StatusCode, ApiError> {
    let provider = owner(&state, &signed, &address).await?;
    if !state
        .jobs
        .juries()
        .book()
        .remove_service(provider, &service_id)
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "{provider} has no service {service_id:?}"
        )));
    }
    tracing::info!(worker = %provider, service = %service_id, "service withdrawn");
    Ok(StatusCode::NO_CONTENT)
}

/// The body, strictly.
fn parse(body: &[u8]) -> Result<(ServiceTarget, String), ApiError> {
    let fields = super::json::object(body)?;
    super::json::only(&fields, &["moduleHash", "language", "price"])?;
    let target = match (fields.get("moduleHash"), fields.get("language")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field_with(
                "language",
                "give moduleHash or language, not both: a service covers one of them",
                json!({"reason": "both_targets"}),
            ))
        }
        (Some(Value::String(hash)), None) if hash.starts_with("0x") => {
            match Digest32::from_hex(hash) {
                Ok(hash) => ServiceTarget::Module(hash),
                Err(_) => return Err(bad_module_hash()),
            }
        }
        (Some(_), None) => return Err(bad_module_hash()),
        (None, Some(Value::String(language))) if SERVICE_LANGUAGES.contains(&language.as_str()) => {
            ServiceTarget::Language(language.clone())
        }
        (None, Some(_)) => {
            return Err(ApiError::field_with(
                "language",
                "language must be javascript or wasm",
                json!({"supported": SERVICE_LANGUAGES}),
            ))
        }
        (None, None) => {
            return Err(ApiError::field(
                "moduleHash",
                "moduleHash or language is required: what the service covers",
            ))
        }
    };
    let price = match fields.get("price") {
        Some(Value::String(p))
            if !p.is_empty() && p.len() <= 78 && p.bytes().all(|b| b.is_ascii_digit()) =>
        {
            p.trim_start_matches('0').to_string()
        }
        Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
        _ => {
            return Err(ApiError::field(
                "price",
                "price is required: a whole number of the payment token's base units (a decimal string)",
            ))
        }
    };
    let price = if price.is_empty() { "0".into() } else { price };
    Ok((target, price))
}

fn bad_module_hash() -> ApiError {
    ApiError::field(
        "moduleHash",
        "moduleHash must be a module's sha256: 0x and 64 hex characters",
    )
}
