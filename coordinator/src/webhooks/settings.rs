//! Webhook options: flags, `NOTARY_*` environment, or a `[webhooks]` table in the TOML file.

use std::time::Duration;

use clap::Args;
use ipnet::IpNet;
use serde::Deserialize;

use crate::error::{Error, Result};

/// The Standard Webhooks retry schedule: the delay before each attempt (the first at once).
pub const DEFAULT_SCHEDULE: &str = "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h";
/// Default limit on one attempt (issue 10: 15 s).
pub const DEFAULT_TIMEOUT_MS: u64 = 15_000;

/// Webhook options as an operator sets them (merged flag > file > default).
#[derive(Args, Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WebhookSettings {
    /// Delay before each delivery attempt, comma-separated (`ms`, `s`, `m`, `h`); the number of
    /// entries is the number of attempts (default the Standard Webhooks schedule
    /// `0s,5s,5m,30m,2h,5h,10h,14h,20h,24h`).
    #[arg(long, env = "NOTARY_WEBHOOK_RETRY_SCHEDULE", value_name = "LIST")]
    pub webhook_retry_schedule: Option<String>,
    /// A network (CIDR) webhooks may reach although it is private, loopback or link-local
    /// (repeat, or comma-separate). By default only public addresses are reached.
    #[arg(
        long = "webhook-allow-network",
        env = "NOTARY_WEBHOOK_ALLOW_NETWORKS",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    #[serde(default)]
    pub webhook_allow_network: Vec<String>,
    /// Limit on one delivery attempt, connect to response (ms, default 15000).
    #[arg(long, env = "NOTARY_WEBHOOK_TIMEOUT_MS", value_name = "MS")]
    pub webhook_timeout_ms: Option<u64>,
}

impl WebhookSettings {
    /// These settings over `file`'s.
    pub fn or(self, file: WebhookSettings) -> WebhookSettings {
        WebhookSettings {
            webhook_retry_schedule: self.webhook_retry_schedule.or(file.webhook_retry_schedule),
            webhook_allow_network: if self.webhook_allow_network.is_empty() {
                file.webhook_allow_network
            } else {
                self.webhook_allow_network
            },
            webhook_timeout_ms: self.webhook_timeout_ms.or(file.webhook_timeout_ms),
        }
    }

    /// Applies defaults and checks values.
    pub fn resolve(self) -> Result<WebhookConfig> {
        let schedule = parse_schedule(
            self.webhook_retry_schedule
                .as_deref()
                .unwrap_or(DEFAULT_SCHEDULE),
        )?;
        let allow = self
            .webhook_allow_network
            .iter()
            .map(|s| parse_network(s.trim()))
            .collect::<Result<Vec<_>>>()?;
        let timeout = Duration::from_millis(self.webhook_timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS));
        if timeout < Duration::from_millis(100) || timeout > Duration::from_secs(60) {
            return Err(Error::Config(
                "webhook-timeout-ms must be between 100 and 60000".into(),
            ));
        }
        Ok(WebhookConfig {
            schedule,
            allow,
            timeout,
        })
    }
}

/// The resolved webhook options.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// Delay before each attempt; its length is the number of attempts.
    pub schedule: Vec<Duration>,
    /// Networks reachable although not public.
    pub allow: Vec<IpNet>,
    /// Limit on one attempt.
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookSettings::default()
            .resolve()
            .expect("defaults are valid")
    }
}

/// `0s,5s,5m` as durations.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>> {
    let bad = |item: &str| {
        Error::Config(format!(
            "webhook-retry-schedule: {item:?} is not a duration like 0s, 250ms, 5m or 2h"
        ))
    };
    let schedule = text
        .split(',')
        .map(|item| {
            let item = item.trim();
            let split = item
                .find(|c: char| !c.is_ascii_digit())
                .ok_or_else(|| bad(item))?;
            let (n, unit) = item.split_at(split);
            let n: u64 = n.parse().map_err(|_| bad(item))?;
            let ms = match unit {
                "ms" => n,
                "s" => n * 1000,
                "m" => n * 60_000,
                "h" => n * 3_600_000,
                _ => return Err(bad(item)),
            };
            Ok(Duration::from_millis(ms))
        })
        .collect::<Result<Vec<_>>>()?;
    if schedule.is_empty() || schedule.len() > 50 {
        return Err(Error::Config(
            "webhook-retry-schedule needs 1 to 50 entries".into(),
        ));
    }
    Ok(schedule)
}

/// A CIDR, or a single address as its /32 or /128.
fn parse_network(s: &str) -> Result<IpNet> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| Error::Config(format!("webhook-allow-network: {s:?} is not a CIDR")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_standard_webhooks() {
        let c = WebhookConfig::default();
        assert_eq!(c.schedule.len(), 10);
        assert_eq!(c.schedule[0], Duration::ZERO);
        assert_eq!(c.schedule[2], Duration::from_secs(300));
        assert_eq!(c.schedule[9], Duration::from_secs(86_400));
        assert_eq!(c.timeout, Duration::from_secs(15));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse_schedule("0s,5x").is_err());
        assert!(parse_schedule("").is_err());
        assert_eq!(
            parse_schedule("0s, 200ms").unwrap(),
            vec![Duration::ZERO, Duration::from_millis(200)]
        );
        let s = WebhookSettings {
            webhook_allow_network: vec!["nope".into()],
            ..Default::default()
        };
        assert!(s.resolve().is_err());
    }
}
