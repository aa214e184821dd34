//! Requests per minute per client IP (source document 002: 100/min per IP, answered 429).
//!
//! A fixed one-minute window (aligned to the wall clock) per IP: simple, O(1) per request and
//! exact across replicas, at the price of allowing up to twice the limit across a window
//! boundary. In fleet mode the count is one Redis `INCR` per request on a key that expires
//! with its window, so every coordinator replica sees the same count; embedded, a map in
//! memory. If Redis does not answer within a short bound the request is let through (and
//! logged): a rate limit must never turn a Redis hiccup into an outage of its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notary_queue::link::LinkSettings;
use notary_queue::RedisLink;
use parking_lot::Mutex;

use crate::error::Result;

/// Length of a window.
const WINDOW_SECS: u64 = 60;
/// Longest a Redis count may take before the request is let through uncounted.
const REDIS_BUDGET: Duration = Duration::from_millis(250);
/// Entries kept in memory before stale windows are swept.
const SWEEP_AT: usize = 10_000;

/// What the limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Under the limit.
    Allow,
    /// Over the limit: retry after this many seconds (the end of the window).
    Limit {
        /// Seconds until the window ends (at least 1).
        retry_after_secs: u64,
    },
}

/// Per client: the window counted and the requests in it.
type Counts = HashMap<IpAddr, (u64, u32)>;

enum Backend {
    /// Counts per client, and the window of the last sweep.
    Memory(Mutex<(Counts, u64)>),
    Redis {
        conn: RedisLink,
        prefix: String,
    },
}

/// The per-IP limiter.
pub struct RateLimiter {
    limit: u32,
    backend: Backend,
}

impl RateLimiter {
    /// Counts in memory (embedded mode).
    pub fn memory(limit: u32) -> Self {
        RateLimiter {
            limit,
            backend: Backend::Memory(Mutex::new((HashMap::new(), 0))),
        }
    }

    /// Counts in Redis under `prefix` (fleet mode). Does not connect yet.
    pub fn redis(limit: u32, url: &str, prefix: &str) -> Result<Self> {
        let mut settings = LinkSettings::new(REDIS_BUDGET, REDIS_BUDGET);
        settings.retries = 0;
        let conn = crate::redis_conn::link_with(url, settings)?;
        Ok(RateLimiter {
            limit,
            backend: Backend::Redis {
                conn,
                prefix: format!("{prefix}ratelimit:"),
            },
        })
    }

    /// The limit per minute (0: off).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Counts one request from `ip` and decides.
    pub async fn check(&self, ip: IpAddr) -> Decision {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.check_at(ip, now).await
    }

    /// [`check`](Self::check) at unix time `now` (seconds).
    async fn check_at(&self, ip: IpAddr, now: u64) -> Decision {
        if self.limit == 0 {
            return Decision::Allow;
        }
        let window = now / WINDOW_SECS;
        let retry_after_secs = (WINDOW_SECS - now % WINDOW_SECS).max(1);
        let count = match &self.backend {
            Backend::Memory(map) => {
                let mut guard = map.lock();
                let (map, swept) = &mut *guard;
                // At most one sweep per window: when every client is in the current window a
                // sweep frees nothing, and repeating it would scan the map on every request.
                if map.len() >= SWEEP_AT && *swept != window {
                    map.retain(|_, (w, _)| *w == window);
                    *swept = window;
                }
                let entry = map.entry(ip).or_insert((window, 0));
                if entry.0 != window {
                    *entry = (window, 0);
                }
                entry.1 = entry.1.saturating_add(1);
                u64::from(entry.1)
            }
            Backend::Redis { conn, prefix } => {
                let key = format!("{prefix}{ip}:{window}");
                let mut conn = conn.clone();
                let counted = tokio::time::timeout(
                    REDIS_BUDGET,
                    redis::pipe()
                        .atomic()
                        .incr(&key, 1)
                        .expire(&key, (WINDOW_SECS * 2) as i64)
                        .ignore()
                        .query_async::<(u64,)>(&mut conn),
                )
                .await;
                match counted {
                    Ok(Ok((count,))) => count,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "rate limit not counted (Redis error); request let through");
                        return Decision::Allow;
                    }
                    Err(_) => {
                        tracing::warn!("rate limit not counted (Redis slow); request let through");
                        return Decision::Allow;
                    }
                }
            }
        };
        if count > u64::from(self.limit) {
            Decision::Limit { retry_after_secs }
        } else {
            Decision::Allow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_limit_counts_per_ip_and_window() {
        let limiter = RateLimiter::memory(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t = 1_800_000_010; // 10 s into a window
        for _ in 0..3 {
            assert_eq!(limiter.check_at(a, t).await, Decision::Allow);
        }
        assert_eq!(
            limiter.check_at(a, t + 5).await,
            Decision::Limit {
                retry_after_secs: 45
            }
        );
        assert_eq!(limiter.check_at(b, t).await, Decision::Allow);
        // The next window starts afresh.
        assert_eq!(limiter.check_at(a, t + 50).await, Decision::Allow);
        assert_eq!(RateLimiter::memory(0).check_at(a, t).await, Decision::Allow);
    }
}
