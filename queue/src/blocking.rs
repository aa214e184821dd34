//! [`BlockingPool`]: connections of their own for blocking reads (`XREADGROUP ... BLOCK`), the
//! one way any Notary process runs them (the queue's leases and intake, the coordinator's
//! event log).
//!
//! A blocking command holds its connection for the whole block time, so it cannot share the
//! multiplexed `ConnectionManager` connection: it would stall every other command behind it
//! (two blocking reads on one connection run one after the other, and the second one's answer
//! can come after its caller gave up, with what it read lost to it), and the redis crate's
//! default 500 ms response timeout would cut it short. Each blocking read therefore takes a
//! connection of its own from this pool: response timeout disabled (the call is bounded as a
//! whole instead), connect timeout kept. Concurrent reads each get their own connection; a
//! connection that errored or timed out is dropped (its state is unknown), and at most
//! `max_idle` idle ones are kept. On a Redis Cluster each is a cluster connection of its own
//! ([`RedisLink::dedicated`]).
//!
//! Not `deadpool-redis`: its pool checks every connection out with an `UNWATCH` + `PING` round
//! trip, one more round trip per blocking lease, where a connection that failed is simply not put
//! back here.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{Cmd, FromRedisValue, RedisError};

use crate::link::{RedisConn, RedisLink};
use crate::{Error, Result};

/// Dedicated connections for blocking reads over one [`RedisLink`] (see the module docs).
pub struct BlockingPool {
    link: RedisLink,
    idle: Mutex<Vec<RedisConn>>,
    max_idle: usize,
}

/// A connection taken from the pool, and whether it was reused (a reused one may have died
/// with a Redis restart since it was last used; a fresh one has not).
struct Taken {
    conn: RedisConn,
    reused: bool,
}

impl BlockingPool {
    /// A pool over `link` keeping at most `max_idle` idle connections.
    pub fn new(link: RedisLink, max_idle: usize) -> Self {
        Self {
            link,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// Runs `cmd` (a blocking read) on a connection of its own, bounded by `bound` as a whole
    /// (its block time plus the time an answer may take): [`Error::Timeout`] naming
    /// `operation` past it. A reused connection that turns out dead (Redis restarted since it
    /// was last used) is replaced once; after a connection error the idle ones are dropped too.
    pub async fn query<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: &Cmd,
        bound: Duration,
    ) -> Result<T> {
        let mut stale_replaced = false;
        loop {
            let Taken { mut conn, reused } = self.take().await?;
            let result = match tokio::time::timeout(bound, cmd.query_async::<T>(&mut conn)).await {
                Ok(result) => result,
                // The connection is dropped here: its state is unknown.
                Err(_) => {
                    return Err(Error::Timeout {
                        operation,
                        after: bound,
                    })
                }
            };
            match result {
                Ok(value) => {
                    self.put_back(conn);
                    return Ok(value);
                }
                Err(e) if is_connection_error(&e) => {
                    self.clear();
                    if reused && !stale_replaced {
                        stale_replaced = true;
                        continue;
                    }
                    return Err(e.into());
                }
                // An answer (e.g. NOGROUP): the connection is fine.
                Err(e) => {
                    self.put_back(conn);
                    return Err(e.into());
                }
            }
        }
    }

    /// An idle connection, or a new one (bounded by the connect timeout).
    async fn take(&self) -> Result<Taken> {
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
    fn put_back(&self, conn: RedisConn) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    /// Drops every idle connection (after a connection error: they probably died together).
    fn clear(&self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// `XREADGROUP GROUP <group> <consumer> COUNT <count> [BLOCK <wait>] STREAMS <streams>`: the
/// caller appends one id per stream (`>` for entries never handed out). A zero wait is a plain
/// read (`BLOCK 0` would mean "forever"); a blocking one goes through [`BlockingPool::query`].
pub fn read_group(
    group: &str,
    consumer: &str,
    count: usize,
    wait: Duration,
    streams: &[&str],
) -> Cmd {
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP")
        .arg(group)
        .arg(consumer)
        .arg("COUNT")
        .arg(count.max(1));
    if !wait.is_zero() {
        let millis = wait.as_millis().clamp(1, u64::MAX as u128) as u64;
        cmd.arg("BLOCK").arg(millis);
    }
    cmd.arg("STREAMS").arg(streams);
    cmd
}

/// Errors after which a connection is not worth reusing.
pub fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}
