//! A mock of the `/verify` API, deterministic by request number: of every ten POSTs, number 3
//! is refused with 503, number 5 is answered 202 (its first poll 202 again, the second 200
//! VALID) and number 7 is INVALID; the rest are VALID when the expected hash is hello's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const HELLO_HASH: &str = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";

/// How the mock behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// The ten-request pattern above.
    Pattern,
    /// Every POST is VALID after `delay`.
    AllValid,
    /// POSTs never answer.
    Stall,
}

#[derive(Default)]
pub struct Counters {
    pub posts: AtomicU64,
    pub polls: AtomicU64,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

struct MockState {
    behaviour: Behaviour,
    delay: Duration,
    counters: Arc<Counters>,
    poll_counts: Mutex<HashMap<String, u32>>,
}

/// A mock server; dropped with the test's runtime.
pub struct Mock {
    pub url: String,
    pub counters: Arc<Counters>,
}

impl Mock {
    pub async fn start(behaviour: Behaviour, delay: Duration) -> Mock {
        let counters = Arc::new(Counters::default());
        let state = Arc::new(MockState {
            behaviour,
            delay,
            counters: counters.clone(),
            poll_counts: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/verify", post(submit))
            .route("/verify/{id}", get(status))
            .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Mock { url, counters }
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Counters>);

impl InFlight {
    fn enter(counters: &Arc<Counters>) -> Self {
        let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(counters.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn completed(result: &str) -> Response {
    let actual = if result == "VALID" {
        HELLO_HASH.to_string()
    } else {
        "00".repeat(32)
    };
    (
        StatusCode::OK,
        Json(json!({"status": "completed", "result": result, "actualHash": actual, "executionTimeMs": 1.0, "fuelUsed": 1})),
    )
        .into_response()
}

async fn submit(State(state): State<Arc<MockState>>, Json(body): Json<Value>) -> Response {
    let _guard = InFlight::enter(&state.counters);
    let n = state.counters.posts.fetch_add(1, Ordering::SeqCst);
    match state.behaviour {
        Behaviour::Stall => tokio::time::sleep(Duration::from_secs(3600)).await,
        _ => tokio::time::sleep(state.delay).await,
    }
    assert_eq!(body["taskType"], "code-execution");
    let hello = body["expectedHash"] == HELLO_HASH;
    if state.behaviour == Behaviour::Pattern {
        match n % 10 {
            3 => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "0")],
                    Json(json!({"error": "Service Unavailable", "message": "busy", "params": {}})),
                )
                    .into_response()
            }
            5 => {
                let id = format!("job-{n}");
                return (
                    StatusCode::ACCEPTED,
                    Json(json!({"jobId": id, "status": "running", "checkStatusAt": format!("/verify/{id}")})),
                )
                    .into_response();
            }
            7 => return completed("INVALID"),
            _ => {}
        }
    }
    completed(if hello { "VALID" } else { "INVALID" })
}

async fn status(State(state): State<Arc<MockState>>, Path(id): Path<String>) -> Response {
    state.counters.polls.fetch_add(1, Ordering::SeqCst);
    let seen = {
        let mut counts = state.poll_counts.lock().unwrap();
        let c = counts.entry(id.clone()).or_default();
        *c += 1;
        *c
    };
    if seen < 2 {
        (
            StatusCode::ACCEPTED,
            Json(json!({"jobId": id, "status": "running"})),
        )
            .into_response()
    } else {
        completed("VALID")
    }
}
