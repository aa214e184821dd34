//! The module registry's routes: `POST /modules`, `GET /modules`, `GET /modules/:hash`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use notary_protocol::{Digest32, ModuleManifest};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;
use crate::modules::{admit_package, Put, RegisteredModule};
use crate::record::now_ms;

/// The largest `POST /modules` body for a module limit of `max_module_bytes`: the module in
/// base64 plus room for the manifest.
pub fn max_package_bytes(max_module_bytes: usize) -> usize {
    max_module_bytes.div_ceil(3) * 4 + 64 * 1024
}

/// `POST /modules`: admit a package (201 when new, 200 when already registered, with the same
/// `moduleHash` either way).
#[utoipa::path(post, path = "/modules", tag = "modules",
    request_body(content = Object, content_type = "application/json", description = "a package: manifest and base64 module (see notary-pack)"),
    responses(
        (status = 200, description = "Already registered", body = ModuleView),
        (status = 201, description = "Registered", body = ModuleView),
        (status = 400, description = "Bad Request: invalid package or module", body = ErrorBody),
        (status = 409, description = "Conflict: other bytes own this name@version", body = ErrorBody),
        (status = 413, description = "Payload Too Large: module over the limit", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "Service Unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn publish(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limit = max_package_bytes(state.max_module_bytes);
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            message: format!(
                "package exceeds {limit} bytes (the module limit is {} bytes)",
                state.max_module_bytes
            ),
            params: json!({"limit": state.max_module_bytes}),
        },
        _ => ApiError::BadRequest {
            message: format!("could not read the request body: {e}"),
            params: json!({}),
        },
    })?;
    if state.draining.load(Ordering::Relaxed) {
        return Err(ApiError::Unavailable(
            "the coordinator is shutting down; retry on another replica".into(),
        ));
    }
    let mut limits = state.limits.clone();
    limits.max_module_bytes = state.max_module_bytes;
    let (manifest, bytes) = admit_package(&body, &limits, state.fuel)?;
    let hash = manifest.sha256;
    let registered = RegisteredModule {
        manifest,
        published_at_ms: now_ms(),
    };
    let created = match state.modules.put(&registered, &bytes).await? {
        Put::Created => true,
        Put::Exists => false,
        Put::NameTaken(owner) => {
            let m = &registered.manifest;
            return Err(ApiError::Conflict {
                message: format!(
                    "{}@{} is already published as module {owner}; publish other bytes under a new version",
                    m.name, m.version
                ),
                params: json!({"name": m.name, "version": m.version, "moduleHash": owner}),
            });
        }
    };
    let stored = if created {
        registered
    } else {
        state.modules.manifest(&hash).await?.unwrap_or(registered)
    };
    tracing::info!(module = %hash, name = %stored.manifest.name, created, "module published");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut view = ModuleView::from(&stored);
    view.created = Some(created);
    Ok((status, Json(view)).into_response())
}

/// `GET /modules`: every registered module, oldest first.
#[utoipa::path(get, path = "/modules", tag = "modules",
    responses(
        (status = 200, description = "Every registered module, oldest first", body = ModuleList),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "Service Unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<ModuleList>, ApiError> {
    let modules = state.modules.list().await?;
    Ok(Json(ModuleList {
        modules: modules.iter().map(ModuleView::from).collect(),
    }))
}

/// `GET /modules/:hash`: one module's manifest.
#[utoipa::path(get, path = "/modules/{hash}", tag = "modules",
    params(("hash" = String, Path, description = "the module's sha256 (64 hex characters)")),
    responses(
        (status = 200, description = "The module", body = ModuleView),
        (status = 400, description = "Bad Request: not a hash", body = ErrorBody),
        (status = 404, description = "Not Found", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "Service Unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
) -> Result<Json<ModuleView>, ApiError> {
    let hash = module_hash(&hash)?;
    let module =
        state.modules.manifest(&hash).await?.ok_or_else(|| {
            ApiError::NotFound(format!("no module with hash {hash} is registered"))
        })?;
    Ok(Json(ModuleView::from(&module)))
}

/// `GET /modules/:hash/module`: the module's bytes, for workers that run it (a remote worker
/// of the open fleet reads them here and checks them against the hash).
#[utoipa::path(get, path = "/modules/{hash}/module", tag = "modules",
    params(("hash" = String, Path, description = "the module's sha256 (64 hex characters)")),
    responses(
        (status = 200, description = "The module's bytes", body = Vec<u8>, content_type = "application/wasm"),
        (status = 400, description = "Bad Request: not a hash", body = ErrorBody),
        (status = 404, description = "Not Found", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "Service Unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn bytes(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let hash = module_hash(&hash)?;
    let bytes =
        state.modules.bytes(&hash).await?.ok_or_else(|| {
            ApiError::NotFound(format!("no module with hash {hash} is registered"))
        })?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/wasm")],
        bytes,
    )
        .into_response())
}

/// The `:hash` of a module route.
fn module_hash(text: &str) -> Result<Digest32, ApiError> {
    Digest32::from_hex(text).map_err(|_| ApiError::BadRequest {
        message: format!("{text:?} is not a module hash (64 hex characters)"),
        params: json!({"field": "hash"}),
    })
}

/// A module as the API shows it: its hash, manifest and publish time.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleView {
    /// The module's sha256: its id, what a job names as `moduleHash`.
    pub module_hash: String,
    /// The manifest as first published (see `notary-pack`).
    #[schema(value_type = Object)]
    pub manifest: ModuleManifest,
    /// When it was first published (RFC 3339).
    pub published_at: String,
    /// On `POST /modules` only: whether this request stored it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
}

impl From<&RegisteredModule> for ModuleView {
    fn from(module: &RegisteredModule) -> Self {
        ModuleView {
            module_hash: module.manifest.sha256.to_hex(),
            manifest: module.manifest.clone(),
            published_at: super::view::iso(module.published_at_ms),
            created: None,
        }
    }
}

/// `GET /modules`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ModuleList {
    /// Every registered module, oldest first.
    pub modules: Vec<ModuleView>,
}
