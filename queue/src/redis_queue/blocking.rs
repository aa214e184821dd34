//! Dedicated connections for blocking reads (`XREADGROUP ... BLOCK`).
//!
//! A blocking command holds its connection for the whole block time, so it cannot share the
//! multiplexed `ConnectionManager` connection (it would stall every other command behind it),
//! and the redis crate's default 500 ms response timeout would cut it short. Each blocking read
//! therefore takes a connection of its own from this pool: response timeout disabled (the caller
//! bounds the whole call with `tokio::time::timeout` instead), connect timeout kept. Concurrent
//! `lease` calls each get their own connection; a connection that errored or timed out is dropped
//! (its state is unknown), and at most `max_idle` idle ones are kept. On a Redis Cluster each is
//! a cluster connection of its own ([`RedisLink::dedicated`]).
//!
//! Not `deadpool-redis`: its pool checks every connection out with an `UNWATCH` + `PING` round
//! trip, one more round trip per blocking lease, where a connection that failed is simply not put
//! back here.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::link::{RedisConn, RedisLink};
use crate::{Error, Result};

pub(crate) struct BlockingPool {
    link: RedisLink,
    idle: Mutex<Vec<RedisConn>>,
    max_idle: usize,
}

/// A connection taken from the pool, and whether it was reused (a reused one may have died
/// with a Redis restart since it was last used; a fresh one has not).
pub(crate) struct Taken {
    pub conn: RedisConn,
    pub reused: bool,
}

impl BlockingPool {
    pub fn new(link: RedisLink, max_idle: usize) -> Self {
        Self {
            link,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// An idle connection, or a new one (bounded by the connect timeout).
    pub async fn take(&self) -> Result<Taken> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(conn) = reused {
            return Ok(Taken { conn, reused: true });
        }
        let connect = self.link.dedicated();
        // The redis crate applies the connect timeout per address; bound the whole thing too.
        let bound = self.link.settings().connect_timeout + Duration::from_millis(250);
        match tokio::time::timeout(bound, connect).await {
            Ok(conn) => Ok(Taken {
                conn: conn?,
                reused: false,
            }),
            Err(_) => Err(Error::Timeout {
                operation: "connect",
                after: bound,
            }),
        }
    }

    /// Returns a connection that finished its command cleanly.
    pub fn put_back(&self, conn: RedisConn) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    /// Drops every idle connection (after a connection error: they probably died together).
    pub fn clear(&self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
