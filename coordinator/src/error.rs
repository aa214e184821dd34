//! The coordinator's internal errors: [`Error`] for what fails inside, [`Rejected`] for a
//! request refused before any work (which field, which bound). The API turns both into its
//! answers (the API's error module); nothing here knows about HTTP.

use serde_json::{json, Value};

/// Internal failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Redis refused or could not be reached.
    #[error("redis: {0}")]
    Redis(String),
    /// The queue backend failed.
    #[error("queue: {0}")]
    Queue(#[from] notary_queue::Error),
    /// A stored value could not be (de)serialized.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// The sandbox or worker pool could not start.
    #[error("worker: {0}")]
    Worker(String),
    /// The chain (RPC, signing, a reverted transaction).
    #[error("chain: {0}")]
    Chain(String),
    /// I/O.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The embedded database (SQLite) failed.
    #[error("store: {0}")]
    Store(String),
}

impl Error {
    /// Wraps a redis error (the redis crate's error is not `Clone` and too verbose to keep).
    pub fn redis(e: redis::RedisError) -> Self {
        Error::Redis(e.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A request refused before any work: a field that is wrong, or too large.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejected {
    /// Invalid body or parameters.
    Invalid {
        /// What is wrong, for a person.
        message: String,
        /// Machine-readable details (which field, which bound).
        params: Value,
    },
    /// Body, code or module too large.
    TooLarge {
        /// What was too large.
        message: String,
        /// The limit and the size seen.
        params: Value,
    },
    /// The service cannot do it now (not enough eligible workers for a jury).
    Unavailable {
        /// Why, for a person.
        message: String,
        /// `reason` and details.
        params: Value,
    },
    /// The request clashes with the job's state (escalating a job that is not escalated).
    Conflict {
        /// Why, for a person.
        message: String,
        /// `reason` and details.
        params: Value,
    },
}

impl Rejected {
    /// Invalid: one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Rejected::Invalid {
            message: message.into(),
            params: json!({ "field": field }),
        }
    }

    /// Invalid: one field, with extra parameters.
    pub fn field_with(field: &str, message: impl Into<String>, mut params: Value) -> Self {
        if let Value::Object(map) = &mut params {
            map.insert("field".into(), Value::String(field.into()));
        }
        Rejected::Invalid {
            message: message.into(),
            params,
        }
    }
}
