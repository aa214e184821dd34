//! The one way the coordinator's Redis-backed stores connect: a lazily connecting, reconnecting
//! [`RedisLink`] (a plain Redis or any node of a Redis Cluster) whose commands fail within a
//! bounded time when Redis is away.

use std::time::Duration;

use notary_queue::link::LinkSettings;
use notary_queue::RedisLink;

use crate::error::{Error, Result};

/// A link to `url` that does not touch Redis yet (the first command connects); a command waits
/// at most `response_timeout` for its answer. Fails only on a malformed URL.
pub fn link(url: &str, response_timeout: Duration) -> Result<RedisLink> {
    link_with(
        url,
        LinkSettings::new(Duration::from_secs(2), response_timeout),
    )
}

/// [`link`] with settings of its own.
pub fn link_with(url: &str, settings: LinkSettings) -> Result<RedisLink> {
    RedisLink::new_lazy(url, settings).map_err(Error::redis)
}
