//! `POST /webhooks/register`, `GET /webhooks/:id`, `GET /webhooks/:id/deliveries` and
//! `DELETE /webhooks/:id` (issue 10; the design is in [`crate::webhooks`]).
//!
//! A webhook's secret is its management credential: every route but the registration needs
//! `authorization: Bearer <secret>`. An unknown id and a wrong secret both answer 401, so
//! nobody can tell which ids exist, let alone list other people's webhooks.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::view::iso;
use super::AppState;
use crate::config::MAX_BODY_BYTES;
use crate::record::now_ms;
use crate::webhooks::signing::{check_secret, same_secret};
use crate::webhooks::store::Attempt;
use crate::webhooks::{Webhook, WebhookEvent};

/// Attempts `GET /webhooks/:id/deliveries` lists (newest first).
const LISTED_ATTEMPTS: usize = 100;

/// `POST /webhooks/register`'s body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct RegisterWebhook {
    /// Where deliveries go: `http` or `https`, a public address (private, loopback and
    /// link-local ranges are refused), no credentials.
    #[schema(example = "https://your-api.com/webhooks/notary")]
    pub url: String,
    /// `verification.completed` (VALID or INVALID) and/or `verification.failed` (ERROR,
    /// TIMEOUT, infrastructure failure).
    #[schema(example = json!(["verification.completed", "verification.failed"]))]
    pub events: Vec<String>,
    /// The signing secret, at least 24 bytes; a Standard Webhooks `whsec_<base64>` secret is
    /// taken as such (its key is the decoded bytes).
    #[schema(min_length = 24)]
    pub secret: String,
}

/// A webhook as the API shows it (never its secret).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    /// Its id: name it as `webhookId` in `POST /verify`.
    pub id: Uuid,
    /// Where deliveries go.
    pub url: String,
    /// The events it receives.
    #[schema(example = json!(["verification.completed"]))]
    pub events: Vec<String>,
    /// When it was registered (ISO 8601).
    pub created_at: String,
    /// False once a receiver answered 410 Gone: nothing more is sent.
    pub active: bool,
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// The delivery (`webhook-id` header; the same on every retry).
    pub delivery_id: String,
    /// The job.
    pub job_id: Uuid,
    /// The event.
    pub event: String,
    /// Which attempt of the delivery (1 for the first).
    pub attempt: u32,
    /// When it started (ISO 8601).
    pub at: String,
    /// The receiver's status code, when it answered.
    pub status_code: Option<u16>,
    /// What went wrong when it did not (timeout, connection refused, refused address).
    pub error: Option<String>,
    /// How long it took (ms).
    pub duration_ms: u64,
}

/// `GET /webhooks/:id/deliveries`'s body.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveriesView {
    /// The webhook.
    pub webhook_id: Uuid,
    /// The last attempts, newest first.
    pub attempts: Vec<AttemptView>,
}

fn view(w: &Webhook) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url.clone(),
        events: w.events.iter().map(|e| e.as_str().to_string()).collect(),
        created_at: iso(w.created_at_ms),
        active: !w.disabled,
    }
}

fn attempt_view(a: Attempt) -> AttemptView {
    AttemptView {
        delivery_id: a.delivery_id,
        job_id: a.job_id,
        event: a.event.as_str().to_string(),
        attempt: a.attempt,
        at: iso(a.at_ms),
        status_code: a.status_code,
        error: a.error,
        duration_ms: a.duration_ms,
    }
}

/// `POST /webhooks/register`: checks the URL (form and addresses), events and secret.
#[utoipa::path(post, path = "/webhooks/register", tag = "webhooks",
    request_body(content = RegisterWebhook, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered", body = WebhookView),
        (status = 400, description = "Bad Request: `params.field` names the bad url, events or secret (or a duplicate key)", body = ErrorBody),
        (status = 413, description = "Payload Too Large: body over 1 MB", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: the store is away, or the circuit breaker is open", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn register(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = super::json::body(body, MAX_BODY_BYTES)?;
    let fields = super::json::object(&body)?;
    super::json::only(&fields, &["url", "events", "secret"])?;
    let url = match fields.get("url") {
        Some(Value::String(url)) => url,
        _ => return Err(ApiError::field("url", "url is required: a string")),
    };
    let url = state
        .webhook_policy
        .check_resolved(url)
        .await
        .map_err(|e| ApiError::field("url", e.to_string()))?;
    let supported = json!({"supported": WebhookEvent::ALL.map(|e| e.as_str())});
    let events = match fields.get("events") {
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut events = Vec::new();
            for item in items {
                let event = item.as_str().and_then(WebhookEvent::parse).ok_or_else(|| {
                    ApiError::field_with(
                        "events",
                        format!("unknown event {item}"),
                        supported.clone(),
                    )
                })?;
                if !events.contains(&event) {
                    events.push(event);
                }
            }
            events
        }
        _ => {
            return Err(ApiError::field_with(
                "events",
                "events is required: a non-empty array of event names",
                supported,
            ))
        }
    };
    let secret = match fields.get("secret") {
        Some(Value::String(secret)) => secret.clone(),
        _ => return Err(ApiError::field("secret", "secret is required: a string")),
    };
    check_secret(&secret).map_err(|e| ApiError::field("secret", e.to_string()))?;
    let webhook = Webhook {
        id: Uuid::new_v4(),
        url: url.to_string(),
        events,
        secret,
        created_at_ms: now_ms(),
        disabled: false,
    };
    state.webhooks.insert_webhook(&webhook).await?;
    tracing::info!(webhook_id = %webhook.id, "webhook registered");
    Ok((StatusCode::CREATED, Json(view(&webhook))).into_response())
}

/// The webhook `id` if `headers` carry its secret as a bearer token.
async fn authorized(state: &AppState, id: &str, headers: &HeaderMap) -> Result<Webhook, ApiError> {
    let denied = || {
        ApiError::Unauthorized(
            "give the webhook's secret as `authorization: Bearer <secret>`".into(),
        )
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(denied)?;
    let id = Uuid::parse_str(id).map_err(|_| denied())?;
    let webhook = state.webhooks.webhook(id).await?.ok_or_else(denied)?;
    if !same_secret(token, &webhook.secret) {
        return Err(denied());
    }
    Ok(webhook)
}

/// `GET /webhooks/:id`.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook id"),
           ("authorization" = String, Header, description = "`Bearer <the webhook's secret>`")),
    responses(
        (status = 200, description = "The webhook", body = WebhookView),
        (status = 401, description = "Unauthorized: no secret, another webhook's, or no such webhook", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: the store is away, or the circuit breaker is open", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<WebhookView>, ApiError> {
    let webhook = authorized(&state, &id, &headers).await?;
    Ok(Json(view(&webhook)))
}

/// `GET /webhooks/:id/deliveries`: the last attempts, newest first.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook id"),
           ("authorization" = String, Header, description = "`Bearer <the webhook's secret>`")),
    responses(
        (status = 200, description = "Its delivery attempts: time, status code or error, duration", body = DeliveriesView),
        (status = 401, description = "Unauthorized: no secret, another webhook's, or no such webhook", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: the store is away, or the circuit breaker is open", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<DeliveriesView>, ApiError> {
    let webhook = authorized(&state, &id, &headers).await?;
    let attempts = state.webhooks.attempts(webhook.id, LISTED_ATTEMPTS).await?;
    Ok(Json(DeliveriesView {
        webhook_id: webhook.id,
        attempts: attempts.into_iter().map(attempt_view).collect(),
    }))
}

/// `DELETE /webhooks/:id`: nothing more is sent; its history is deleted.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook id"),
           ("authorization" = String, Header, description = "`Bearer <the webhook's secret>`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Unauthorized: no secret, another webhook's, or no such webhook", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: the store is away, or the circuit breaker is open", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let webhook = authorized(&state, &id, &headers).await?;
    state.webhooks.delete_webhook(webhook.id).await?;
    tracing::info!(webhook_id = %webhook.id, "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}
