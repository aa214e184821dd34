//! Document 002's `GET /notary/stats`: the settled jobs' counters and the minutes served (both
//! in the [ledger](super::ledger)), and how many workers are active.
//!
//! Active workers depend on the mode ([`ActiveWorkers`]): in a fleet, the consumers of the Redis
//! job stream that read it recently (`XINFO CONSUMERS`); in the embedded mode, the in-process
//! worker slots this coordinator runs (there are no others).

use std::time::Duration;

use notary_queue::RedisLink;
use serde_json::{json, Value};

use super::Payments;
use crate::error::Result;
use crate::record::now_ms;

/// Where the number of active workers comes from.
pub enum ActiveWorkers {
    /// The consumers of the fleet's Redis job stream.
    Fleet {
        /// A connection to the fleet's Redis.
        conn: RedisLink,
        /// The job stream (`<prefix>queue:jobs`).
        stream: String,
    },
    /// The in-process worker slots of an embedded coordinator.
    InProcess(usize),
}

impl ActiveWorkers {
    /// The fleet's job-stream consumers (the connection is made on first use).
    pub fn fleet(url: &str, prefix: &str, shards: usize) -> Result<ActiveWorkers> {
        let conn = crate::redis_conn::link(url, Duration::from_secs(5))?;
        // Every lease looks at every shard, so shard 0's consumers are all the workers.
        let queue_prefix = if shards > 1 {
            notary_queue::shard_prefix(prefix, 0)
        } else {
            prefix.to_owned()
        };
        Ok(ActiveWorkers::Fleet {
            conn,
            stream: notary_queue::keys::jobs(&queue_prefix),
        })
    }

    async fn count(&self, live_within: Duration) -> usize {
        match self {
            ActiveWorkers::InProcess(slots) => *slots,
            ActiveWorkers::Fleet { conn, stream } => {
                let mut conn = conn.clone();
                let workers: redis::Value = redis::cmd("XINFO")
                    .arg("CONSUMERS")
                    .arg(stream)
                    .arg("workers")
                    .query_async(&mut conn)
                    .await
                    .unwrap_or(redis::Value::Nil);
                live_consumers(&workers, live_within)
            }
        }
    }
}

impl Payments {
    /// Document 002's `GET /notary/stats`, from the settled jobs' counters, the minutes a
    /// coordinator was serving, and the workers active within `live_within`.
    pub async fn stats(&self, live_within: Duration) -> Result<Value> {
        let c = self.ledger.counters().await?;
        let total = c.total;
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        let success = if total > 0 {
            round2(c.delivered as f64 * 100.0 / total as f64)
        } else {
            100.0
        };
        let average = if total > 0 { c.duration_ms / total } else { 0 };
        let uptime = match c.up_since {
            Some(since) => {
                let span = (now_ms() / 60_000).saturating_sub(since) + 1;
                round2((c.up_minutes as f64 * 100.0 / span as f64).min(100.0))
            }
            None => 100.0,
        };
        Ok(json!({
            "totalVerifications": total,
            "successRate": success,
            "averageDurationMs": average,
            "uptimePercentage": uptime,
            "revenueETH": format!("{:.6}", c.revenue_gwei as f64 / 1e9),
            "revenueTokenUnits": c.revenue_token_units.to_string(),
            "activeWorkers": self.workers.count(live_within).await,
            "verifierAddress": self.verifier.or(self.chain.sender()).map(|a| a.to_checksum(None)),
            "serviceVersion": env!("CARGO_PKG_VERSION"),
            "network": self.network(),
        }))
    }
}

/// Consumers of `XINFO CONSUMERS` (other than the reaper) idle for less than `within`.
fn live_consumers(v: &redis::Value, within: Duration) -> usize {
    let redis::Value::Array(consumers) = v else {
        return 0;
    };
    consumers
        .iter()
        .filter(|c| {
            let fields: Vec<&redis::Value> = match c {
                redis::Value::Array(f) => f.iter().collect(),
                redis::Value::Map(m) => m.iter().flat_map(|(k, v)| [k, v]).collect(),
                _ => return false,
            };
            let mut name = String::new();
            let mut idle = i64::MAX;
            for pair in fields.chunks(2) {
                if let [k, val] = pair {
                    let k: String = redis::from_redis_value_ref(k).unwrap_or_default();
                    match k.as_str() {
                        "name" => name = redis::from_redis_value_ref(val).unwrap_or_default(),
                        "idle" => idle = redis::from_redis_value_ref(val).unwrap_or(i64::MAX),
                        _ => {}
                    }
                }
            }
            name != "notary-reaper" && idle < within.as_millis() as i64
        })
        .count()
}
