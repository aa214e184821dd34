//! Live output logs: one stream per streamed job (`keys::output`), appended by the worker that
//! runs it and read by the coordinator that streams it to a client.

use std::time::Duration;

use redis::streams::{StreamId, StreamReadReply};

use super::entries::{malformed, number, text};
use super::keys::{self, field};
use super::{millis, RedisQueue};
use crate::{OutputPiece, Result, OUTPUT_LOG_PIECES, OUTPUT_TTL};

/// Pieces one read returns at most.
const READ_COUNT: usize = 256;

impl RedisQueue {
    /// XADD of one piece and the log's new expiry, in one round trip.
    pub(super) async fn append_piece(&self, job_id: &str, piece: &OutputPiece) -> Result<()> {
        let key = keys::output(&self.config.key_prefix, job_id);
        let mut pipe = redis::pipe();
        pipe.atomic();
        let add = pipe
            .cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(OUTPUT_LOG_PIECES)
            .arg("*");
        match piece {
            OutputPiece::Data {
                attempt,
                offset,
                bytes,
            } => add
                .arg(field::KIND)
                .arg(field::KIND_DATA)
                .arg(field::ATTEMPT)
                .arg(attempt)
                .arg(field::OFFSET)
                .arg(offset)
                .arg(field::BYTES)
                .arg(bytes.as_slice()),
            OutputPiece::End { attempt } => add
                .arg(field::KIND)
                .arg(field::KIND_END)
                .arg(field::ATTEMPT)
                .arg(attempt),
        }
        .ignore();
        pipe.cmd("PEXPIRE")
            .arg(&key)
            .arg(millis(OUTPUT_TTL))
            .ignore();
        self.call("append output", move |mut conn| {
            let pipe = pipe.clone();
            async move { pipe.query_async::<()>(&mut conn).await }
        })
        .await
    }

    /// XREAD past `cursor` (blocking up to `wait` on a dedicated connection).
    pub(super) async fn read_pieces(
        &self,
        job_id: &str,
        cursor: &str,
        wait: Duration,
    ) -> Result<(Vec<OutputPiece>, String)> {
        let key = keys::output(&self.config.key_prefix, job_id);
        let from = if cursor.is_empty() { "0-0" } else { cursor };
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT").arg(READ_COUNT);
        // BLOCK 0 would mean "forever": a zero wait is a plain read.
        if !wait.is_zero() {
            cmd.arg("BLOCK").arg(millis(wait).max(1));
        }
        cmd.arg("STREAMS").arg(&key).arg(from);
        let reply: Option<StreamReadReply> = if wait.is_zero() {
            self.query("read output", &cmd).await?
        } else {
            self.blocking_read("read output", &cmd, wait).await?
        };
        let entries: Vec<StreamId> = reply
            .and_then(|r| r.keys.into_iter().next())
            .map(|k| k.ids)
            .unwrap_or_default();
        let next = entries
            .last()
            .map_or_else(|| from.to_string(), |e| e.id.clone());
        let pieces = entries.iter().map(parse_piece).collect::<Result<_>>()?;
        Ok((pieces, next))
    }
}

fn parse_piece(entry: &StreamId) -> Result<OutputPiece> {
    let attempt = number(entry, field::ATTEMPT)?;
    match text(entry, field::KIND)?.as_str() {
        field::KIND_END => Ok(OutputPiece::End { attempt }),
        field::KIND_DATA => Ok(OutputPiece::Data {
            attempt,
            offset: text(entry, field::OFFSET)?
                .parse()
                .map_err(|_| malformed(entry, "field \"offset\" is not a number"))?,
            bytes: entry
                .get::<Vec<u8>>(field::BYTES)
                .ok_or_else(|| malformed(entry, "missing field \"bytes\""))?,
        }),
        other => Err(malformed(entry, format!("unknown output kind {other:?}"))),
    }
}
