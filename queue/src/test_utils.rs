//! A real `redis-server` for tests (feature `test-utils`).
//!
//! Each [`RedisServer`] runs its own process on a free 127.0.0.1 port, in its own temporary
//! directory, with RDB snapshots off. It can be killed (SIGKILL, as a crash), stopped cleanly, and
//! restarted on the same port and directory, so an append-only file written before the crash is
//! loaded again. The process is killed when the value is dropped.
//!
//! [`RedisCluster`] starts a real Redis Cluster the same way: masters and replicas, each a
//! [`RedisServer`] with `--cluster-enabled yes`, joined by `redis-cli --cluster create`.
//!
//! The API is synchronous (it only spawns a process and polls a socket for a few milliseconds), so
//! it works from sync tests and from any Tokio runtime flavour alike.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Environment variable naming the `redis-server` binary to run instead of the one on `PATH`.
pub const REDIS_SERVER_ENV: &str = "REDIS_SERVER_BIN";

/// How long a fresh server may take to answer PING (loading an AOF included).
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a clean shutdown may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts at finding a port nobody grabs between our probe and the server's bind.
const PORT_ATTEMPTS: usize = 5;

/// How the server persists data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RedisServerOptions {
    /// `--appendonly yes`: keep an append-only file, loaded again by [`RedisServer::restart`].
    pub appendonly: bool,
    /// `--appendfsync always` (instead of `everysec`): every write is on disk before Redis
    /// answers, so even a SIGKILL loses nothing acknowledged.
    pub appendfsync_always: bool,
    /// `--cluster-enabled yes`: a Redis Cluster node (with no slots until someone assigns
    /// them), for tests of what happens when a single-Redis client meets one.
    pub cluster: bool,
}

impl RedisServerOptions {
    /// No persistence at all: a restart starts empty.
    pub fn ephemeral() -> Self {
        Self::default()
    }

    /// AOF with `appendfsync always`: nothing acknowledged is lost by a kill.
    pub fn durable() -> Self {
        Self {
            appendonly: true,
            appendfsync_always: true,
            cluster: false,
        }
    }
}

/// A `redis-server` process owned by a test.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    options: RedisServerOptions,
    // Declared last: dropped after the process is gone.
    dir: TempDir,
}

impl RedisServer {
    /// Starts a server without persistence. Panics (with the reason) if it cannot.
    pub fn start() -> Self {
        Self::start_with(RedisServerOptions::ephemeral())
    }

    /// Starts a server with the given persistence options. Panics (with the reason) if it
    /// cannot, e.g. if `redis-server` is not installed.
    pub fn start_with(options: RedisServerOptions) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("notary-redis-")
            .tempdir()
            .expect("create a temporary directory for redis-server");
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            match spawn(port, dir.path(), options) {
                Ok(child) => {
                    return Self {
                        child: Some(child),
                        port,
                        options,
                        dir,
                    }
                }
                Err(StartError::PortTaken) => continue,
                Err(StartError::Failed(reason)) => panic!("{reason}"),
            }
        }
        panic!("redis-server: no free port after {PORT_ATTEMPTS} attempts");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port the server listens on (unchanged by restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's working directory (AOF files, `redis.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The persistence options it runs with.
    pub fn options(&self) -> RedisServerOptions {
        self.options
    }

    /// The process id while it runs (e.g. to SIGSTOP it and simulate a hung server).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the process with SIGKILL, as a crash would; waits for it to be gone. No-op if it is
    /// not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the process cleanly (`SHUTDOWN NOSAVE`: the AOF, if on, is flushed; no RDB is
    /// written), falling back to SIGKILL after a few seconds. No-op if it is not running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // The server closes the connection without answering when it shuts down.
        let _ = request(self.port, "SHUTDOWN NOSAVE");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the server again on the same port and directory (stopping it cleanly first if it
    /// is running), and waits until it answers PING. With AOF on, the data comes back.
    pub fn restart(&mut self) {
        self.stop();
        match spawn(self.port, self.dir.path(), self.options) {
            Ok(child) => self.child = Some(child),
            Err(StartError::PortTaken) => panic!(
                "redis-server: port {} was taken by another process while the server was down",
                self.port
            ),
            Err(StartError::Failed(reason)) => panic!("{reason}"),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Environment variable naming the `redis-cli` binary to run instead of the one on `PATH`.
pub const REDIS_CLI_ENV: &str = "REDIS_CLI_BIN";

/// How long a new cluster may take to agree on its slots, and a failover to promote a replica.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);

/// A Redis Cluster of real `redis-server` processes on loopback ports: `masters` masters with
/// `replicas` replicas each (node timeout 1 s, so a killed master's replica is promoted within
/// a few seconds). Every process is killed when the value is dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts the nodes, creates the cluster and waits until every node says `cluster_state:ok`.
    /// Panics with the reason if it cannot (e.g. `redis-cli` missing).
    pub fn start(masters: usize, replicas: usize) -> Self {
        let options = RedisServerOptions {
            cluster: true,
            ..RedisServerOptions::default()
        };
        let nodes: Vec<RedisServer> = (0..masters * (1 + replicas))
            .map(|_| RedisServer::start_with(options))
            .collect();
        let cli = std::env::var_os(REDIS_CLI_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("redis-cli"));
        let out = Command::new(&cli)
            .arg("--cluster")
            .arg("create")
            .args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())))
            .arg("--cluster-replicas")
            .arg(replicas.to_string())
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", cli.display()));
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Self { nodes };
        cluster.wait_until_ok(None);
        cluster
    }

    /// `redis://127.0.0.1:<port>/` of node `i` (any node is a valid seed for a client).
    pub fn url(&self, i: usize) -> String {
        self.nodes[i].url()
    }

    /// The nodes, in start order.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// The index of the node that is master of `key`'s slot now.
    pub fn master_of(&self, key: &str) -> usize {
        let port = self
            .master_port_of(key)
            .expect("the cluster knows the slot's master");
        self.nodes
            .iter()
            .position(|n| n.port() == port)
            .expect("the master is one of our nodes")
    }

    /// SIGKILLs the master of `key`'s slot, waits until one of its replicas is master of that
    /// slot and every surviving node says `cluster_state:ok`; returns (killed, promoted) node
    /// indices.
    pub fn fail_over(&mut self, key: &str) -> (usize, usize) {
        let killed = self.master_of(key);
        self.nodes[killed].kill();
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        loop {
            if let Some(port) = self.master_port_of(key) {
                if port != self.nodes[killed].port() {
                    self.wait_until_ok(Some(killed));
                    return (killed, self.master_of(key));
                }
            }
            assert!(
                Instant::now() < deadline,
                "no replica was promoted within {CLUSTER_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every running replica of `key`'s slot's master has applied everything the
    /// master has written so far (replication is asynchronous: a failover loses what its
    /// replica had not received).
    pub fn wait_replicated(&self, key: &str) {
        let master = self.master_of(key);
        let offset = |port: u16, field: &str| -> Option<u64> {
            let info = request(port, "INFO replication").ok()?;
            info.lines()
                .find_map(|l| l.trim().strip_prefix(field)?.parse().ok())
        };
        let target = offset(self.nodes[master].port(), "master_repl_offset:")
            .expect("the master reports its replication offset");
        let master_port = self.nodes[master].port().to_string();
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        for node in &self.nodes {
            let info = request(node.port(), "INFO replication").unwrap_or_default();
            let is_its_replica = info.lines().any(|l| l.trim() == "role:slave")
                && info
                    .lines()
                    .any(|l| l.trim() == format!("master_port:{master_port}"));
            if !is_its_replica {
                continue;
            }
            while offset(node.port(), "slave_repl_offset:").unwrap_or(0) < target {
                assert!(
                    Instant::now() < deadline,
                    "replica on port {} did not catch up within {CLUSTER_TIMEOUT:?}",
                    node.port()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// The port of `key`'s slot's master as a running node sees it.
    fn master_port_of(&self, key: &str) -> Option<u16> {
        let node = self
            .nodes
            .iter()
            .find(|n| request(n.port(), "PING").is_ok_and(|r| r == "+PONG"))?;
        let slot: u16 = request(node.port(), &format!("CLUSTER KEYSLOT {key}"))
            .ok()?
            .trim_start_matches(':')
            .parse()
            .ok()?;
        let nodes = request(node.port(), "CLUSTER NODES").ok()?;
        nodes.lines().find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = fields.get(2)?;
            if !flags.split(',').any(|f| f == "master") || flags.contains("fail") {
                return None;
            }
            let serves = fields.iter().skip(8).any(|range| {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                matches!((lo.parse::<u16>(), hi.parse::<u16>()), (Ok(lo), Ok(hi)) if lo <= slot && slot <= hi)
            });
            if !serves {
                return None;
            }
            let addr = fields.get(1)?.split(['@', ',']).next()?;
            addr.rsplit_once(':')?.1.parse().ok()
        })
    }

    fn wait_until_ok(&self, skip: Option<usize>) {
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        for (i, node) in self.nodes.iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            loop {
                let info = request(node.port(), "CLUSTER INFO").unwrap_or_default();
                if info.lines().any(|l| l.trim() == "cluster_state:ok") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {i} (port {}) not cluster_state:ok within {CLUSTER_TIMEOUT:?}: {info}",
                    node.port()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

enum StartError {
    PortTaken,
    Failed(String),
}

/// A loopback port that was free a moment ago (the OS picks it for a bind to port 0): the
/// one port picker of the workspace's tests. Something else may take it before the caller
/// binds it, so a server started on it must be started again on another if it exits.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind 127.0.0.1:0 to find a free port")
}

fn binary() -> PathBuf {
    std::env::var_os(REDIS_SERVER_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("redis-server"))
}

/// Spawns `redis-server` and waits until it answers PING as the process we started.
fn spawn(port: u16, dir: &Path, options: RedisServerOptions) -> Result<Child, StartError> {
    let log = dir.join("redis.log");
    let bin = binary();
    let mut child = Command::new(&bin)
        .arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--dir")
        .arg(dir)
        .arg("--save")
        .arg("")
        .arg("--appendonly")
        .arg(if options.appendonly { "yes" } else { "no" })
        .arg("--appendfsync")
        .arg(if options.appendfsync_always {
            "always"
        } else {
            "everysec"
        })
        .args(if options.cluster {
            // A node unreachable for 1 s is failed over (the default 15 s is too slow for tests).
            &["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"][..]
        } else {
            &[]
        })
        .arg("--daemonize")
        .arg("no")
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StartError::Failed(format!(
                    "`{}` not found: install it with `apt-get install -y redis-server` \
                     (or point {REDIS_SERVER_ENV} at a redis-server binary)",
                    bin.display()
                ))
            } else {
                StartError::Failed(format!("cannot start `{}`: {e}", bin.display()))
            }
        })?;

    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            if log.contains("Address already in use") || stderr.contains("Address already in use") {
                return Err(StartError::PortTaken);
            }
            return Err(StartError::Failed(format!(
                "redis-server on port {port} exited with {status}:\n{stderr}{log}"
            )));
        }
        if is_ours(port, child.id()) {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(StartError::Failed(format!(
                "redis-server on port {port} did not answer PING within {READY_TIMEOUT:?}:\n{log}"
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// True once the server on `port` answers PING and reports `pid` as its process id (so a server
/// that somebody else started on the same port is not mistaken for ours).
fn is_ours(port: u16, pid: u32) -> bool {
    match request(port, "PING") {
        Ok(reply) if reply == "+PONG" => {}
        _ => return false,
    }
    match request(port, "INFO server") {
        Ok(info) => info
            .lines()
            .any(|line| line.trim() == format!("process_id:{pid}")),
        Err(_) => false,
    }
}

/// Sends one inline command and returns the reply: a status/error line as is, or the content of
/// a bulk string.
fn request(port: u16, command: &str) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(format!("{command}\r\n").as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end().to_owned();
    let Some(len) = line.strip_prefix('$') else {
        return Ok(line);
    };
    let len: usize = len
        .parse()
        .map_err(|_| std::io::Error::other(format!("bad bulk length {len:?}")))?;
    let mut body = vec![0; len + 2];
    reader.read_exact(&mut body)?;
    body.truncate(len);
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Waits until `done()` holds, looking every 20 ms; panics with `what()` (read at the deadline,
/// so it can say what it saw) when it still does not after `within`. The one polling loop for
/// a condition that a background task makes true eventually.
pub async fn eventually(
    within: Duration,
    mut done: impl FnMut() -> bool,
    what: impl FnOnce() -> String,
) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{}", what());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
