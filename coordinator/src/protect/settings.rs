//! Options of the protections: flags, `NOTARY_*` environment, or a `[protect]` table in the
//! TOML file.

use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use super::client_ip::IpNet;
use crate::error::{Error, Result};

/// Default requests per minute per client IP (source document 002: "100 requests per minute
/// per IP").
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 100;
/// Default breaker threshold (document 002: "Circuit breaker opens after 10 failures in 60
/// seconds").
pub const DEFAULT_BREAKER_FAILURES: u32 = 10;
/// Default unfinished verifications per agent (document 002: "Max 10 concurrent
/// verifications per agent").
pub const DEFAULT_MAX_CONCURRENT_PER_AGENT: u32 = 10;

/// Protection options as an operator sets them (all optional, merged flag > file > default).
#[derive(Args, Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProtectSettings {
    /// Requests per minute per client IP before 429 (default 100; 0 turns the limit off, e.g.
    /// for benchmarks). Counted in Redis in fleet mode, so it holds across replicas.
    #[arg(long, env = "NOTARY_RATE_LIMIT_PER_MINUTE", value_name = "N")]
    pub rate_limit_per_minute: Option<u32>,
    /// Proxies (IP or CIDR) whose `X-Forwarded-For` is believed (repeat, or comma-separate).
    /// Without it the client IP is the TCP peer and the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "NOTARY_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    #[serde(default)]
    pub trusted_proxy: Vec<String>,
    /// Infrastructure failures within the breaker window that open the breaker (default 10).
    #[arg(long, env = "NOTARY_BREAKER_FAILURES", value_name = "N")]
    pub breaker_failures: Option<u32>,
    /// The breaker's counting window in seconds (default 60).
    #[arg(long, env = "NOTARY_BREAKER_WINDOW_SECS", value_name = "SECS")]
    pub breaker_window_secs: Option<u64>,
    /// How long the breaker stays open before a half-open probe, in seconds (default 30).
    #[arg(long, env = "NOTARY_BREAKER_COOLDOWN_SECS", value_name = "SECS")]
    pub breaker_cooldown_secs: Option<u64>,
    /// Jobs waiting in the queue above which new jobs get 503 (default 10000; 0: no cap).
    #[arg(long, env = "NOTARY_MAX_QUEUE_DEPTH", value_name = "N")]
    pub max_queue_depth: Option<u64>,
    /// Jobs running in sandboxes fleet-wide above which new jobs get 503 (default 1000; 0: no
    /// cap).
    #[arg(long, env = "NOTARY_MAX_RUNNING_SANDBOXES", value_name = "N")]
    pub max_running_sandboxes: Option<u64>,
    /// Verifications one agent (client IP) may have unfinished at once before 429 (default 10;
    /// 0: no limit). Counted per coordinator replica.
    #[arg(long, env = "NOTARY_MAX_CONCURRENT_PER_AGENT", value_name = "N")]
    pub max_concurrent_per_agent: Option<u32>,
    /// Open HTTP connections at most; more are closed at once (default 10000, lowered to fit
    /// the descriptor limit).
    #[arg(long, env = "NOTARY_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Open HTTP connections at most from one client IP (default 256).
    #[arg(long, env = "NOTARY_MAX_CONNECTIONS_PER_IP", value_name = "N")]
    pub max_connections_per_ip: Option<usize>,
}

impl ProtectSettings {
    /// Fills unset fields from `file`.
    pub fn or(self, file: ProtectSettings) -> ProtectSettings {
        ProtectSettings {
            rate_limit_per_minute: self.rate_limit_per_minute.or(file.rate_limit_per_minute),
            trusted_proxy: if self.trusted_proxy.is_empty() {
                file.trusted_proxy
            } else {
                self.trusted_proxy
            },
            breaker_failures: self.breaker_failures.or(file.breaker_failures),
            breaker_window_secs: self.breaker_window_secs.or(file.breaker_window_secs),
            breaker_cooldown_secs: self.breaker_cooldown_secs.or(file.breaker_cooldown_secs),
            max_queue_depth: self.max_queue_depth.or(file.max_queue_depth),
            max_running_sandboxes: self.max_running_sandboxes.or(file.max_running_sandboxes),
            max_concurrent_per_agent: self
                .max_concurrent_per_agent
                .or(file.max_concurrent_per_agent),
            max_connections: self.max_connections.or(file.max_connections),
            max_connections_per_ip: self.max_connections_per_ip.or(file.max_connections_per_ip),
        }
    }

    /// Applies defaults and checks values.
    pub fn resolve(self) -> Result<ProtectConfig> {
        let trusted_proxies = self
            .trusted_proxy
            .iter()
            .map(|s| {
                s.parse::<IpNet>()
                    .map_err(|e| Error::Config(format!("trusted-proxy {s:?}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let breaker_failures = self.breaker_failures.unwrap_or(DEFAULT_BREAKER_FAILURES);
        if breaker_failures == 0 {
            return Err(Error::Config("breaker-failures must be at least 1".into()));
        }
        Ok(ProtectConfig {
            rate_limit_per_minute: self
                .rate_limit_per_minute
                .unwrap_or(DEFAULT_RATE_LIMIT_PER_MINUTE),
            trusted_proxies,
            breaker_failures,
            breaker_window: Duration::from_secs(self.breaker_window_secs.unwrap_or(60).max(1)),
            breaker_cooldown: Duration::from_secs(self.breaker_cooldown_secs.unwrap_or(30)),
            max_queue_depth: self.max_queue_depth.unwrap_or(10_000),
            max_running_sandboxes: self.max_running_sandboxes.unwrap_or(1_000),
            max_concurrent_per_agent: self
                .max_concurrent_per_agent
                .unwrap_or(DEFAULT_MAX_CONCURRENT_PER_AGENT),
            max_connections: self.max_connections.unwrap_or(10_000).max(1),
            max_connections_per_ip: self.max_connections_per_ip.unwrap_or(256).max(1),
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
        })
    }
}

/// Longest wait for a request's line and headers, idle keep-alive included (see
/// [`crate::http_server`]).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a whole request body may take to arrive.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The resolved protection options.
#[derive(Debug, Clone)]
pub struct ProtectConfig {
    /// Requests per minute per client IP (0: off).
    pub rate_limit_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Failures in `breaker_window` that open the breaker.
    pub breaker_failures: u32,
    /// The breaker's counting window.
    pub breaker_window: Duration,
    /// Open time before a half-open probe (tests set it in milliseconds).
    pub breaker_cooldown: Duration,
    /// Cap on waiting jobs (0: none).
    pub max_queue_depth: u64,
    /// Cap on running jobs fleet-wide (0: none).
    pub max_running_sandboxes: u64,
    /// Unfinished verifications per agent (0: no limit).
    pub max_concurrent_per_agent: u32,
    /// Open HTTP connections at most.
    pub max_connections: usize,
    /// Open HTTP connections at most per client IP.
    pub max_connections_per_ip: usize,
    /// Longest wait for a request head, idle keep-alive included (fixed; tests shorten it).
    pub header_read_timeout: Duration,
    /// Longest a whole request body may take (fixed; tests shorten it).
    pub body_read_timeout: Duration,
}

impl Default for ProtectConfig {
    fn default() -> Self {
        ProtectSettings::default()
            .resolve()
            .expect("defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::config::Settings;

    #[test]
    fn flags_and_the_protect_table_resolve() {
        let c = Settings::parse_from([
            "notary-coordinator",
            "--rate-limit-per-minute",
            "0",
            "--trusted-proxy",
            "10.0.0.0/8,127.0.0.1",
            "--breaker-cooldown-secs",
            "5",
        ])
        .resolve()
        .unwrap();
        assert_eq!(c.protect.rate_limit_per_minute, 0);
        assert_eq!(c.protect.trusted_proxies.len(), 2);
        assert_eq!(c.protect.breaker_cooldown.as_secs(), 5);
        assert_eq!(c.protect.breaker_failures, 10);

        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            file.path(),
            "[protect]\nrate-limit-per-minute = 7\nmax-queue-depth = 3\n",
        )
        .unwrap();
        let c = Settings::parse_from([
            "notary-coordinator",
            "--config",
            file.path().to_str().unwrap(),
        ])
        .with_file()
        .unwrap()
        .resolve()
        .unwrap();
        assert_eq!(c.protect.rate_limit_per_minute, 7);
        assert_eq!(c.protect.max_queue_depth, 3);
        assert_eq!(c.protect.max_running_sandboxes, 1000);
    }

    #[test]
    fn defaults_follow_document_002_and_bad_values_are_errors() {
        let c = Settings::default().resolve().unwrap();
        assert_eq!(c.protect.rate_limit_per_minute, 100);
        assert_eq!(c.protect.breaker_failures, 10);
        assert_eq!(c.protect.breaker_window.as_secs(), 60);
        assert_eq!(c.protect.max_concurrent_per_agent, 10);
        let err = Settings::parse_from(["x", "--trusted-proxy", "10.0.0.0/99"])
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("trusted-proxy"), "{err}");
        let err = Settings::parse_from(["x", "--breaker-failures", "0"])
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("breaker-failures"), "{err}");
    }
}
