//! [`RedisLink`]: the one way every Notary process talks to Redis, whether `--redis` names a
//! plain Redis (a primary) or any node of a Redis Cluster.
//!
//! A link is built without touching Redis. Its first command asks the node `INFO cluster`:
//! a plain Redis gets the redis crate's reconnecting [`ConnectionManager`]; a Cluster node gets
//! a cluster-aware [`ClusterConnection`] seeded with that node, which learns the slot map,
//! follows `MOVED`/`ASK` and refreshes the map when a replica is promoted. Until the first
//! probe succeeds every command fails (bounded by the connect timeout) and the next one probes
//! again, so a process may start before its Redis.
//!
//! Notary's scripts and pipelines touch several keys at once, which a Cluster allows only
//! inside one hash slot: on a Cluster every key prefix must carry a hash tag (`{notary}:`;
//! [`has_hash_tag`]), which the coordinator and the worker check at start
//! ([`cluster_prefix_error`]).
//!
//! Blocking reads (`XREADGROUP ... BLOCK`) must not share a multiplexed connection with other
//! commands: [`RedisLink::dedicated`] opens a connection of their own (a direct one, or a
//! cluster connection of its own), without a response timeout.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, Pipeline, RedisFuture, RedisResult, Value};
use tokio::sync::OnceCell;

/// How a link connects and how long it waits.
#[derive(Debug, Clone, Copy)]
pub struct LinkSettings {
    /// Bound on opening one connection (and on the first `INFO cluster` probe).
    pub connect_timeout: Duration,
    /// Bound on one answer; `None` for connections that block on purpose.
    pub response_timeout: Option<Duration>,
    /// How often a command is retried after a connection error (cluster: after a `MOVED`
    /// storm or a failover too).
    pub retries: usize,
    /// Longest pause between two reconnection attempts.
    pub max_delay: Duration,
}

impl LinkSettings {
    /// `connect_timeout` to connect, `response_timeout` per answer, 2 retries, 500 ms between
    /// reconnection attempts at most.
    pub fn new(connect_timeout: Duration, response_timeout: Duration) -> Self {
        Self {
            connect_timeout,
            response_timeout: Some(response_timeout),
            retries: 2,
            max_delay: Duration::from_millis(500),
        }
    }
}

/// A lazily resolved connection to a Redis or a Redis Cluster. Cheap to clone (clones share
/// the connection); implements [`ConnectionLike`], so commands, pipelines and scripts run on
/// it as on any redis-crate connection.
#[derive(Clone)]
pub struct RedisLink {
    shared: Arc<Shared>,
}

struct Shared {
    client: Client,
    settings: LinkSettings,
    resolved: OnceCell<RedisConn>,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink")
            .field(
                "cluster",
                &self
                    .shared
                    .resolved
                    .get()
                    .map(|c| matches!(c, RedisConn::Cluster(_))),
            )
            .finish_non_exhaustive()
    }
}

/// A resolved connection of one of the kinds a link uses.
#[derive(Clone)]
pub enum RedisConn {
    /// A plain Redis: the reconnecting, multiplexed connection manager.
    Manager(ConnectionManager),
    /// A plain Redis: one direct multiplexed connection (blocking reads).
    Direct(MultiplexedConnection),
    /// A Redis Cluster: connections to its nodes, routed by slot.
    Cluster(ClusterConnection),
}

impl RedisLink {
    /// A link to `url` that does not touch Redis yet. Fails only on a malformed URL.
    pub fn new_lazy(url: &str, settings: LinkSettings) -> RedisResult<Self> {
        Ok(Self {
            shared: Arc::new(Shared {
                client: Client::open(url)?,
                settings,
                resolved: OnceCell::new(),
            }),
        })
    }

    /// The settings the link was built with.
    pub fn settings(&self) -> LinkSettings {
        self.shared.settings
    }

    /// The redis-crate client of the node the link was given (pub/sub subscribers use it).
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Whether the node is part of a Redis Cluster (probes it if no command has yet).
    pub async fn is_cluster(&self) -> RedisResult<bool> {
        Ok(matches!(self.resolve().await?, RedisConn::Cluster(_)))
    }

    /// The shared connection, resolving it on first use.
    pub async fn resolve(&self) -> RedisResult<RedisConn> {
        self.shared
            .resolved
            .get_or_try_init(|| async {
                let client = &self.shared.client;
                let settings = self.shared.settings;
                if probe_cluster(client, &settings).await? {
                    let seed = client.get_connection_info().clone();
                    return self.open_cluster(vec![seed], settings).await;
                }
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(settings.connect_timeout))
                    .set_response_timeout(settings.response_timeout)
                    .set_number_of_retries(settings.retries)
                    .set_max_delay(settings.max_delay);
                let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
                Ok(RedisConn::Manager(manager))
            })
            .await
            .cloned()
    }

    /// A connection of its own (not shared with other commands) for a blocking command: no
    /// response timeout (the caller bounds the call), the link's connect timeout.
    pub async fn dedicated(&self) -> RedisResult<RedisConn> {
        let cluster = matches!(self.resolve().await?, RedisConn::Cluster(_));
        let settings = LinkSettings {
            response_timeout: None,
            ..self.shared.settings
        };
        if cluster {
            // Seeded with every live node, not only the link's own: that one may have failed.
            let seeds = self
                .nodes()
                .await?
                .iter()
                .filter_map(|(host, port)| self.client_for(host, *port).ok())
                .map(|c| c.get_connection_info().clone())
                .collect();
            self.open_cluster(seeds, settings).await
        } else {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(settings.connect_timeout))
                .set_response_timeout(None);
            let conn = self
                .shared
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            Ok(RedisConn::Direct(conn))
        }
    }

    /// Addresses (`host:port`) of the cluster's nodes that are not marked failed (`CLUSTER
    /// NODES` through the shared connection, which follows failovers); for a plain Redis, the
    /// link's own node.
    pub async fn nodes(&self) -> RedisResult<Vec<(String, u16)>> {
        let mut conn = self.resolve().await?;
        if !matches!(conn, RedisConn::Cluster(_)) {
            return Ok(self.own_node().into_iter().collect());
        }
        let text: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async(&mut conn)
            .await?;
        let mut nodes = Vec::new();
        for line in text.lines() {
            // `<id> <ip:port@cport[,hostname]> <flags> ...`
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(addr), Some(flags)) = (fields.get(1), fields.get(2)) else {
                continue;
            };
            if flags
                .split(',')
                .any(|f| matches!(f, "fail" | "fail?" | "noaddr" | "handshake"))
            {
                continue;
            }
            let addr = addr.split(['@', ',']).next().unwrap_or_default();
            if let Some((host, port)) = addr.rsplit_once(':') {
                if let Ok(port) = port.parse::<u16>() {
                    if !host.is_empty() {
                        nodes.push((host.to_string(), port));
                    }
                }
            }
        }
        if nodes.is_empty() {
            nodes.extend(self.own_node());
        }
        Ok(nodes)
    }

    fn own_node(&self) -> Option<(String, u16)> {
        match self.shared.client.get_connection_info().addr() {
            redis::ConnectionAddr::Tcp(host, port) => Some((host.clone(), *port)),
            redis::ConnectionAddr::TcpTls { host, port, .. } => Some((host.clone(), *port)),
            _ => None,
        }
    }

    /// A client for another node of the same cluster, with this link's credentials.
    pub fn client_for(&self, host: &str, port: u16) -> RedisResult<Client> {
        let info = self.shared.client.get_connection_info().clone();
        let addr = match info.addr() {
            redis::ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => redis::ConnectionAddr::TcpTls {
                host: host.to_string(),
                port,
                insecure: *insecure,
                tls_params: tls_params.clone(),
            },
            _ => redis::ConnectionAddr::Tcp(host.to_string(), port),
        };
        Client::open(info.set_addr(addr))
    }

    async fn open_cluster(
        &self,
        seeds: Vec<redis::ConnectionInfo>,
        settings: LinkSettings,
    ) -> RedisResult<RedisConn> {
        let mut builder = ClusterClientBuilder::new(seeds)
            .connection_timeout(settings.connect_timeout)
            .retries(settings.retries as u32)
            .max_retry_wait(settings.max_delay.as_millis() as u64)
            .min_retry_wait(50);
        builder = match settings.response_timeout {
            Some(t) => builder.response_timeout(t),
            None => builder.overall_response_timeout(None),
        };
        Ok(RedisConn::Cluster(
            builder.build()?.get_async_connection().await?,
        ))
    }
}

/// Asks the node whether it is part of a Redis Cluster (`INFO cluster`: `cluster_enabled:1`),
/// on a short-lived connection.
async fn probe_cluster(client: &Client, settings: &LinkSettings) -> RedisResult<bool> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.connect_timeout));
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let info: String = redis::cmd("INFO")
        .arg("cluster")
        .query_async(&mut conn)
        .await?;
    Ok(info.lines().any(|l| l.trim() == "cluster_enabled:1"))
}

/// Whether `prefix` carries a Redis Cluster hash tag: a `{`, then at least one character, then
/// a `}` (Redis hashes only what is between them, so every key under the prefix shares a slot).
pub fn has_hash_tag(prefix: &str) -> bool {
    prefix
        .find('{')
        .and_then(|open| prefix[open + 1..].find('}'))
        .is_some_and(|len| len > 0)
}

/// The complaint about a key prefix that cannot work on a Redis Cluster, if it cannot.
pub fn cluster_prefix_error(prefix: &str) -> Option<String> {
    (!has_hash_tag(prefix)).then(|| {
        format!(
            "the Redis is a Cluster node, and the key prefix {prefix:?} has no hash tag: Notary's \
             scripts touch several keys at once, which a Cluster allows only inside one slot. \
             Use a hash-tagged prefix, e.g. --redis-prefix '{{notary}}:'"
        )
    })
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Manager(c) => c.req_packed_command(cmd),
            RedisConn::Direct(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Manager(c) => c.req_packed_commands(cmd, offset, count),
            RedisConn::Direct(c) => c.req_packed_commands(cmd, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Manager(c) => c.get_db(),
            RedisConn::Direct(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
        }
    }
}

impl ConnectionLike for RedisLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move { self.resolve().await?.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            self.resolve()
                .await?
                .req_packed_commands(cmd, offset, count)
                .await
        })
    }

    fn get_db(&self) -> i64 {
        self.shared
            .client
            .get_connection_info()
            .redis_settings()
            .db()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tags_are_recognised_as_redis_hashes_them() {
        assert!(has_hash_tag("{notary}:"));
        assert!(has_hash_tag("app:{n}:"));
        assert!(!has_hash_tag("notary:"));
        assert!(!has_hash_tag("{}:notary:"));
        assert!(!has_hash_tag("notary}{:"));
        assert!(cluster_prefix_error("notary:").is_some());
        assert!(cluster_prefix_error("{notary}:").is_none());
    }
}
