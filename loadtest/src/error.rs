//! The load tool's errors: only what stops a run before it starts or its outputs from being
//! written. A job that fails is an outcome to count ([`crate::outcome::Class`]), never an error.

/// Why the tool could not run or could not write its outputs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something impossible.
    #[error("usage: {0}")]
    Usage(String),
    /// The service did not answer at all before the run (connection refused, DNS, time-out).
    #[error("the service at {url} is unreachable: {reason}")]
    Unreachable {
        /// The base URL that was tried.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
    /// Writing an output file.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Serializing the report.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// The process exit code for this error: 2 for usage (as clap uses), 3 for an unreachable
    /// service, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Unreachable { .. } => 3,
            _ => 1,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
