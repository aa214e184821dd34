//! How one job ended, as the client saw it.
//!
//! Each job ends in exactly one [`Class`]: `VALID`, or one error class. Error classes keep the
//! kinds apart that need different fixes: the server said no (`http:503`), the program's
//! verdict was not VALID (`result:INVALID`), the job itself failed (`job-error:...`), the
//! network failed (`transport:connect`), or the client gave up (`timeout`, `cancelled`).

use std::fmt;
use std::time::Duration;

/// The class of a finished job.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// The right answer: the service said VALID, or node printed the expected output.
    Valid,
    /// A verdict other than VALID (`INVALID`, `ERROR`, `TIMEOUT`); for node, `INVALID` when
    /// the output hash differs.
    Result(String),
    /// The service finished the job with status `error` (an infrastructure failure), with its
    /// error code when it gave one.
    JobError(String),
    /// A final HTTP status other than 200/202 (after 202 polling, the poll's status).
    Http(u16),
    /// No HTTP answer: `connect`, `timeout` (the HTTP client's own), `body` or `request`.
    Transport(&'static str),
    /// A 200 whose body could not be understood, or VALID with a different `actualHash`.
    BadResponse,
    /// The job did not finish within the per-job timeout.
    Timeout,
    /// The job was cut off by the run's time cap.
    Cancelled,
    /// node exited with this code (`None`: killed by a signal).
    Exit(Option<i32>),
    /// node could not be started.
    Spawn,
}

impl Class {
    /// Whether this is the right answer.
    pub fn is_valid(&self) -> bool {
        matches!(self, Class::Valid)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Class::Valid => f.write_str("VALID"),
            Class::Result(r) => write!(f, "result:{r}"),
            Class::JobError(code) => write!(f, "job-error:{code}"),
            Class::Http(status) => write!(f, "http:{status}"),
            Class::Transport(kind) => write!(f, "transport:{kind}"),
            Class::BadResponse => f.write_str("bad-response"),
            Class::Timeout => f.write_str("timeout"),
            Class::Cancelled => f.write_str("cancelled"),
            Class::Exit(Some(code)) => write!(f, "exit:{code}"),
            Class::Exit(None) => f.write_str("exit:signal"),
            Class::Spawn => f.write_str("spawn"),
        }
    }
}

/// What a target reports for one job (the driver measures the latency).
#[derive(Clone, Debug)]
pub struct Attempt {
    /// How it ended.
    pub class: Class,
    /// For errors, one line saying what happened (kept once per class as an example).
    pub detail: Option<String>,
    /// The job was answered 202 and its result fetched by polling.
    pub polled: bool,
    /// The server asked the client to wait this long before its next request (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Attempt {
    /// The right answer.
    pub fn valid() -> Self {
        Attempt {
            class: Class::Valid,
            detail: None,
            polled: false,
            retry_after: None,
        }
    }

    /// An error class with a one-line explanation.
    pub fn error(class: Class, detail: impl Into<String>) -> Self {
        Attempt {
            class,
            detail: Some(detail.into()),
            polled: false,
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_stable_report_keys() {
        assert_eq!(Class::Valid.to_string(), "VALID");
        assert_eq!(
            Class::Result("INVALID".into()).to_string(),
            "result:INVALID"
        );
        assert_eq!(Class::Http(503).to_string(), "http:503");
        assert_eq!(Class::Transport("connect").to_string(), "transport:connect");
        assert_eq!(Class::Exit(Some(1)).to_string(), "exit:1");
        assert_eq!(Class::Exit(None).to_string(), "exit:signal");
    }
}
