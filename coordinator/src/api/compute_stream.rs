//! `POST /api/jobs/stream` (issue 14, document 001's streaming): a one-container request
//! answered at once, chunked, with the job id and then the guest's stdout as it is written.
//!
//! Where the bytes come from: a job run by this coordinator's in-process workers is copied by
//! an output tap on its stdout; a job run by any other worker of a Redis fleet (a
//! `notary-worker` process, another coordinator's in-process workers) writes its stdout to
//! the job's output log in the queue as it runs (the spec's `stream` flag), which this route
//! reads. Every piece carries its offset, so each byte is sent once and in order whatever the
//! sources or deliveries; once the job has ended, whatever the recorded output has beyond
//! what was sent follows (all of it for a worker reached over HTTP, which has no log).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use serde_json::Value;
use uuid::Uuid;

use super::compute::{bad, chain_head, compute_error, submit, ComputeError};
use super::AppState;
use crate::config::MAX_BODY_BYTES;
use crate::protect::ClientKey;

/// `POST /api/jobs/stream`: a one-container request, answered at once with chunked output.
#[utoipa::path(post, path = "/api/jobs/stream", tag = "compute",
    request_body(content = Object, description = "JobRequest with exactly one container", content_type = "application/json"),
    responses(
        (status = 200, description = "Chunked: the job id and a newline, then the guest's stdout as it is written, ending when the job ends", content_type = "application/octet-stream"),
        (status = 400, description = "Not exactly one container, or any error of POST /api/jobs", body = ComputeError),
        (status = 429, description = "Rate Limited"),
        (status = 503, description = "Service Unavailable"),
    ))]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    client: Option<Extension<ClientKey>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let client = client.map(|Extension(ClientKey(key))| key);
    let started = async {
        let body = super::json::body(body, MAX_BODY_BYTES)?;
        let fields = super::json::object(&body)?;
        if fields
            .get("containers")
            .and_then(Value::as_array)
            .is_some_and(|c| c.len() != 1)
        {
            return Err(bad(
                "containers",
                "a streamed job runs exactly one container".into(),
            ));
        }
        let mut record = chain_head(&state, client.as_deref(), &fields).await?;
        // A worker in another process copies its writes to the job's output log.
        record.spec.stream = true;
        let id = record.id();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Bytes)>();
        if let Some(taps) = &state.taps {
            let tx = tx.clone();
            taps.insert(
                id,
                notary_worker::sandbox::OutputTap::new(move |offset, bytes| {
                    // A client that went away only stops the copy; the job runs on.
                    let _ = tx.send((offset, Bytes::copy_from_slice(bytes)));
                }),
            );
        }
        if let Err(e) = submit(&state, &record, client.as_deref()).await {
            if let Some(taps) = &state.taps {
                taps.remove(&id);
            }
            return Err(e);
        }
        Ok((record, tx, rx))
    };
    let (record, tx, rx) = match started.await {
        Ok(started) => started,
        Err(e) => return compute_error(e),
    };
    let id = record.id();
    let limit = std::time::Duration::from_millis(record.spec.timeout_ms) * 4
        + std::time::Duration::from_secs(60);
    // The copy ends when the job does: its tap is dropped, and the log reader stops.
    let watcher = state.clone();
    tokio::spawn(async move {
        let _ = watcher.jobs.await_final(id, limit).await;
        if let Some(taps) = &watcher.taps {
            taps.remove(&id);
        }
    });
    tokio::spawn(read_output_log(state.clone(), id, tx, limit));
    let body = live_output(state, id, rx);
    Response::builder()
        .header(axum::http::header::CONTENT_TYPE, "application/octet-stream")
        .header("x-notary-job-id", id.to_string())
        .body(axum::body::Body::from_stream(body))
        .expect("a valid response")
}

/// Forwards the job's output log (written by a worker in another process) to the stream until
/// a delivery's end, or until the job is final (its worker wrote the whole log before its
/// result, so what is left is read without waiting), or `limit`.
async fn read_output_log(
    state: Arc<AppState>,
    id: Uuid,
    tx: tokio::sync::mpsc::UnboundedSender<(u64, Bytes)>,
    limit: std::time::Duration,
) {
    let job = id.to_string();
    let queue = state.jobs.queue().clone();
    let finished = state.jobs.await_final(id, limit);
    tokio::pin!(finished);
    let mut cursor = String::new();
    let mut wait = std::time::Duration::from_secs(1);
    while !tx.is_closed() {
        let read = tokio::select! {
            read = queue.read_output(&job, &cursor, wait) => read,
            _ = &mut finished, if !wait.is_zero() => {
                wait = std::time::Duration::ZERO;
                continue;
            }
        };
        let pieces = match read {
            Ok((pieces, next)) => {
                cursor = next;
                pieces
            }
            Err(e) => {
                tracing::warn!(job_id = %id, error = %e, "live output log unreadable; the recorded output follows");
                return;
            }
        };
        if pieces.is_empty() && wait.is_zero() {
            return;
        }
        for piece in pieces {
            match piece {
                notary_queue::OutputPiece::Data { offset, bytes, .. } => {
                    let _ = tx.send((offset, Bytes::from(bytes)));
                }
                notary_queue::OutputPiece::End { .. } => return,
            }
        }
    }
}

/// The streamed body: the id line, then stdout as it comes (each byte once: pieces of a second
/// delivery, or from both a tap and the log, are cut to what was not sent yet; a deterministic
/// guest writes the same bytes every time), then, once the job has ended, what the recorded
/// output has beyond that (everything, when nothing came live: a worker reached over HTTP).
fn live_output(
    state: Arc<AppState>,
    id: Uuid,
    rx: tokio::sync::mpsc::UnboundedReceiver<(u64, Bytes)>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    enum Phase {
        Id,
        Live,
        Recorded,
        Done,
    }
    let start = (Phase::Id, rx, 0u64, state);
    futures::stream::unfold(start, move |(phase, mut rx, sent, state)| async move {
        match phase {
            Phase::Id => Some((
                Ok(Bytes::from(format!("{id}\n"))),
                (Phase::Live, rx, sent, state),
            )),
            Phase::Live => match rx.recv().await {
                Some((offset, bytes)) => {
                    let (chunk, sent) = unsent(sent, offset, bytes);
                    Some((Ok(chunk), (Phase::Live, rx, sent, state)))
                }
                None => Some((Ok(Bytes::new()), (Phase::Recorded, rx, sent, state))),
            },
            Phase::Recorded => {
                let limit = std::time::Duration::from_secs(300);
                let text = match state.jobs.await_final(id, limit).await {
                    Ok(Some(record)) => record
                        .outcome
                        .and_then(|o| o.output_preview)
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                let rest = Bytes::from(text.into_bytes());
                let rest = if rest.len() as u64 > sent {
                    rest.slice(sent as usize..)
                } else {
                    Bytes::new()
                };
                Some((Ok(rest), (Phase::Done, rx, sent, state)))
            }
            Phase::Done => None,
        }
    })
}

/// The part of `bytes` (written at `offset`) past the `sent` bytes a client has, and how many
/// it has then. Bytes already sent are dropped; bytes past a gap (a lost piece) too, since
/// sending them would corrupt the stream (the recorded output fills it at the end).
fn unsent(sent: u64, offset: u64, bytes: Bytes) -> (Bytes, u64) {
    let end = offset + bytes.len() as u64;
    if offset <= sent && end > sent {
        (bytes.slice((sent - offset) as usize..), end)
    } else {
        (Bytes::new(), sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_sends_each_byte_once_and_in_order() {
        let b = |s: &'static str| Bytes::from_static(s.as_bytes());
        assert_eq!(unsent(0, 0, b("first\n")), (b("first\n"), 6));
        // A second delivery (or the tap and the log both) repeats what was sent.
        assert_eq!(unsent(6, 0, b("first\n")), (b(""), 6));
        assert_eq!(unsent(6, 0, b("first\nsec")), (b("sec"), 9));
        assert_eq!(unsent(9, 6, b("second\n")), (b("ond\n"), 13));
        // Past a gap: held back (the recorded output fills it).
        assert_eq!(unsent(13, 20, b("later")), (b(""), 13));
    }
}
