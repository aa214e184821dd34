//! `notary-worker`: runs jobs from a Notary Redis, or makes a worker key.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use notary_protocol::WorkerKey;
use notary_queue::{Leases, RedisQueue, RedisQueueConfig, ShardedQueue};
use notary_worker::execute::Fault;
use notary_worker::module_source::ModuleSource;
use notary_worker::remote::{Coordinator, RemoteLeases, RemoteModules};
use notary_worker::sandbox::Sandbox;
use notary_worker::{JobExecutor, PoolConfig, RedisModuleSource, SandboxSettings, WorkerPool};
use serde::Deserialize;

mod local_exec;
mod reverify;

/// A role of the open fleet (`--register`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
enum Role {
    Provider,
    Verifier,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Verifier => "verifier",
        }
    }
}

/// A Notary worker: leases verification jobs from Redis, runs them in a deterministic wasm
/// sandbox and signs attestations of the results.
#[derive(Parser, Debug)]
#[command(name = "notary-worker", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunSettings,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes a new secp256k1 worker key (hex, mode 0600) and prints its address.
    Keygen {
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Runs one program locally in this worker's sandbox (no queue, no key) and prints its
    /// stdout and stderr; exits with the guest's code (250 trap, 251 output limit, 124
    /// timeout, 70 sandbox failure).
    Exec(local_exec::ExecArgs),
    /// Checks a recorded job: runs its spec here and compares every attestation (output hash,
    /// verdict, fuel, signature); exits 1 naming any difference.
    Reverify(reverify::ReverifyArgs),
    /// Prints this worker's runtime id (`0x` + 64 hex) for these sandbox options: the
    /// `configHash` of an open-fleet registration, the `runtimeId` of its attestations.
    RuntimeId {
        #[command(flatten)]
        sandbox: SandboxSettings,
    },
}

/// Options of a running worker. Flags and env win over the `--config` TOML file.
#[derive(clap::Args, Deserialize, Debug, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RunSettings {
    /// TOML file with these settings (kebab-case keys; sandbox options in a `[sandbox]` table).
    #[arg(long, env = "NOTARY_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Redis URL of the fleet.
    #[arg(long = "redis", env = "NOTARY_REDIS_URL", value_name = "URL")]
    redis: Option<String>,
    /// Open fleet: lease jobs from this coordinator over HTTP (signed requests; no Redis).
    #[arg(
        long = "coordinator",
        env = "NOTARY_COORDINATOR_URL",
        value_name = "URL"
    )]
    coordinator: Option<String>,
    /// With `--coordinator`: register at start as these roles (`provider`, `verifier`; comma
    /// separated), with this worker's runtime id as the config hash.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ROLE")]
    #[serde(default)]
    register: Vec<Role>,
    /// With `--coordinator`: take seats from one server-sent event stream (`GET
    /// /assignments/stream`) instead of one long poll per slot.
    #[arg(long)]
    #[serde(default)]
    stream: bool,
    /// Key prefix in Redis (default `notary:`).
    #[arg(long, env = "NOTARY_REDIS_PREFIX")]
    redis_prefix: Option<String>,
    /// Key spaces the fleet's job queue is spread over (default 1); must be the coordinators'
    /// `--redis-shards` (checked at start).
    #[arg(long, env = "NOTARY_REDIS_SHARDS")]
    redis_shards: Option<usize>,
    /// File holding this worker's secret key (hex); see `notary-worker keygen`.
    #[arg(long, env = "NOTARY_WORKER_KEY_FILE", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Jobs run at once (default: one per core).
    #[arg(long, env = "NOTARY_CONCURRENCY")]
    concurrency: Option<usize>,
    /// Lease renewal interval in ms (default 5000; keep it under a third of the coordinators'
    /// lease TTL).
    #[arg(long, env = "NOTARY_HEARTBEAT_MS")]
    heartbeat_ms: Option<u64>,
    /// Consumer name prefix (default: host-pid-random).
    #[arg(long, env = "NOTARY_WORKER_NAME")]
    name: Option<String>,
    /// Serve Prometheus metrics (`GET /metrics`) and `GET /health` on this address (default:
    /// off).
    #[arg(long, env = "NOTARY_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<std::net::SocketAddr>,
    /// TEST AID, never for production: play a dishonest juror. `wrong-output` signs a valid
    /// attestation over a wrong output hash (the real stdout plus a newline); `wrong-fuel`
    /// signs over the real fuel plus one. Off unless given.
    #[arg(long, value_enum, value_name = "FAULT")]
    fault: Option<Fault>,
    #[command(flatten)]
    #[serde(default)]
    sandbox: SandboxSettings,
}

impl RunSettings {
    fn or(self, file: RunSettings) -> RunSettings {
        RunSettings {
            config: self.config,
            redis: self.redis.or(file.redis),
            coordinator: self.coordinator.or(file.coordinator),
            register: if self.register.is_empty() {
                file.register
            } else {
                self.register
            },
            redis_prefix: self.redis_prefix.or(file.redis_prefix),
            redis_shards: self.redis_shards.or(file.redis_shards),
            key_file: self.key_file.or(file.key_file),
            concurrency: self.concurrency.or(file.concurrency),
            heartbeat_ms: self.heartbeat_ms.or(file.heartbeat_ms),
            name: self.name.or(file.name),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            fault: self.fault.or(file.fault),
            stream: self.stream || file.stream,
            sandbox: self.sandbox.or(file.sandbox),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // `NOTARY_LOG_FORMAT=json`: one JSON object per line (job_id and the other fields as
    // keys) for log collectors; otherwise human-readable text.
    // `exec` shares stderr with the guest: only warnings unless RUST_LOG asks for more.
    let default_level = match cli.command {
        Some(Command::Exec(_) | Command::RuntimeId { .. } | Command::Reverify(_)) => "warn",
        _ => "info",
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_level.into()),
        )
        .with_writer(std::io::stderr);
    if std::env::var("NOTARY_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    match cli.command {
        Some(Command::Keygen { out, force }) => keygen(&out, force),
        Some(Command::Exec(args)) => std::process::exit(local_exec::exec(args)),
        Some(Command::Reverify(args)) => std::process::exit(reverify::reverify(args)),
        Some(Command::RuntimeId { sandbox }) => {
            let sandbox = Sandbox::new(sandbox.sandbox_config(1))?;
            let executor = JobExecutor::new(Arc::new(sandbox), WorkerKey::generate());
            println!("0x{}", executor.runtime().id());
            Ok(())
        }
        None => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(run(cli.run))
        }
    }
}

fn keygen(out: &Path, force: bool) -> anyhow::Result<()> {
    if out.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", out.display());
    }
    let key = WorkerKey::generate();
    write_secret(out, &key.to_hex())?;
    println!("{}", key.address());
    eprintln!(
        "wrote a new worker key to {}; allow it on the coordinator with --allow-worker {}",
        out.display(),
        key.address()
    );
    Ok(())
}

fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{text}")?;
    Ok(())
}

fn load_key(settings: &RunSettings) -> anyhow::Result<WorkerKey> {
    if let Ok(hex) = std::env::var("NOTARY_WORKER_KEY") {
        return WorkerKey::from_hex(&hex).context("NOTARY_WORKER_KEY");
    }
    let path = settings
        .key_file
        .as_ref()
        .context("no worker key: pass --key-file FILE (make one with `notary-worker keygen --out FILE`) or set NOTARY_WORKER_KEY")?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    WorkerKey::from_hex(&text).with_context(|| format!("key file {}", path.display()))
}

async fn run(cli: RunSettings) -> anyhow::Result<()> {
    let settings = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let file: RunSettings =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            cli.or(file)
        }
        None => cli,
    };
    let key = load_key(&settings)?;
    let concurrency = settings.concurrency.unwrap_or_else(num_cpus::get).max(1);
    if let Some(addr) = settings.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics address {addr}"))?;
        tracing::info!(listen = %listener.local_addr()?, "serving /metrics");
        tokio::spawn(async move {
            if let Err(e) = notary_worker::metrics::serve(listener, shutdown_signal()).await {
                tracing::error!(error = %e, "metrics server failed");
            }
        });
    }

    // Where jobs come from: the fleet's Redis, or a coordinator over HTTP (open fleet).
    let (leases, modules, remote): (Arc<dyn Leases>, Arc<dyn ModuleSource>, _) =
        match (&settings.coordinator, &settings.redis) {
            (Some(_), Some(_)) => anyhow::bail!("give --coordinator or --redis, not both"),
            (Some(base), None) => {
                let coordinator = Coordinator::new(base, key.clone())
                    .map_err(|e| anyhow::anyhow!("coordinator client: {e}"))?;
                tracing::info!(coordinator = %notary_queue::redact_url(base), stream = settings.stream, "open fleet: leasing over HTTP");
                let leases = Arc::new(RemoteLeases::new(coordinator.clone()));
                (
                    leases.clone(),
                    Arc::new(RemoteModules::new(coordinator.clone())),
                    Some((coordinator, leases)),
                )
            }
            (None, None) => anyhow::bail!(
                "no job source: pass --redis URL (NOTARY_REDIS_URL) or --coordinator URL (NOTARY_COORDINATOR_URL)"
            ),
            (None, Some(url)) => {
                let mut queue_config = RedisQueueConfig::new(url.clone());
                if let Some(prefix) = &settings.redis_prefix {
                    queue_config.key_prefix = prefix.clone();
                }
                let prefix = queue_config.key_prefix.clone();
                let shards = settings.redis_shards.unwrap_or(1);
                if !(1..=notary_queue::MAX_SHARDS).contains(&shards) {
                    anyhow::bail!(
                        "--redis-shards must be 1 to {}, not {shards}",
                        notary_queue::MAX_SHARDS
                    );
                }
                let queue = Arc::new(ShardedQueue::new_lazy(queue_config, shards)?);
                // Wait for Redis with clear logs rather than exiting: workers often start
                // before it.
                if !queue.wait_until_ready(shutdown_signal()).await {
                    return Ok(());
                }
                match queue.cluster_problem().await {
                    Ok(Some(problem)) => {
                        anyhow::bail!("{}: {problem}", notary_queue::redact_url(url))
                    }
                    Ok(None) => {}
                    // Redis answered a moment ago: a failed probe is a blip, not a reason to
                    // exit; a Cluster with an untagged prefix would fail every lease loudly.
                    Err(e) => tracing::warn!(error = %e, "could not ask Redis whether it is a Cluster"),
                }
                match queue.shards_mismatch().await {
                    Ok(Some(theirs)) => anyhow::bail!(
                        "the fleet's coordinators spread the queue over {theirs} shard(s) \
                         (--redis-shards), this worker over {shards}: it would never see \
                         their jobs. Start it with --redis-shards {theirs}"
                    ),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not read the fleet's shard count"),
                }
                if !wait_until_allowed(queue.base(), &key.address().to_string()).await {
                    return Ok(());
                }
                let modules = RedisModuleSource::new_lazy(url, &prefix)
                    .map_err(|e| anyhow::anyhow!("module registry: {e}"))?;
                (queue, Arc::new(modules), None)
            }
        };

    let started = std::time::Instant::now();
    let engine = settings.sandbox.engine.unwrap_or_default();
    let sandbox = tokio::task::spawn_blocking({
        let config = settings.sandbox.sandbox_config(concurrency);
        move || Sandbox::new(config)
    })
    .await??;
    let sandbox = Arc::new(sandbox);
    // Streamed jobs' stdout goes to their output log as it is written (a fleet's Redis; over
    // HTTP there is none yet, so it arrives with the result).
    let mut executor = JobExecutor::new(sandbox, key)
        .with_module_source(modules)
        .with_output_log(leases.clone());
    if let Some(fault) = settings.fault {
        tracing::warn!(
            fault = fault.as_str(),
            "TEST AID --fault IS ON: THIS WORKER SIGNS DELIBERATELY WRONG ATTESTATIONS \
             (a dishonest juror for tests); never run it in a real fleet"
        );
        executor = executor.with_fault(fault);
    }
    let executor = Arc::new(executor);
    tracing::info!(
        worker = %executor.address(),
        runtime_id = %executor.runtime().id(),
        wasmtime = %executor.runtime().wasmtime,
        ready_ms = started.elapsed().as_millis() as u64,
        "sandbox ready"
    );
    if let Some((coordinator, _)) = &remote {
        for role in &settings.register {
            register(
                coordinator,
                *role,
                &executor.runtime().id(),
                engine.as_str(),
            )
            .await?;
        }
    }
    let mut pool_config = PoolConfig {
        concurrency,
        ..PoolConfig::default()
    };
    if let Some(name) = settings.name {
        pool_config.name = name;
    }
    if let Some(ms) = settings.heartbeat_ms {
        pool_config.heartbeat_interval = Duration::from_millis(ms.max(10));
    }
    match (&remote, settings.stream) {
        (Some((_, leases)), true) => leases.stream(&pool_config.name, concurrency),
        (None, true) => anyhow::bail!("--stream needs --coordinator"),
        _ => {}
    }
    let pool = WorkerPool::start(leases, executor, pool_config)?;
    shutdown_signal().await;
    tracing::info!("stop requested: finishing running jobs");
    pool.shutdown().await;
    Ok(())
}

/// Registers this worker with the coordinator (`POST /providers/register` or
/// `/verifiers/register`), with its runtime id as the config hash and its own signed
/// registration for the fleet's registry contract.
async fn register(
    coordinator: &Coordinator,
    role: Role,
    runtime_id: &notary_protocol::Digest32,
    engine: &str,
) -> anyhow::Result<()> {
    let answer = coordinator
        .register(role.as_str(), runtime_id, engine)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(
        role = role.as_str(),
        status = %answer["status"],
        anchored = answer.get("anchor").is_some(),
        "registered with the coordinator"
    );
    Ok(())
}

/// Waits until the fleet's coordinators accept this worker's key (the allow list they publish
/// in Redis), rechecking every 10 s: a worker they refuse would only burn jobs. `false` if a
/// stop was requested first.
async fn wait_until_allowed(queue: &RedisQueue, address: &str) -> bool {
    let mut warned = false;
    loop {
        match queue.allows_worker(address).await {
            Ok(Some(true)) | Ok(None) => {
                if warned {
                    tracing::info!(worker = %address, "this worker is now on the fleet's allow list");
                }
                return true;
            }
            Ok(Some(false)) => {
                tracing::error!(
                    worker = %address,
                    "this worker's key is not on the coordinators' allow list: not leasing jobs \
                     (allow it with --allow-worker {address} on every coordinator); rechecking every 10 s"
                );
                warned = true;
            }
            Err(e) => tracing::warn!(error = %e, "could not read the allow list; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = shutdown_signal() => return false,
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
