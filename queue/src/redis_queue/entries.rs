//! Decoding stream entries into jobs and intake items.

use redis::streams::{StreamId, StreamReadReply};

use super::keys::field;
use crate::{Error, IntakeItem, JobEnvelope, Result};

/// Every entry of a read's answer, stream by stream.
pub(super) fn all_entries(reply: Option<StreamReadReply>) -> Vec<StreamId> {
    reply
        .into_iter()
        .flat_map(|reply| reply.keys)
        .flat_map(|key| key.ids)
        .collect()
}

pub(super) fn malformed(entry: &StreamId, reason: impl Into<String>) -> Error {
    Error::Malformed {
        entry_id: entry.id.clone(),
        reason: reason.into(),
    }
}

pub(super) fn text(entry: &StreamId, name: &str) -> Result<String> {
    entry
        .get::<String>(name)
        .ok_or_else(|| malformed(entry, format!("missing or non-text field {name:?}")))
}

pub(super) fn number(entry: &StreamId, name: &str) -> Result<u32> {
    text(entry, name)?
        .parse()
        .map_err(|_| malformed(entry, format!("field {name:?} is not a number")))
}

pub(super) fn parse_job(entry: &StreamId, lane: u8, target: Option<String>) -> Result<JobEnvelope> {
    Ok(JobEnvelope {
        job_id: text(entry, field::JOB_ID)?,
        payload: text(entry, field::PAYLOAD)?,
        attempt: number(entry, field::ATTEMPT)?,
        lane,
        target,
    })
}

pub(super) fn parse_intake(entry: &StreamId) -> Result<IntakeItem> {
    let kind = text(entry, field::KIND)?;
    match kind.as_str() {
        field::KIND_SUBMITTED => Ok(IntakeItem::Submitted {
            job_id: text(entry, field::JOB_ID)?,
            worker: text(entry, field::WORKER)?,
            attempt: number(entry, field::ATTEMPT)?,
            payload: text(entry, field::PAYLOAD)?,
        }),
        field::KIND_DEAD_LETTERED => Ok(IntakeItem::DeadLettered {
            // Dead letters written before lanes existed have no lane: lane 0.
            job: parse_job(
                entry,
                entry
                    .get::<String>(field::LANE)
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0),
                entry.get::<String>(field::TARGET).filter(|t| !t.is_empty()),
            )?,
            reason: text(entry, field::REASON)?,
        }),
        other => Err(malformed(entry, format!("unknown intake kind {other:?}"))),
    }
}
