//! A worker of the open fleet (issue 12): its slots lease through a coordinator over HTTP
//! (`notary-worker --coordinator URL`) instead of from the fleet's Redis. Every request is
//! signed with the worker's key (`notary_protocol::actor`); module bytes come from `GET
//! /modules/:hash/module` and are checked against the hash.
//!
//! [`RemoteLeases`] maps the lease protocol onto the coordinator's routes: `lease_as` is `GET
//! /assignments?waitSeconds=N` (the lease token is the assignment id), `heartbeat` and
//! `release` are `POST /assignments/:id/…`, `submit` is `POST /jobs/:jobId/result` (a provider
//! seat) or `/attest` (a verifier seat); with `--stream`, the slots share the seats of one
//! `GET /assignments/stream` ([`crate::seat_stream`]) instead. The protocol is documented on one page,
//! `docs/worker-protocol.md`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use notary_protocol::actor::sign_request;
use notary_protocol::{sha256, AttestationDomain, Digest32, WorkerKey, WorkerRegistration};
use notary_queue::{Error, JobEnvelope, Lease, Leases, OutputPiece, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::module_source::{ByteCache, ModuleSource};
use crate::seat_stream::SeatStream;

/// A coordinator's answer to `GET /assignments` (the fields a worker needs).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Assignment {
    assignment_id: String,
    job_id: String,
    seat: String,
    attempt: u32,
    job: Value,
}

impl Assignment {
    /// The lease a slot named `worker` holds for it (the token is the assignment id).
    pub(crate) fn into_lease(self, worker: &str, identity: &str) -> Lease {
        let target = (self.seat == "verifier").then(|| identity.to_string());
        Lease {
            job: JobEnvelope {
                job_id: self.job_id,
                payload: self.job.to_string(),
                attempt: self.attempt,
                lane: 0,
                target,
            },
            worker: worker.to_string(),
            token: self.assignment_id,
            identity: Some(identity.to_string()),
        }
    }
}

/// The signed HTTP client of one worker key.
#[derive(Clone)]
pub struct Coordinator {
    base: String,
    key: WorkerKey,
    client: reqwest::Client,
}

impl Coordinator {
    /// A client of the coordinator at `base` (e.g. `http://127.0.0.1:8402`) signing as `key`.
    pub fn new(base: &str, key: WorkerKey) -> std::result::Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Coordinator {
            base: base.trim_end_matches('/').to_string(),
            key,
            client,
        })
    }

    /// Sends a signed request; `timeout` bounds the whole exchange. A random `nonce` query
    /// parameter (which every signed route ignores) keeps two equal requests in one second
    /// (two heartbeats, two polls of two slots) from being refused as replays.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        worker_id: Option<&str>,
        timeout: Duration,
    ) -> std::result::Result<(u16, Vec<u8>), String> {
        let resp = self
            .request(method, path, body, worker_id)?
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, bytes.to_vec()))
    }

    /// A signed request, ready to send (no deadline of its own: a stream lasts).
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        worker_id: Option<&str>,
    ) -> std::result::Result<reqwest::RequestBuilder, String> {
        let body = match body {
            Some(v) => serde_json::to_vec(v).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let sep = if path.contains('?') { '&' } else { '?' };
        let path = format!("{path}{sep}nonce={}", nonce());
        let path = path.as_str();
        let headers = sign_request(&self.key, method.as_str(), path, now, &body)
            .map_err(|e| e.to_string())?;
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers.pairs() {
            req = req.header(name, value);
        }
        if let Some(id) = worker_id {
            req = req.header("x-notary-worker-id", id);
        }
        if !body.is_empty() {
            req = req.header("content-type", "application/json").body(body);
        }
        Ok(req)
    }

    /// Registers this worker as `role` (`provider` or `verifier`) with `runtime_id` as its
    /// config hash, with its own signed registration for the registry (`anchor`, in the domain
    /// of `GET /notary/domain`, valid for an hour). Returns the worker record.
    pub async fn register(
        &self,
        role: &str,
        runtime_id: &Digest32,
        engine: &str,
    ) -> std::result::Result<Value, String> {
        let timeout = Duration::from_secs(60);
        let (status, answer) = self
            .send(reqwest::Method::GET, "/notary/domain", None, None, timeout)
            .await?;
        let domain: Value = serde_json::from_slice(&answer).unwrap_or_default();
        let domain = match (
            status,
            domain["chainId"].as_u64(),
            domain["verifyingContract"].as_str(),
        ) {
            (200, Some(chain_id), Some(contract)) => AttestationDomain {
                chain_id,
                verifying_contract: contract.parse().map_err(|_| {
                    format!("GET /notary/domain: bad verifyingContract {contract:?}")
                })?,
            },
            _ => return Err(format!("GET /notary/domain: HTTP {status}: {domain}")),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let signed = WorkerRegistration {
            worker: self.key.address(),
            config_hash: *runtime_id,
            deadline: now + 3600,
        };
        let signature = signed.sign(&self.key, &domain).map_err(|e| e.to_string())?;
        let path = format!("/{role}s/register");
        let body = serde_json::json!({
            "configHash": format!("0x{runtime_id}"),
            "engine": engine,
            "anchor": {"deadline": signed.deadline, "signature": signature},
        });
        let (status, answer) = self
            .send(reqwest::Method::POST, &path, Some(&body), None, timeout)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let answer: Value = serde_json::from_slice(&answer).unwrap_or_default();
        if status == 200 || status == 201 {
            Ok(answer)
        } else {
            Err(format!("{path}: HTTP {status}: {answer}"))
        }
    }
}

/// A fresh nonce, so two slots asking at the same second sign different texts.
fn nonce() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Slots lease through the coordinator: each slot long-polls `GET /assignments`, or, once
/// [`RemoteLeases::stream`] is called, they share the seats of one `GET /assignments/stream`.
pub struct RemoteLeases {
    coordinator: Coordinator,
    stream: std::sync::OnceLock<SeatStream>,
    /// The leases held, by job id: a streamed job's output goes to its assignment.
    held: parking_lot::Mutex<std::collections::HashMap<String, Lease>>,
}

impl RemoteLeases {
    /// Leases through `coordinator`.
    pub fn new(coordinator: Coordinator) -> Self {
        RemoteLeases {
            coordinator,
            stream: std::sync::OnceLock::new(),
            held: Default::default(),
        }
    }

    /// Remembers a lease handed to a slot (until it is submitted or released).
    fn hold(&self, lease: Option<Lease>) -> Option<Lease> {
        if let Some(lease) = &lease {
            self.held
                .lock()
                .insert(lease.job.job_id.clone(), lease.clone());
        }
        lease
    }

    fn forget(&self, lease: &Lease) {
        let mut held = self.held.lock();
        if held.get(&lease.job.job_id).map(|l| &l.token) == Some(&lease.token) {
            held.remove(&lease.job.job_id);
        }
    }

    /// From now on, takes seats from one server-sent event stream named `worker_id` (the
    /// process), at most `slots` outstanding, instead of one long poll per slot.
    pub fn stream(&self, worker_id: &str, slots: usize) {
        self.stream
            .get_or_init(|| SeatStream::start(self.coordinator.clone(), worker_id, slots));
    }

    async fn post(&self, path: &str, body: Option<&Value>, worker: &str) -> Result<(u16, Vec<u8>)> {
        self.coordinator
            .send(
                reqwest::Method::POST,
                path,
                body,
                Some(worker),
                Duration::from_secs(30),
            )
            .await
            .map_err(Error::Remote)
    }
}

fn refused(what: &str, status: u16, body: &[u8]) -> Error {
    Error::Remote(format!(
        "{what}: HTTP {status}: {}",
        String::from_utf8_lossy(&body[..body.len().min(500)])
    ))
}

#[async_trait]
impl Leases for RemoteLeases {
    async fn lease(&self, worker: &str, wait: Duration) -> Result<Option<Lease>> {
        let identity = format!("{:#x}", self.coordinator.key.address());
        self.lease_as(worker, &identity, wait).await
    }

    async fn lease_as(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        if let Some(stream) = self.stream.get() {
            return Ok(self.hold(stream.next(worker, identity, wait).await?));
        }
        let secs = wait.as_secs().min(20);
        let path = format!("/assignments?waitSeconds={secs}");
        let (status, body) = self
            .coordinator
            .send(
                reqwest::Method::GET,
                &path,
                None,
                Some(worker),
                Duration::from_secs(secs + 15),
            )
            .await
            .map_err(Error::Remote)?;
        match status {
            204 => Ok(None),
            200 => {
                let a: Assignment = serde_json::from_slice(&body)
                    .map_err(|e| Error::Remote(format!("assignment: {e}")))?;
                Ok(self.hold(Some(a.into_lease(worker, identity))))
            }
            _ => Err(refused("GET /assignments", status, &body)),
        }
    }

    async fn lease_seats(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        // The coordinator offers a worker registered only as verifier its jury seats only.
        self.lease_as(worker, identity, wait).await
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<bool> {
        let path = format!("/assignments/{}/heartbeat", lease.token);
        match self.post(&path, None, &lease.worker).await? {
            (200, _) => Ok(true),
            (404 | 409, _) => Ok(false),
            (status, body) => Err(refused("heartbeat", status, &body)),
        }
    }

    async fn submit(&self, lease: &Lease, payload: String) -> Result<()> {
        self.forget(lease);
        if payload.is_empty() {
            // Not a job the sandbox could read: give the seat back rather than hold it.
            self.release(lease).await?;
            return Ok(());
        }
        let report: Value = serde_json::from_str(&payload)
            .map_err(|e| Error::InvalidArgument(format!("report: {e}")))?;
        let route = if lease.job.target.is_some() {
            "attest"
        } else {
            "result"
        };
        let path = format!("/jobs/{}/{route}", lease.job.job_id);
        let body = serde_json::json!({"assignmentId": lease.token, "report": report});
        match self.post(&path, Some(&body), &lease.worker).await? {
            (202, _) => Ok(()),
            (status, body) if (400..500).contains(&status) && status != 429 => {
                // Refused for good (a failed check, a final job, a lapsed seat): retrying
                // cannot help; the coordinator has what it needs to move on.
                tracing::error!(
                    job_id = %lease.job.job_id,
                    status,
                    answer = %String::from_utf8_lossy(&body[..body.len().min(500)]),
                    "the coordinator refused the report"
                );
                Ok(())
            }
            (status, body) => Err(refused("submit", status, &body)),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<bool> {
        self.forget(lease);
        let path = format!("/assignments/{}/release", lease.token);
        match self.post(&path, None, &lease.worker).await? {
            (200, body) => Ok(serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["released"].as_bool())
                .unwrap_or(false)),
            (404, _) => Ok(false),
            (status, body) => Err(refused("release", status, &body)),
        }
    }

    /// Sends the piece to the job's assignment (`POST /assignments/:id/output`); a job this
    /// process does not hold has nowhere to send it.
    async fn append_output(&self, job_id: &str, piece: &OutputPiece) -> Result<()> {
        let Some(lease) = self.held.lock().get(job_id).cloned() else {
            return Ok(());
        };
        let body = match piece {
            OutputPiece::Data { offset, bytes, .. } => serde_json::json!({
                "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                "offset": offset,
            }),
            OutputPiece::End { .. } => serde_json::json!({"end": true}),
        };
        let path = format!("/assignments/{}/output", lease.token);
        match self.post(&path, Some(&body), &lease.worker).await? {
            (202, _) => Ok(()),
            (status, body) => Err(refused("output", status, &body)),
        }
    }
}

/// Module bytes from the coordinator (`GET /modules/:hash/module`), checked against the hash
/// and cached (bytes never change for a hash).
pub struct RemoteModules {
    coordinator: Coordinator,
    cache: ByteCache,
}

impl RemoteModules {
    /// Reads modules through `coordinator`.
    pub fn new(coordinator: Coordinator) -> Self {
        RemoteModules {
            coordinator,
            cache: ByteCache::default(),
        }
    }
}

#[async_trait]
impl ModuleSource for RemoteModules {
    async fn module_bytes(
        &self,
        hash: &Digest32,
    ) -> std::result::Result<Option<Arc<[u8]>>, String> {
        if let Some(bytes) = self.cache.get(hash) {
            return Ok(Some(bytes));
        }
        let path = format!("/modules/{}/module", hash.to_hex());
        let (status, body) = self
            .coordinator
            .send(
                reqwest::Method::GET,
                &path,
                None,
                None,
                Duration::from_secs(60),
            )
            .await?;
        match status {
            200 => {}
            404 => return Ok(None),
            other => return Err(format!("GET {path}: HTTP {other}")),
        }
        if sha256(&body) != *hash {
            return Err(format!("GET {path}: the bytes do not hash to {hash}"));
        }
        Ok(Some(self.cache.keep(hash, body)))
    }
}
