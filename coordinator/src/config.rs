//! Coordinator configuration: flags, environment variables (`NOTARY_*`) and a TOML file.
//!
//! Precedence: a flag or its environment variable, then the `--config` file, then the default.
//! The file uses the flags' names in kebab-case (`listen = "0.0.0.0:8402"`), sandbox options in
//! a `[sandbox]` table; unknown keys are an error, so a typo never silently falls back to a
//! default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use notary_protocol::{Address, AttestationDomain};
use notary_worker::SandboxSettings;
use serde::Deserialize;

use crate::db::Durability;
use crate::error::{Error, Result};
use crate::protect::{ProtectConfig, ProtectSettings};
use crate::webhooks::{WebhookConfig, WebhookSettings};

pub use crate::record::{MAX_BODY_BYTES, MAX_CODE_BYTES};

/// The Notary coordinator: the /verify API, the job queue and, by default, in-process workers.
#[derive(Parser, Deserialize, Debug, Default, Clone)]
#[command(name = "notary-coordinator", version, about)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// TOML configuration file.
    #[arg(long, env = "NOTARY_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address the API listens on (default 127.0.0.1:8402).
    #[arg(long, env = "NOTARY_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Redis URL; without it the coordinator runs embedded (in-memory queue and records).
    #[arg(long = "redis", env = "NOTARY_REDIS_URL", value_name = "URL")]
    pub redis: Option<String>,
    /// Where the embedded mode keeps its database (default: the platform's data directory,
    /// e.g. `~/.local/share/notary`); `none` keeps everything in memory (nothing survives a
    /// restart). Not used with `--redis`.
    #[arg(long, env = "NOTARY_DATA_DIR", value_name = "DIR|none")]
    pub data_dir: Option<String>,
    /// `fsync` every commit of the embedded database before answering (default off: a commit
    /// survives a crash of the process, not of the machine).
    #[arg(long, env = "NOTARY_FSYNC", num_args = 0..=1, default_missing_value = "true")]
    pub fsync: Option<bool>,
    /// Key prefix in Redis (default `notary:`).
    #[arg(long, env = "NOTARY_REDIS_PREFIX")]
    pub redis_prefix: Option<String>,
    /// Spread the job queue over this many hash-tagged key spaces (`{notary:0}:` ...), i.e. over
    /// the masters of a Redis Cluster (default 1: one). Every coordinator and worker of a fleet
    /// must use the same count.
    #[arg(long, env = "NOTARY_REDIS_SHARDS")]
    pub redis_shards: Option<usize>,
    /// In-process worker slots (default: one per core; 0 for a coordinator that only serves a
    /// fleet of `notary-worker` processes).
    #[arg(long, env = "NOTARY_WORKERS")]
    pub workers: Option<usize>,
    /// Worker addresses whose attestations are accepted (repeat, or comma-separate in env).
    #[arg(
        long = "allow-worker",
        env = "NOTARY_ALLOW_WORKERS",
        value_delimiter = ',',
        value_name = "0xADDR"
    )]
    #[serde(default)]
    pub allow_worker: Vec<Address>,
    /// Runtime ids (64 hex, the attestations' `runtimeId`) whose results are accepted (repeat,
    /// or comma-separate in env); default: any. The in-process workers' own is always accepted.
    /// A jury may mix runtimes (say Cranelift and Pulley workers) only if they give the same
    /// output and fuel: list the ones that do.
    #[arg(
        long = "accept-runtime",
        env = "NOTARY_ACCEPT_RUNTIMES",
        value_delimiter = ',',
        value_name = "HEX"
    )]
    #[serde(default)]
    pub accept_runtime: Vec<String>,
    /// Key file for the in-process workers (default: a new ephemeral key each start).
    #[arg(long, env = "NOTARY_WORKER_KEY_FILE", value_name = "FILE")]
    pub worker_key_file: Option<PathBuf>,
    /// How long POST /verify waits for the result before answering 202 (ms, default 10000).
    #[arg(long, env = "NOTARY_SYNC_WAIT_MS")]
    pub sync_wait_ms: Option<u64>,
    /// A lease not renewed for this long is reclaimed and the job redelivered (ms, default
    /// 15000; workers renew every 5 s).
    #[arg(long, env = "NOTARY_LEASE_TTL_MS")]
    pub lease_ttl_ms: Option<u64>,
    /// Deliveries before a job is failed as refundable (default 3).
    #[arg(long, env = "NOTARY_MAX_DELIVERIES")]
    pub max_deliveries: Option<u32>,
    /// How long job records are kept after their last change (s, default 86400).
    #[arg(long, env = "NOTARY_JOB_RETENTION_SECS")]
    pub job_retention_secs: Option<u64>,
    /// A juror with more dissents than this within `--dissent-window-secs` is suspended from
    /// new juries until an operator lifts it (default 3).
    #[arg(long, env = "NOTARY_MAX_DISSENTS")]
    pub max_dissents: Option<u32>,
    /// The window of `--max-dissents` (s, default 3600).
    #[arg(long, env = "NOTARY_DISSENT_WINDOW_SECS")]
    pub dissent_window_secs: Option<u64>,
    /// Whether workers that register themselves (`POST /providers/register`,
    /// `/verifiers/register`) sit on juries at once (`open`) or after
    /// `notary-coordinator workers approve 0x…` (`manual`, the default).
    #[arg(long, env = "NOTARY_WORKER_APPROVAL", value_enum)]
    pub worker_approval: Option<crate::workers::Approval>,
    /// Chain id of the attestation domain (default 84532, Base Sepolia).
    #[arg(long, env = "NOTARY_CHAIN_ID")]
    pub chain_id: Option<u64>,
    /// Registry contract address of the attestation domain (default: zero address).
    #[arg(long, env = "NOTARY_REGISTRY", value_name = "0xADDR")]
    pub registry: Option<Address>,
    /// Largest module the registry accepts, bytes (default 16 MiB, the workers' limit).
    #[arg(long, env = "NOTARY_MAX_MODULE_BYTES")]
    pub max_module_bytes: Option<usize>,
    /// Most containers in one `POST /api/jobs` chain (default 8).
    #[arg(long, env = "NOTARY_MAX_CHAIN")]
    pub max_chain: Option<usize>,
    /// Most requests in one `POST /api/jobs/batch` (default 100).
    #[arg(long, env = "NOTARY_MAX_BATCH")]
    pub max_batch: Option<usize>,
    /// Sandbox options of the in-process workers, and the per-job fuel budget.
    #[command(flatten)]
    #[serde(default)]
    pub sandbox: SandboxSettings,
    /// x402 payments, refunds and registry writes (a `[payments]` table in the file).
    #[command(flatten)]
    #[serde(default)]
    pub payments: crate::payments::PaymentSettings,
    /// Rate limit, circuit breaker and load caps (a `[protect]` table in the file).
    #[command(flatten)]
    #[serde(default)]
    pub protect: ProtectSettings,
    /// Webhook delivery: retry schedule, reachable networks, timeout (a `[webhooks]` table).
    #[command(flatten)]
    #[serde(default)]
    pub webhooks: WebhookSettings,
}

impl Settings {
    /// Reads the `--config` file, if any, under the flags and environment.
    pub fn with_file(self) -> Result<Settings> {
        let Some(path) = self.config.clone() else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Config(format!("reading {}: {e}", path.display())))?;
        let file: Settings = toml::from_str(&text)
            .map_err(|e| Error::Config(format!("parsing {}: {e}", path.display())))?;
        Ok(Settings {
            config: self.config,
            listen: self.listen.or(file.listen),
            redis: self.redis.or(file.redis),
            redis_prefix: self.redis_prefix.or(file.redis_prefix),
            redis_shards: self.redis_shards.or(file.redis_shards),
            data_dir: self.data_dir.or(file.data_dir),
            fsync: self.fsync.or(file.fsync),
            workers: self.workers.or(file.workers),
            allow_worker: if self.allow_worker.is_empty() {
                file.allow_worker
            } else {
                self.allow_worker
            },
            accept_runtime: if self.accept_runtime.is_empty() {
                file.accept_runtime
            } else {
                self.accept_runtime
            },
            worker_key_file: self.worker_key_file.or(file.worker_key_file),
            sync_wait_ms: self.sync_wait_ms.or(file.sync_wait_ms),
            lease_ttl_ms: self.lease_ttl_ms.or(file.lease_ttl_ms),
            max_deliveries: self.max_deliveries.or(file.max_deliveries),
            job_retention_secs: self.job_retention_secs.or(file.job_retention_secs),
            max_dissents: self.max_dissents.or(file.max_dissents),
            dissent_window_secs: self.dissent_window_secs.or(file.dissent_window_secs),
            worker_approval: self.worker_approval.or(file.worker_approval),
            chain_id: self.chain_id.or(file.chain_id),
            registry: self.registry.or(file.registry),
            max_module_bytes: self.max_module_bytes.or(file.max_module_bytes),
            max_chain: self.max_chain.or(file.max_chain),
            max_batch: self.max_batch.or(file.max_batch),
            sandbox: self.sandbox.or(file.sandbox),
            payments: self.payments.or(file.payments),
            protect: self.protect.or(file.protect),
            webhooks: self.webhooks.or(file.webhooks),
        })
    }

    /// Applies defaults and checks ranges.
    ///
    /// `--redis-shards` above [`notary_queue::MAX_SHARDS`] is refused: every idle lease looks at every
    /// shard each round, so the count is a few per master, not thousands.
    pub fn resolve(self) -> Result<Config> {
        let lease_ttl = Duration::from_millis(self.lease_ttl_ms.unwrap_or(15_000));
        if lease_ttl < Duration::from_millis(100) {
            return Err(Error::Config("lease-ttl-ms must be at least 100".into()));
        }
        let max_deliveries = self.max_deliveries.unwrap_or(3);
        if max_deliveries == 0 {
            return Err(Error::Config("max-deliveries must be at least 1".into()));
        }
        if let Some(shards) = self.redis_shards {
            if !(1..=notary_queue::MAX_SHARDS).contains(&shards) {
                return Err(Error::Config(format!(
                    "redis-shards must be 1 to {}, not {shards}",
                    notary_queue::MAX_SHARDS
                )));
            }
            if shards > 1 && self.redis.is_none() {
                return Err(Error::Config(
                    "--redis-shards spreads a fleet's Redis queue: it needs --redis".into(),
                ));
            }
        }
        let payments = self.payments.resolve()?;
        let data_dir = match self.data_dir.as_deref() {
            Some("none") => DataDir::Memory,
            Some(dir) if dir.trim().is_empty() => {
                return Err(Error::Config(
                    "data-dir must be a directory or `none`".into(),
                ))
            }
            Some(dir) => DataDir::Path(PathBuf::from(dir)),
            None => DataDir::Path(default_data_dir()),
        };
        if payments.is_some() && self.redis.is_none() && data_dir == DataDir::Memory {
            return Err(Error::Config(
                "--payments x402 needs --redis or a --data-dir (not `none`): used payments must survive a restart".into(),
            ));
        }
        Ok(Config {
            data_dir,
            durability: if self.fsync.unwrap_or(false) {
                Durability::Fsync
            } else {
                Durability::Process
            },
            payments,
            listen: self
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8402))),
            redis: self.redis,
            redis_prefix: self
                .redis_prefix
                .unwrap_or_else(|| notary_protocol::keys::DEFAULT_PREFIX.to_string()),
            redis_shards: self.redis_shards.unwrap_or(1),
            workers: self.workers.unwrap_or_else(num_cpus::get),
            allowed_workers: self.allow_worker,
            accepted_runtimes: self
                .accept_runtime
                .iter()
                .map(|h| {
                    notary_protocol::Digest32::from_hex(h).map_err(|_| {
                        Error::Config(format!("--accept-runtime {h:?}: not a runtime id (64 hex)"))
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            worker_key_file: self.worker_key_file,
            sync_wait: Duration::from_millis(self.sync_wait_ms.unwrap_or(10_000)),
            lease_ttl,
            max_deliveries,
            retention: Duration::from_secs(self.job_retention_secs.unwrap_or(86_400)),
            suspension: crate::workers::SuspensionRule {
                max_dissents: self.max_dissents.unwrap_or(3),
                window: Duration::from_secs(self.dissent_window_secs.unwrap_or(3600).max(1)),
            },
            worker_approval: self.worker_approval.unwrap_or_default(),
            domain: AttestationDomain {
                chain_id: self.chain_id.unwrap_or(84532),
                verifying_contract: self.registry.unwrap_or(Address::ZERO),
            },
            max_module_bytes: self
                .max_module_bytes
                .unwrap_or(notary_profile::DEFAULT_MAX_MODULE_BYTES)
                .min(notary_profile::DEFAULT_MAX_MODULE_BYTES),
            max_chain: self
                .max_chain
                .unwrap_or(crate::compute::DEFAULT_MAX_CHAIN)
                .max(1),
            max_batch: self
                .max_batch
                .unwrap_or(crate::compute::DEFAULT_MAX_BATCH)
                .max(1),
            sandbox: self.sandbox,
            protect: self.protect.resolve()?,
            webhooks: self.webhooks.resolve()?,
        })
    }
}

/// Where the embedded mode keeps its stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataDir {
    /// In memory (`--data-dir none`).
    Memory,
    /// A database file in this directory.
    Path(PathBuf),
}

/// The platform's data directory for Notary (`$XDG_DATA_HOME/notary`, `~/.local/share/notary`
/// on Linux), or `./notary-data` where there is none.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("notary"))
        .unwrap_or_else(|| PathBuf::from("notary-data"))
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the embedded stores live (not used with `redis`).
    pub data_dir: DataDir,
    /// How hard embedded commits are pushed to the disk.
    pub durability: Durability,
    /// API address.
    pub listen: SocketAddr,
    /// Redis URL (`None`: embedded, in memory).
    pub redis: Option<String>,
    /// Redis key prefix.
    pub redis_prefix: String,
    /// Key spaces the job queue is spread over (1: not sharded).
    pub redis_shards: usize,
    /// In-process worker slots.
    pub workers: usize,
    /// Accepted worker addresses (the in-process workers' own address is added at start).
    pub allowed_workers: Vec<Address>,
    /// Runtime ids whose results are accepted (empty: any).
    pub accepted_runtimes: Vec<notary_protocol::Digest32>,
    /// Key file of the in-process workers.
    pub worker_key_file: Option<PathBuf>,
    /// How long POST /verify waits before answering 202.
    pub sync_wait: Duration,
    /// Lease TTL.
    pub lease_ttl: Duration,
    /// Delivery limit.
    pub max_deliveries: u32,
    /// Record retention.
    pub retention: Duration,
    /// When a dissenting juror is suspended.
    pub suspension: crate::workers::SuspensionRule,
    /// Whether self-registered workers are approved at once.
    pub worker_approval: crate::workers::Approval,
    /// Attestation domain put in every job.
    pub domain: AttestationDomain,
    /// Largest module the registry accepts (at most the workers' own limit).
    pub max_module_bytes: usize,
    /// Most containers in a compute chain.
    pub max_chain: usize,
    /// Most requests in a compute batch.
    pub max_batch: usize,
    /// Sandbox options.
    pub sandbox: SandboxSettings,
    /// x402 payments (`None`: off).
    pub payments: Option<crate::payments::PaymentConfig>,
    /// Protection options.
    pub protect: ProtectConfig,
    /// Webhook delivery options.
    pub webhooks: WebhookConfig,
}

impl Default for Config {
    fn default() -> Self {
        Settings::default().resolve().expect("defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn defaults_are_the_embedded_mode() {
        let c = Config::default();
        assert_eq!(c.listen, "127.0.0.1:8402".parse().unwrap());
        assert!(c.redis.is_none());
        assert_eq!(c.sync_wait, Duration::from_secs(10));
        assert_eq!(c.domain.chain_id, 84532);
        assert_eq!(c.sandbox.fuel(), 10_000_000_000);
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let f = file(
            "listen = \"0.0.0.0:9000\"\nworkers = 3\nsync-wait-ms = 5\n[sandbox]\nfuel = 42\n",
        );
        let cli = Settings::parse_from([
            "notary-coordinator",
            "--config",
            f.path().to_str().unwrap(),
            "--workers",
            "0",
        ]);
        let c = cli.with_file().unwrap().resolve().unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(c.workers, 0);
        assert_eq!(c.sync_wait, Duration::from_millis(5));
        assert_eq!(c.sandbox.fuel(), 42);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let f = file("lisen = \"0.0.0.0:9000\"\n");
        let err = Settings {
            config: Some(f.path().into()),
            ..Settings::default()
        }
        .with_file()
        .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        let err = Settings {
            max_deliveries: Some(0),
            ..Settings::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("max-deliveries"));
    }

    #[test]
    fn redis_shards_need_redis_and_a_sane_count() {
        let f = file("redis = \"redis://127.0.0.1:1\"\nredis-shards = 4\n");
        let cli = Settings::parse_from(["x", "--config", f.path().to_str().unwrap()]);
        assert_eq!(cli.with_file().unwrap().resolve().unwrap().redis_shards, 4);
        assert_eq!(Settings::default().resolve().unwrap().redis_shards, 1);
        for (redis, shards, complaint) in [
            (None, 2, "needs --redis"),
            (Some("redis://127.0.0.1:1"), 0, "must be 1 to 64"),
            (Some("redis://127.0.0.1:1"), 65, "must be 1 to 64"),
        ] {
            let err = Settings {
                redis: redis.map(str::to_owned),
                redis_shards: Some(shards),
                ..Settings::default()
            }
            .resolve()
            .unwrap_err();
            assert!(err.to_string().contains(complaint), "{err}");
        }
    }

    #[test]
    fn webhook_options_come_from_flags_or_the_webhooks_table() {
        let f = file("[webhooks]\nwebhook-retry-schedule = \"0s,1s\"\nwebhook-allow-network = [\"127.0.0.0/8\"]\n");
        let cli = Settings::parse_from(["x", "--config", f.path().to_str().unwrap()]);
        let c = cli.with_file().unwrap().resolve().unwrap();
        assert_eq!(
            c.webhooks.schedule,
            vec![Duration::ZERO, Duration::from_secs(1)]
        );
        assert_eq!(c.webhooks.allow, vec!["127.0.0.0/8".parse().unwrap()]);
        let cli = Settings::parse_from([
            "x",
            "--webhook-retry-schedule",
            "0s,200ms",
            "--webhook-allow-network",
            "10.0.0.0/8",
            "--webhook-allow-network",
            "::1",
        ]);
        let c = cli.resolve().unwrap();
        assert_eq!(c.webhooks.schedule.len(), 2);
        assert_eq!(c.webhooks.allow.len(), 2);
    }

    #[test]
    fn allow_worker_takes_a_list() {
        let a = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        let b = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        let s = Settings::parse_from(["x", "--allow-worker", &format!("{a},{b}")]);
        assert_eq!(s.allow_worker.len(), 2);
    }
}
