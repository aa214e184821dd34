//! Seats from `GET /assignments/stream` (issue 12): one server-sent event stream per worker
//! process (`notary-worker --coordinator URL --stream`) instead of one long poll per slot.
//!
//! A task keeps the stream open: it connects with the process's worker id and `slots` (the
//! process's concurrency, so the coordinator never sends more seats than the slots can run),
//! reads `assignment` events into a queue the slots take from, and reconnects when the stream
//! ends (`end` event: the coordinator is draining, or the claim moved) or breaks (no byte for
//! [`IDLE_LIMIT`], although the coordinator comments every 10 s), backing off up to 10 s on
//! failures such as `409 stream_open` (the previous connection's claim not yet let go).

use std::time::Duration;

use notary_queue::{Error, Lease, Result};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

use crate::remote::{Assignment, Coordinator};

/// A stream that sent nothing (not even its keep-alive comment) for this long is dead.
pub const IDLE_LIMIT: Duration = Duration::from_secs(30);
/// Longest pause between reconnects.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The seats of one stream, for the process's slots.
pub struct SeatStream {
    seats: Mutex<mpsc::Receiver<Assignment>>,
    task: JoinHandle<()>,
}

impl Drop for SeatStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SeatStream {
    /// Opens (and keeps open) the stream of `worker_id` with `slots` seats at most.
    pub fn start(coordinator: Coordinator, worker_id: &str, slots: usize) -> SeatStream {
        let (tx, rx) = mpsc::channel(slots.max(1));
        let task = tokio::spawn(feed(coordinator, worker_id.to_string(), slots.max(1), tx));
        SeatStream {
            seats: Mutex::new(rx),
            task,
        }
    }

    /// The next seat for the slot `worker`, waiting up to `wait`.
    pub async fn next(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        let next = tokio::time::timeout(wait, async { self.seats.lock().await.recv().await });
        match next.await {
            Ok(Some(seat)) => Ok(Some(seat.into_lease(worker, identity))),
            Ok(None) => Err(Error::Remote("the assignment stream stopped".into())),
            Err(_) => Ok(None),
        }
    }
}

async fn feed(
    coordinator: Coordinator,
    worker_id: String,
    slots: usize,
    tx: mpsc::Sender<Assignment>,
) {
    let mut backoff = Duration::from_millis(250);
    while !tx.is_closed() {
        match read(&coordinator, &worker_id, slots, &tx).await {
            Ok(reason) => {
                tracing::info!(reason, "assignment stream ended; reconnecting");
                backoff = Duration::from_millis(250);
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "assignment stream failed; reconnecting");
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        tokio::time::sleep(backoff).await;
    }
}

/// One connection: its seats go to `tx` until it ends (`Ok` with the reason) or fails.
async fn read(
    coordinator: &Coordinator,
    worker_id: &str,
    slots: usize,
    tx: &mpsc::Sender<Assignment>,
) -> std::result::Result<String, String> {
    let path = format!("/assignments/stream?slots={slots}");
    let mut resp = coordinator
        .request(reqwest::Method::GET, &path, None, Some(worker_id))?
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    if status != 200 {
        let body = resp.text().await.unwrap_or_default();
        return Err(format!(
            "GET /assignments/stream: HTTP {status}: {}",
            &body[..body.len().min(300)]
        ));
    }
    tracing::info!(worker_id, slots, "assignment stream open");
    let mut events = EventParser::default();
    loop {
        let chunk = tokio::time::timeout(IDLE_LIMIT, resp.chunk())
            .await
            .map_err(|_| format!("nothing for {IDLE_LIMIT:?}"))?
            .map_err(|e| e.to_string())?;
        let Some(chunk) = chunk else {
            return Ok("closed".into());
        };
        for (event, data) in events.push(&chunk) {
            match event.as_str() {
                "assignment" => {
                    let seat: Assignment = serde_json::from_str(&data)
                        .map_err(|e| format!("assignment event: {e}"))?;
                    if tx.send(seat).await.is_err() {
                        return Ok("stopping".into());
                    }
                }
                "end" => return Ok(data),
                _ => {}
            }
        }
    }
}

/// Splits a `text/event-stream` into `(event, data)` pairs (comments and ids skipped; several
/// `data:` lines joined with newlines, as the format says).
#[derive(Default)]
pub struct EventParser {
    buffer: Vec<u8>,
    event: String,
    data: Vec<String>,
}

impl EventParser {
    /// Feeds bytes; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        // Bytes until a whole line: a character split across chunks stays whole.
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    let event = std::mem::take(&mut self.event);
                    let event = if event.is_empty() {
                        "message".to_string()
                    } else {
                        event
                    };
                    out.push((event, self.data.join("\n")));
                }
                self.event.clear();
                self.data.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.event = value.to_string(),
                "data" => self.data.push(value.to_string()),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::EventParser;

    #[test]
    fn events_are_split_across_chunks_and_comments_skipped() {
        let mut p = EventParser::default();
        assert!(p.push(b": keep-alive\n\nevent: assign").is_empty());
        let snowman = "data: \u{2603}\n\n".as_bytes();
        let (head, tail) = snowman.split_at(7);
        assert!(p.push(b"ment\nid: a1\n").is_empty());
        let mut got = p.push(b"data: {\"x\":1}\n\ndata: one\r\ndata: two\r\n\r\n");
        assert!(p.push(head).is_empty());
        got.extend(p.push(tail));
        assert_eq!(
            got,
            vec![
                ("assignment".to_string(), "{\"x\":1}".to_string()),
                ("message".to_string(), "one\ntwo".to_string()),
                ("message".to_string(), "\u{2603}".to_string()),
            ]
        );
    }
}
