//! Live output of streamed jobs run away from the coordinator that streams them: a job whose
//! spec asks for streaming (`stream`) and that has no in-process tap gets one that hands each
//! stdout write to a publisher task, which appends it to the job's output log in the queue
//! ([`Leases::append_output`]) and, when the run is over, the delivery's end.
//!
//! Writes waiting when the publisher is free go out as one piece (they are contiguous; split
//! at [`OUTPUT_PIECE_MAX`]), so a guest printing many short lines costs a few appends, not one
//! per line. A failed append
//! stops the copy (the coordinator falls back to the recorded output); it never fails or slows
//! the job beyond the append in flight.

use std::sync::Arc;

use notary_queue::{Leases, OutputPiece, OUTPUT_PIECE_MAX};
use tokio::sync::mpsc;

use crate::sandbox::OutputTap;

/// A delivery's live output being published.
pub struct Publisher {
    finish: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Publisher {
    /// Once the run is over: publishes what is left and the end, and waits for it.
    pub async fn finish(self) {
        let _ = self.finish.send(());
        let _ = self.task.await;
    }
}

/// A tap for one delivery of `job_id`, and its publisher.
pub fn tap(log: Arc<dyn Leases>, job_id: String, attempt: u32) -> (OutputTap, Publisher) {
    let (tx, rx) = mpsc::unbounded_channel::<(u64, Vec<u8>)>();
    let (finish, finished) = tokio::sync::oneshot::channel();
    let tap = OutputTap::new(move |offset, bytes| {
        let _ = tx.send((offset, bytes.to_vec()));
    });
    let task = tokio::spawn(publish(log, job_id, attempt, rx, finished));
    (tap, Publisher { finish, task })
}

async fn publish(
    log: Arc<dyn Leases>,
    job_id: String,
    attempt: u32,
    mut rx: mpsc::UnboundedReceiver<(u64, Vec<u8>)>,
    mut finished: tokio::sync::oneshot::Receiver<()>,
) {
    let mut healthy = true;
    let mut over = false;
    loop {
        let first = tokio::select! {
            biased;
            next = rx.recv() => next,
            _ = &mut finished, if !over => {
                // Every write was handed over before the run returned: drain and end.
                over = true;
                rx.try_recv().ok()
            }
        };
        let Some((offset, mut bytes)) = first else {
            if over || rx.is_closed() {
                break;
            }
            continue;
        };
        // Everything already waiting follows on from these bytes: one piece.
        while let Ok((_, more)) = rx.try_recv() {
            bytes.extend_from_slice(&more);
        }
        let mut at = offset;
        for part in bytes.chunks(OUTPUT_PIECE_MAX) {
            if !healthy {
                break;
            }
            let piece = OutputPiece::Data {
                attempt,
                offset: at,
                bytes: part.to_vec(),
            };
            at += part.len() as u64;
            if let Err(e) = log.append_output(&job_id, &piece).await {
                tracing::warn!(job_id, error = %e, "live output not published; the client gets the recorded output");
                healthy = false;
            }
        }
        if over {
            break;
        }
    }
    if healthy {
        if let Err(e) = log
            .append_output(&job_id, &OutputPiece::End { attempt })
            .await
        {
            tracing::warn!(job_id, error = %e, "end of live output not published");
        }
    }
}
