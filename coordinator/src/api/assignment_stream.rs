//! `GET /assignments/stream` (issue 12, document 000): a worker's seats as server-sent events,
//! for workers that would rather keep one connection open than poll.
//!
//! The request is actor-signed like every worker route and must name the worker process in
//! `x-notary-worker-id`: the stream leases in the name `http-<actor>-<worker id>`, exactly as
//! `GET /assignments` does, so leases, heartbeats, submissions and reaping are the same. One
//! live stream per worker id across the whole fleet (the claim lives in the assignment store,
//! Redis in a fleet): a second one is a 409 `stream_open` until the first ends.
//!
//! `?slots=N` (1 to 64, default 1) is how many seats the worker runs at once: the stream keeps
//! at most N assignments outstanding (not yet submitted, released or expired) and sends the
//! next seat only when one ends, so a stream never floods a worker with seats it would let
//! lapse. Events:
//!
//! - `event: assignment`, `id: <assignmentId>`, `data:` the same JSON `GET /assignments`
//!   answers;
//! - `event: end`, `data: {"reason"}` (`shutting_down`: the coordinator is draining;
//!   `replaced`: the claim was lost) before the coordinator closes the stream; the worker
//!   reconnects;
//! - a comment every 10 s keeps idle connections open.
//!
//! A seat leased just as the client hung up is released at once, so it goes to the next
//! worker without waiting for its lease to lapse.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::actor::{ActorHeaders, Signed};
use super::assignments::{
    conflict, consumer, lease, query_params, roles_of, AssignmentView, WORKER_ID_HEADER,
};
use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;
use crate::workers::Role;

/// Most seats one stream keeps outstanding.
pub const MAX_SLOTS: usize = 64;
/// How long a stream's claim outlives its last renewal (the feeding loop renews it at least
/// every [`LEASE_WAIT`]).
const CLAIM_TTL: Duration = Duration::from_secs(15);
/// One lease attempt's wait: also how soon the loop notices a drain or a closed client.
const LEASE_WAIT: Duration = Duration::from_secs(3);
/// How often a full stream looks for ended assignments.
const CREDIT_POLL: Duration = Duration::from_millis(250);

/// The `end` event's data.
#[derive(Serialize, ToSchema)]
pub struct StreamEnd {
    /// `shutting_down` or `replaced`.
    pub reason: &'static str,
}

/// `slots`.
fn slots_of(query: Option<&str>) -> Result<usize, ApiError> {
    let mut slots = 1;
    for (_, value) in query_params(query, &["slots"])? {
        slots = value
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_SLOTS).contains(n))
            .ok_or_else(|| {
                ApiError::field_with(
                    "slots",
                    format!("slots must be a whole number from 1 to {MAX_SLOTS}"),
                    json!({"max": MAX_SLOTS}),
                )
            })?;
    }
    Ok(slots)
}

/// `GET /assignments/stream`.
#[utoipa::path(get, path = "/assignments/stream", tag = "workers",
    params(ActorHeaders,
        ("slots" = Option<u64>, Query, description = "seats the worker runs at once (1 to 64, default 1): at most this many assignments are outstanding"),
        ("nonce" = Option<String>, Query, description = "ignored: makes two otherwise equal signed requests differ"),
        ("x-notary-worker-id" = String, Header, description = "the worker process: one live stream each")),
    responses(
        (status = 200, description = "`text/event-stream`: `assignment` events (data: an AssignmentView), an `end` event (data: StreamEnd) before the coordinator closes it", content_type = "text/event-stream", body = AssignmentView),
        (status = 400, description = "Bad Request: a bad query parameter, or the worker id missing or malformed", body = ErrorBody),
        (status = 401, description = "Unauthorized: `params.reason` is missing, bad_signature, expired or replayed", body = ErrorBody),
        (status = 403, description = "Forbidden: `params.reason` not_registered or not_approved", body = ErrorBody),
        (status = 409, description = "Conflict: `params.reason` stream_open (this worker id has a live stream)", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away, or the coordinator is draining", body = ErrorBody),
    ))]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    let slots = slots_of(query.as_deref())?;
    if !headers.contains_key(WORKER_ID_HEADER) {
        return Err(ApiError::field(
            WORKER_ID_HEADER,
            "x-notary-worker-id is required on a stream: it names the worker process (one live stream each)",
        ));
    }
    let consumer = consumer(signed.actor, &headers)?;
    let roles = roles_of(&state, signed.actor).await?;
    if state.draining.load(Ordering::Relaxed) {
        return Err(ApiError::Unavailable(
            "the coordinator is shutting down; connect to another".into(),
        ));
    }
    let holder = uuid::Uuid::new_v4().to_string();
    if !state
        .assignments
        .hold_stream(&consumer, &holder, CLAIM_TTL)
        .await?
    {
        return Err(conflict(
            "stream_open",
            format!(
                "worker id {:?} of {} has a live stream already",
                headers
                    .get(WORKER_ID_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default(),
                signed.actor
            ),
        ));
    }
    tracing::info!(worker = %consumer, slots, "assignment stream opened");
    let (tx, rx) = mpsc::channel::<Event>(1);
    let feed = Feed {
        state,
        consumer,
        holder,
        identity: format!("{:#x}", signed.actor),
        roles,
        slots,
    };
    tokio::spawn(feed.run(tx));
    let events = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response())
}

/// The task that leases for one stream.
struct Feed {
    state: Arc<AppState>,
    consumer: String,
    holder: String,
    identity: String,
    roles: Vec<Role>,
    slots: usize,
}

impl Feed {
    async fn run(self, tx: mpsc::Sender<Event>) {
        let mut outstanding: Vec<String> = Vec::new();
        let end = loop {
            if tx.is_closed() {
                break None;
            }
            if self.state.draining.load(Ordering::Relaxed) {
                break Some("shutting_down");
            }
            match self
                .state
                .assignments
                .hold_stream(&self.consumer, &self.holder, CLAIM_TTL)
                .await
            {
                Ok(true) => {}
                Ok(false) => break Some("replaced"),
                Err(e) => {
                    tracing::warn!(worker = %self.consumer, error = %e, "assignment stream: could not renew its claim");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            outstanding = self.still_outstanding(outstanding).await;
            if outstanding.len() >= self.slots {
                tokio::select! {
                    _ = tokio::time::sleep(CREDIT_POLL) => {}
                    _ = tx.closed() => {}
                }
                continue;
            }
            // Not raced against the client: a lease is never dropped half-taken.
            let leased = lease(
                &self.state,
                &self.consumer,
                &self.identity,
                LEASE_WAIT,
                &self.roles,
            )
            .await;
            match leased {
                Ok(Some(view)) => {
                    let id = view.assignment_id.clone();
                    let event = Event::default().event("assignment").id(id.clone());
                    let event = match event.json_data(&view) {
                        Ok(event) => event,
                        Err(e) => {
                            tracing::error!(error = %e, "assignment stream: unserializable seat");
                            self.give_back(&id).await;
                            continue;
                        }
                    };
                    if tx.send(event).await.is_err() {
                        self.give_back(&id).await;
                        break None;
                    }
                    outstanding.push(id);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(worker = %self.consumer, error = ?e, "assignment stream: leasing failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        if let Some(reason) = end {
            if let Ok(event) = Event::default()
                .event("end")
                .json_data(StreamEnd { reason })
            {
                let _ = tx.send(event).await;
            }
        }
        let _ = self
            .state
            .assignments
            .end_stream(&self.consumer, &self.holder)
            .await;
        tracing::info!(worker = %self.consumer, reason = end.unwrap_or("client_closed"), "assignment stream closed");
    }

    /// The assignments of `ids` that have not ended (a failed read keeps one: it is counted
    /// until the store answers).
    async fn still_outstanding(&self, ids: Vec<String>) -> Vec<String> {
        let mut live = Vec::with_capacity(ids.len());
        for id in ids {
            if !matches!(self.state.assignments.get(&id).await, Ok(None)) {
                live.push(id);
            }
        }
        live
    }

    /// Releases a seat the client will never see.
    async fn give_back(&self, id: &str) {
        if let Ok(Some(assignment)) = self.state.assignments.get(id).await {
            if let Ok(true) = self.state.assignments.remove(id).await {
                let _ = self.state.jobs.queue().release(&assignment.lease).await;
                tracing::info!(worker = %self.consumer, assignment = id, "assignment stream closed: seat given back");
            }
        }
    }
}
