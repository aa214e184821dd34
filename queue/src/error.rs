//! The crate's one error type.

use std::time::Duration;

/// Everything a queue operation can fail with.
///
/// Callers mostly need one distinction: [`Error::is_unavailable`] says the backend could not be
/// reached (back off, retry, report not-ready); anything else is a bug or bad input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),

    /// Redis did not answer in time (it is down, unreachable or overloaded). Every Redis call is
    /// bounded so that callers never hang on a dead backend.
    #[error("redis did not answer {operation} within {after:?}")]
    Timeout {
        /// The queue operation that timed out.
        operation: &'static str,
        /// How long it waited.
        after: Duration,
    },

    /// A stream entry is missing a field or has one of the wrong shape. Only this crate writes
    /// the queue's streams, so this means someone else wrote to them.
    #[error("malformed queue entry {entry_id}: {reason}")]
    Malformed {
        /// The stream entry id.
        entry_id: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The caller passed a value the queue refuses (e.g. an empty or reserved worker name).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A coordinator reached over HTTP (a remote worker's [`Leases`](crate::Leases)) could not
    /// be reached, or failed: transient, like a Redis that is away.
    #[error("coordinator: {0}")]
    Remote(String),
}

impl Error {
    /// True when the backend could not be reached or did not answer in time: a transient
    /// condition worth retrying after a back-off, and a reason to report not-ready.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::Redis(e) => {
                e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
            }
            Error::Remote(_) => true,
            Error::Malformed { .. } | Error::InvalidArgument(_) => false,
        }
    }

    /// The same failure for another caller that shared the call (e.g. one pipeline of several
    /// callers' acknowledgements): a timeout as it was, anything else as an I/O error carrying
    /// this one's text (the redis crate's errors cannot be cloned; the acknowledgements' callers
    /// only log a failure, and an unacknowledged item is handed out again anyway).
    pub(crate) fn again(&self) -> Error {
        match self {
            Error::Timeout { operation, after } => Error::Timeout {
                operation,
                after: *after,
            },
            other => Error::Redis(redis::RedisError::from(std::io::Error::other(
                other.to_string(),
            ))),
        }
    }
}

/// Result of every queue operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
