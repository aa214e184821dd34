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
