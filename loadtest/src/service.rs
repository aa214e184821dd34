//! The `/verify` API as a target: one `POST /verify` per job, then, when the answer is 202,
//! `GET {checkStatusAt}` until the job is final.
//!
//! The client follows no redirects and polls only paths on the same base URL, so a server
//! cannot steer the load elsewhere.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use crate::outcome::{Attempt, Class};
use crate::workload::Program;
use crate::{Error, Result};

/// First wait between polls of a 202 job; doubles up to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(10);
/// Longest wait between polls: bounds the latency a poll can add to a result.
const POLL_MAX: Duration = Duration::from_millis(200);
/// Back-off after a 429/503 that names no `Retry-After`: keeps a refusing server from being
/// hammered in a tight loop.
const DEFAULT_BACKOFF: Duration = Duration::from_millis(100);
/// Longest `Retry-After` honoured: a misbehaving server cannot park the clients for long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long the start-up check waits for any HTTP answer, per try.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);
/// Start-up tries (a server that is still binding gets a moment).
const PREFLIGHT_TRIES: u32 = 3;

/// A coordinator's `/verify` API.
#[derive(Debug)]
pub struct ServiceTarget {
    client: Client,
    base: String,
}

impl ServiceTarget {
    /// A client for `base` (e.g. `http://127.0.0.1:8402`) keeping up to `concurrency` idle
    /// connections, one per client task.
    pub fn new(base: &str, concurrency: usize) -> Result<Self> {
        let client = Client::builder()
            .pool_max_idle_per_host(concurrency)
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(ServiceTarget {
            client,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// Checks that the server answers HTTP at all (`GET /health`; any status will do).
    pub async fn preflight(&self) -> Result<()> {
        let url = format!("{}/health", self.base);
        let mut last = String::new();
        for attempt in 0..PREFLIGHT_TRIES {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            match self
                .client
                .get(&url)
                .timeout(PREFLIGHT_TIMEOUT)
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => last = error_chain(&e),
            }
        }
        Err(Error::Unreachable {
            url: self.base.clone(),
            reason: last,
        })
    }

    /// Runs one job to its final answer.
    pub async fn execute(&self, program: &Program) -> Attempt {
        let response = self
            .client
            .post(format!("{}/verify", self.base))
            .header(CONTENT_TYPE, "application/json")
            .body(program.request_body.clone())
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return transport("POST /verify", &e),
        };
        match response.status() {
            StatusCode::OK => match response.json::<Value>().await {
                Ok(body) => classify_final(&body, &program.expected_hash),
                Err(e) => transport("reading the POST /verify answer", &e),
            },
            StatusCode::ACCEPTED => {
                let body = match response.json::<Value>().await {
                    Ok(body) => body,
                    Err(e) => return transport("reading the 202 answer", &e),
                };
                let mut attempt = match self.status_url(&body) {
                    Ok(url) => self.poll(&url, &program.expected_hash).await,
                    Err(why) => Attempt::error(Class::BadResponse, why),
                };
                attempt.polled = true;
                attempt
            }
            _ => refused("POST /verify", response).await,
        }
    }

    /// The absolute URL of a 202's `checkStatusAt` (or `/verify/{jobId}`), if it is on our base.
    fn status_url(&self, accepted: &Value) -> Result<String, String> {
        let path = match (
            accepted["checkStatusAt"].as_str(),
            accepted["jobId"].as_str(),
        ) {
            (Some(path), _) => path.to_string(),
            (None, Some(id)) => format!("/verify/{id}"),
            (None, None) => return Err("202 without checkStatusAt or jobId".into()),
        };
        if path.starts_with('/') && !path.starts_with("//") {
            Ok(format!("{}{path}", self.base))
        } else if path.starts_with(&format!("{}/", self.base)) {
            Ok(path)
        } else {
            Err(format!("checkStatusAt {path:?} is not on {}", self.base))
        }
    }

    /// Polls until the job is final; the caller's timeout bounds it.
    async fn poll(&self, url: &str, expected_hash: &str) -> Attempt {
        let mut wait = POLL_FIRST;
        loop {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(POLL_MAX);
            let response = match self.client.get(url).send().await {
                Ok(r) => r,
                Err(e) => return transport("polling checkStatusAt", &e),
            };
            match response.status() {
                StatusCode::ACCEPTED => continue,
                StatusCode::OK => {
                    return match response.json::<Value>().await {
                        Ok(body) => classify_final(&body, expected_hash),
                        Err(e) => transport("reading the poll answer", &e),
                    }
                }
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    // The job is still there; only the poll was refused.
                    let pause = retry_after(&response).unwrap_or(DEFAULT_BACKOFF);
                    tokio::time::sleep(pause).await;
                }
                _ => return refused("polling checkStatusAt", response).await,
            }
        }
    }
}

/// Classifies a final (200) job body.
pub fn classify_final(body: &Value, expected_hash: &str) -> Attempt {
    match body["status"].as_str() {
        Some("completed") => match body["result"].as_str() {
            Some("VALID") => match body["actualHash"].as_str() {
                Some(actual) if !same_hash(actual, expected_hash) => Attempt::error(
                    Class::BadResponse,
                    format!("VALID but actualHash {actual} is not the expected {expected_hash}"),
                ),
                _ => Attempt::valid(),
            },
            Some(other) => Attempt::error(
                Class::Result(other.to_string()),
                summary_of(body, &format!("result {other}")),
            ),
            None => Attempt::error(Class::BadResponse, "completed without a result"),
        },
        Some("error") => {
            let code = body["errorCode"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("unknown");
            Attempt::error(
                Class::JobError(code.to_string()),
                summary_of(body, "status error"),
            )
        }
        other => Attempt::error(
            Class::BadResponse,
            format!("final answer with status {other:?}"),
        ),
    }
}

fn same_hash(a: &str, b: &str) -> bool {
    let strip = |h: &str| h.strip_prefix("0x").unwrap_or(h).to_ascii_lowercase();
    strip(a) == strip(b)
}

/// The verdict plus the server's message, if any, in one line.
fn summary_of(body: &Value, what: &str) -> String {
    match body["errorMessage"].as_str().or(body["message"].as_str()) {
        Some(msg) => format!("{what}: {}", one_line(msg)),
        None => what.to_string(),
    }
}

/// A non-success status: the class is the status, the detail the server's message.
async fn refused(what: &str, response: Response) -> Attempt {
    let status = response.status();
    let pause = if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        Some(retry_after(&response).unwrap_or(DEFAULT_BACKOFF))
    } else {
        None
    };
    let message = match response.json::<Value>().await {
        Ok(body) => body["message"]
            .as_str()
            .or(body["error"].as_str())
            .map(one_line)
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let mut attempt = Attempt::error(
        Class::Http(status.as_u16()),
        format!("{what}: {status} {message}"),
    );
    attempt.retry_after = pause;
    attempt
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Notary and is ignored).
fn retry_after(response: &Response) -> Option<std::time::Duration> {
    let secs: f64 = response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER))
}

fn transport(what: &str, e: &reqwest::Error) -> Attempt {
    let kind = if e.is_connect() {
        "connect"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    Attempt::error(
        Class::Transport(kind),
        format!("{what}: {}", error_chain(e)),
    )
}

/// The error and its sources in one line (reqwest's own message omits the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HASH: &str = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";

    #[test]
    fn completed_valid_is_valid() {
        let body = json!({"status": "completed", "result": "VALID", "actualHash": HASH});
        assert_eq!(classify_final(&body, HASH).class, Class::Valid);
        let prefixed = json!({"status": "completed", "result": "VALID", "actualHash": format!("0x{}", HASH.to_uppercase())});
        assert_eq!(classify_final(&prefixed, HASH).class, Class::Valid);
    }

    #[test]
    fn valid_with_another_hash_is_a_bad_response() {
        let body = json!({"status": "completed", "result": "VALID", "actualHash": "00".repeat(32)});
        assert_eq!(classify_final(&body, HASH).class, Class::BadResponse);
    }

    #[test]
    fn other_verdicts_and_job_errors_are_their_own_classes() {
        let invalid = json!({"status": "completed", "result": "INVALID"});
        assert_eq!(
            classify_final(&invalid, HASH).class,
            Class::Result("INVALID".into())
        );
        let failed = json!({"status": "error", "errorCode": "VM Spawn Failed", "errorMessage": "boom\nmore"});
        let attempt = classify_final(&failed, HASH);
        assert_eq!(attempt.class, Class::JobError("VM Spawn Failed".into()));
        assert_eq!(attempt.detail.as_deref(), Some("status error: boom"));
        assert_eq!(
            classify_final(&json!({"status": "running"}), HASH).class,
            Class::BadResponse
        );
    }

    #[test]
    fn status_url_stays_on_the_base() {
        let target = ServiceTarget::new("http://127.0.0.1:9/", 1).unwrap();
        assert_eq!(
            target.status_url(&json!({"checkStatusAt": "/verify/abc"})),
            Ok("http://127.0.0.1:9/verify/abc".to_string())
        );
        assert_eq!(
            target.status_url(&json!({"jobId": "abc"})),
            Ok("http://127.0.0.1:9/verify/abc".to_string())
        );
        assert!(target
            .status_url(&json!({"checkStatusAt": "http://10.0.0.1/verify/abc"}))
            .is_err());
        assert!(target
            .status_url(&json!({"checkStatusAt": "//10.0.0.1/verify/abc"}))
            .is_err());
    }
}
