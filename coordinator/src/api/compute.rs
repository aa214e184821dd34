//! Document 001's compute-node routes (issue 14): `POST /api/jobs` (a chain of containers),
//! `POST /api/jobs/batch` and `GET /api/jobs`. The chains themselves are [`crate::compute`]'s.
//!
//! Errors are document 001's `{"error", "params"}` (400 for a bad request, a body over the
//! limits included); a batch answers each item on its own, in order.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use notary_protocol::Digest32;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
use super::AppState;
use crate::compute::{
    build_step, first_link, not_passable, step_end, steps, ChainContainer, ChainStep, StepEnd,
    StepInput,
};
use crate::config::MAX_BODY_BYTES;
use crate::protect::ClientKey;
use crate::record::JobRecord;

/// How many recent jobs `GET /api/jobs` without `id` looks through for the caller's chains.
const MAX_SCAN: usize = 1000;

/// `200` of `POST /api/jobs`.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The chain's id.
    pub id: Uuid,
}

/// Document 001's error: `{"error", "params"}`.
#[derive(Serialize, ToSchema)]
pub struct ComputeError {
    /// What is wrong.
    pub error: String,
    /// Details (the field, the bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub params: Option<Value>,
}

/// One answer of a batch: `{"id"}` or `{"error", "params"}`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    /// Created.
    Created(Created),
    /// Refused.
    Failed(ComputeError),
}

/// Document 001's `ContainerOutput` or `ContainerError`.
#[derive(Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ContainerResult {
    /// `{"container", "output"}`: stdout parsed as JSON when it is JSON, else the text.
    Output {
        /// The container's id as the request named it.
        container: String,
        /// Its output.
        #[schema(value_type = Object)]
        output: Value,
    },
    /// `{"container", "error"}`.
    Error {
        /// The container's id as the request named it.
        container: String,
        /// What went wrong.
        error: String,
    },
}

/// Document 001's `JobResult`, plus the steps' job ids and the chain's hash.
#[derive(Serialize, ToSchema)]
pub struct JobResult {
    /// The chain's id.
    pub id: Uuid,
    /// `running`, `success` or `failed`.
    pub status: &'static str,
    /// The last container's output, or the failing container's error (`null` while running).
    pub result: Option<ContainerResult>,
    /// With `?intermediate=true`: the results of the containers before the last that ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intermediate_results: Option<Vec<ContainerResult>>,
    /// Each step's job id, in order, as far as the chain got (`GET /jobs/{jobId}` shows its
    /// attestation).
    pub steps: Vec<Uuid>,
    /// Of a successful chain: the link after its last step (see [`crate::compute`]), which
    /// commits to every step's attestation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_hash: Option<String>,
}

/// An [`ApiError`] in document 001's shape (400 for any bad or oversized request).
pub(super) fn compute_error(e: ApiError) -> Response {
    let (status, error, params) = match e {
        ApiError::BadRequest { message, params }
        | ApiError::PayloadTooLarge { message, params } => {
            (StatusCode::BAD_REQUEST, message, Some(params))
        }
        other => return other.into_response(),
    };
    (status, Json(ComputeError { error, params })).into_response()
}

pub(super) fn bad(field: &str, message: String) -> ApiError {
    ApiError::field(field, message)
}

/// `POST /api/jobs`: one chain.
#[utoipa::path(post, path = "/api/jobs", tag = "compute",
    request_body(content = Object, description = "JobRequest: {\"containers\": [id, ...], \"data\": object}", content_type = "application/json"),
    responses(
        (status = 200, description = "The chain's id", body = Created),
        (status = 400, description = "Unknown container, empty or too long chain, bad data, body over the limits", body = ComputeError),
        (status = 429, description = "Rate Limited"),
        (status = 503, description = "Service Unavailable: the queue is away or the node is shutting down"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    client: Option<Extension<ClientKey>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let client = client.map(|Extension(ClientKey(key))| key);
    let created = async {
        let body = super::json::body(body, MAX_BODY_BYTES)?;
        let fields = super::json::object(&body)?;
        create_one(&state, client.as_deref(), &fields).await
    };
    match created.await {
        Ok(id) => Json(Created { id }).into_response(),
        Err(e) => compute_error(e),
    }
}

/// `POST /api/jobs/batch`: many chains, each answered on its own.
#[utoipa::path(post, path = "/api/jobs/batch", tag = "compute",
    request_body(content = Vec<Object>, description = "JobRequest[]", content_type = "application/json"),
    responses(
        (status = 200, description = "One {id} or {error, params} per request, in order", body = Vec<BatchItem>),
        (status = 400, description = "The body is not an array, or has more than --max-batch items", body = ComputeError),
        (status = 429, description = "Rate Limited"),
    ))]
pub async fn batch(
    State(state): State<Arc<AppState>>,
    client: Option<Extension<ClientKey>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let client = client.map(|Extension(ClientKey(key))| key);
    let items = match super::json::body(body, MAX_BODY_BYTES).and_then(|b| super::json::value(&b)) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return compute_error(bad(
                "body",
                "the body must be an array of JobRequests".into(),
            ))
        }
        Err(e) => return compute_error(e),
    };
    if items.len() > state.max_batch {
        return compute_error(ApiError::field_with(
            "body",
            format!(
                "a batch has at most {} requests; this one has {}",
                state.max_batch,
                items.len()
            ),
            json!({"limit": state.max_batch, "size": items.len()}),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let answer = match item {
            Value::Object(fields) => create_one(&state, client.as_deref(), fields).await,
            _ => Err(bad("body", "each item must be a JobRequest object".into())),
        };
        out.push(match answer {
            Ok(id) => BatchItem::Created(Created { id }),
            Err(
                ApiError::BadRequest { message, params }
                | ApiError::PayloadTooLarge { message, params },
            ) => BatchItem::Failed(ComputeError {
                error: message,
                params: Some(params),
            }),
            Err(other) => BatchItem::Failed(item_error(other)),
        });
    }
    Json(out).into_response()
}

/// A batch item's refusal that is not a bad request (the queue away, shutting down, ...).
fn item_error(e: ApiError) -> ComputeError {
    let (error, params) = match e {
        ApiError::Unavailable(message) | ApiError::NotFound(message) => (message, None),
        ApiError::UnavailableFor { message, params } | ApiError::Conflict { message, params } => {
            (message, Some(params))
        }
        _ => (
            "this request could not be served now; retry it".to_string(),
            None,
        ),
    };
    ComputeError { error, params }
}

/// Checks and submits one JobRequest; the chain's id.
async fn create_one(
    state: &AppState,
    client: Option<&str>,
    fields: &Map<String, Value>,
) -> Result<Uuid, ApiError> {
    let record = chain_head(state, client, fields).await?;
    submit(state, &record, client).await?;
    Ok(record.id())
}

/// Submits a chain's first step.
pub(super) async fn submit(
    state: &AppState,
    record: &JobRecord,
    client: Option<&str>,
) -> Result<(), ApiError> {
    state
        .jobs
        .submit(record, client)
        .await
        .map_err(|e| match e {
            crate::error::Error::Queue(_) => {
                ApiError::Unavailable("the job queue is unavailable; retry later".into())
            }
            other => other.into(),
        })
}

/// Checks one JobRequest and builds its chain's first step (not stored).
pub(super) async fn chain_head(
    state: &AppState,
    client: Option<&str>,
    fields: &Map<String, Value>,
) -> Result<JobRecord, ApiError> {
    super::json::only(fields, &["containers", "data"])?;
    if state.draining.load(Ordering::Relaxed) {
        return Err(ApiError::Unavailable(
            "the node is shutting down; retry on another replica".into(),
        ));
    }
    let names = match fields.get("containers") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            return Err(bad("containers", "containers must not be empty".into()))
        }
        _ => {
            return Err(bad(
                "containers",
                "containers must be an array of container ids".into(),
            ))
        }
    };
    if names.len() > state.max_chain {
        return Err(ApiError::field_with(
            "containers",
            format!(
                "a chain has at most {} containers; this one has {}",
                state.max_chain,
                names.len()
            ),
            json!({"limit": state.max_chain, "size": names.len()}),
        ));
    }
    let data = match fields.get("data") {
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(bad("data", "data must be a JSON object".into())),
        None => return Err(bad("data", "data is required".into())),
    };
    let registered = state.modules.list().await?;
    let mut containers = Vec::with_capacity(names.len());
    for name in names {
        let Value::String(name) = name else {
            return Err(bad(
                "containers",
                "each container id must be a string".into(),
            ));
        };
        let module = registered
            .iter()
            .find(|m| {
                format!("{}@{}", m.manifest.name, m.manifest.version) == *name
                    || Digest32::from_hex(name).is_ok_and(|h| h == m.manifest.sha256)
            })
            .map(|m| m.manifest.sha256)
            .ok_or_else(|| {
                ApiError::field_with(
                    "containers",
                    format!("unknown container {name:?} (GET /info lists them)"),
                    json!({"container": name}),
                )
            })?;
        containers.push(ChainContainer {
            id: name.clone(),
            module,
        });
    }
    let link = first_link(&containers);
    let step = ChainStep {
        head: Uuid::new_v4(),
        index: 0,
        containers,
        client: client.map(str::to_string),
        onchain: None,
    };
    build_step(&state.job_defaults(), step, StepInput::Data(data), link).await
}

/// `GET /api/jobs`.
#[utoipa::path(get, path = "/api/jobs", tag = "compute",
    params(
        ("id" = Option<Vec<String>>, Query, description = "chain ids (repeatable); unknown ones are left out"),
        ("intermediate" = Option<bool>, Query, description = "with id: include intermediate results"),
        ("pending" = Option<bool>, Query, description = "without id: only running (true) or finished (false) chains of the caller")),
    responses(
        (status = 200, description = "With id: JobResult[]; without: the caller's chain ids (string[])", body = Vec<JobResult>),
        (status = 400, description = "A bad query parameter", body = ComputeError),
        (status = 429, description = "Rate Limited"),
    ))]
pub async fn results(
    State(state): State<Arc<AppState>>,
    client: Option<Extension<ClientKey>>,
    RawQuery(query): RawQuery,
) -> Response {
    match answer_results(&state, client.map(|Extension(ClientKey(k))| k), query).await {
        Ok(response) => response,
        Err(e) => compute_error(e),
    }
}

async fn answer_results(
    state: &AppState,
    client: Option<String>,
    query: Option<String>,
) -> Result<Response, ApiError> {
    let flag = |name: &str, value: &str| match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(name, format!("{name} must be true or false"))),
    };
    let (mut ids, mut intermediate, mut pending) = (Vec::new(), false, None);
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "id" => ids.push(
                value
                    .parse::<Uuid>()
                    .map_err(|_| bad("id", format!("id {value:?} is not a job id (a UUID)")))?,
            ),
            "intermediate" => intermediate = flag(name, value)?,
            "pending" => pending = Some(flag(name, value)?),
            _ => {
                return Err(ApiError::field_with(
                    name,
                    format!("unknown query parameter {name:?}"),
                    json!({"reason": "unknown_field", "supported": ["id", "intermediate", "pending"]}),
                ))
            }
        }
    }
    let store = state.jobs.store();
    if !ids.is_empty() {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(head) = store.get(id).await? else {
                continue;
            };
            if head.chain.as_ref().is_none_or(|c| c.index != 0) {
                continue;
            }
            let steps = steps(store.as_ref(), &head).await?;
            out.push(view(&head, &steps, intermediate));
        }
        return Ok(Json(out).into_response());
    }
    // The caller's chains, newest first, among the most recent jobs.
    let mut chains = Vec::new();
    let mut cursor = None;
    let mut scanned = 0;
    while scanned < MAX_SCAN {
        let page = store.recent(cursor, 100).await?;
        scanned += page.len();
        for record in &page {
            cursor = Some((record.created_at_ms, record.id()));
            let Some(step) = &record.chain else { continue };
            if step.index != 0 || step.client != client {
                continue;
            }
            if let Some(want) = pending {
                let steps = steps(store.as_ref(), record).await?;
                let running = view(record, &steps, false).status == "running";
                if running != want {
                    continue;
                }
            }
            chains.push(record.id());
        }
        if page.len() < 100 {
            break;
        }
    }
    Ok(Json(chains).into_response())
}

/// A chain as document 001's `JobResult`, from its steps' records.
fn view(head: &JobRecord, steps: &[JobRecord], intermediate: bool) -> JobResult {
    let chain = head.chain.as_ref().expect("a chain head");
    let last = chain.containers.len() - 1;
    let mut results = Vec::new();
    let mut status = "running";
    let mut chain_hash = None;
    for (i, record) in steps.iter().enumerate() {
        let container = chain.containers[i].id.clone();
        match step_end(record) {
            StepEnd::Running => break,
            StepEnd::Failed(error) => {
                results.push(ContainerResult::Error { container, error });
                status = "failed";
                break;
            }
            StepEnd::Output { text, exact, link } => {
                let output = serde_json::from_str(&text).unwrap_or(Value::String(text));
                results.push(ContainerResult::Output { container, output });
                if i == last {
                    status = "success";
                    chain_hash = Some(link.to_hex());
                } else if !exact && i + 1 == steps.len() {
                    // Its output could not be passed on: the chain ends here.
                    let container = chain.containers[i].id.clone();
                    let error = not_passable(&container);
                    results.push(ContainerResult::Error { container, error });
                    status = "failed";
                    break;
                }
            }
        }
    }
    let result = if status == "running" {
        None
    } else {
        results.pop()
    };
    JobResult {
        id: head.id(),
        status,
        result,
        intermediate_results: intermediate.then_some(results),
        steps: steps.iter().map(JobRecord::id).collect(),
        chain_hash,
    }
}
