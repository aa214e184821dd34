//! The one way the coordinator's Redis-backed stores connect: a lazily connecting, reconnecting
//! [`ConnectionManager`] whose commands fail within a bounded time when Redis is away.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{Error, Result};

/// A connection manager for `url` that does not touch Redis yet (the first command connects);
/// a command waits at most `response_timeout` for its answer. Fails only on a malformed URL.
pub fn manager(url: &str, response_timeout: Duration) -> Result<ConnectionManager> {
    let client = redis::Client::open(url).map_err(Error::redis)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client, config).map_err(Error::redis)
}

/// Whether the Redis at `url` is a node of a Redis Cluster (`INFO cluster`: `cluster_enabled:1`).
/// Notary's stores and queue speak to one Redis: a Cluster node answers most of their keys with
/// `MOVED`, which would turn every job into a 503, so a coordinator refuses one at start.
pub async fn is_cluster_node(url: &str) -> Result<bool> {
    let mut conn = manager(url, Duration::from_secs(2))?;
    let info: String = redis::cmd("INFO")
        .arg("cluster")
        .query_async(&mut conn)
        .await
        .map_err(Error::redis)?;
    Ok(info.lines().any(|l| l.trim() == "cluster_enabled:1"))
}

/// The error a coordinator pointed at a Cluster node stops with.
pub fn cluster_refused(redacted_url: &str) -> Error {
    Error::Config(format!(
        "{redacted_url} is a Redis Cluster node; Notary needs one Redis per fleet (a primary, \
         with replicas if you like). Redis Cluster is not supported yet: shard by running \
         separate fleets with their own --redis"
    ))
}
