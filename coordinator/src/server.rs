//! The composition root: backends chosen once from the configuration, the job service, the
//! background tasks (intake, reaper, load sampler, event consumers, webhook delivery, payment
//! orphan sweep), the API, and the drain on shutdown, all in this one place.
//!
//! Backends: with `--redis`, every store and the queue live in Redis and any number of
//! coordinators and `notary-worker` processes share them. Without it (the embedded default),
//! the job records, the event log, the module registry, the payment ledger and the webhooks live
//! in one SQLite database under `--data-dir` (or in memory with `--data-dir none`), the queue is
//! in memory, and in-process workers run the jobs; after a restart, jobs that were queued or
//! running are queued again ([`JobService::recover`]).

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use notary_protocol::WorkerKey;
use notary_queue::{redact_url, JobQueue, MemoryQueue, RedisQueue, RedisQueueConfig, ShardedQueue};
use notary_worker::sandbox::Sandbox;
use notary_worker::{JobExecutor, PoolConfig, WorkerPool};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::actors::{RedisReplayCache, ReplayCache, SqliteReplayCache};
use crate::api::AppState;
use crate::assignments::{AssignmentStore, MemoryAssignments, RedisAssignments};
use crate::config::{Config, DataDir};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::jobs::consumers::{self, ConsumerOptions};
use crate::jobs::{FirstAccepted, JobService};
use crate::modules::{ModuleStore, RedisModules, RegistrySource, SqliteModules};
use crate::payments::ledger::{RedisLedger, SqliteLedger};
use crate::payments::validation::ValidationConsumer;
use crate::payments::{ActiveWorkers, PaymentLedger, Payments, SettlementConsumer};
use crate::store::{JobStore, RedisStore, SqliteStore};
use crate::webhooks::consumer::WebhookConsumer;
use crate::webhooks::delivery::Deliverer;
use crate::webhooks::guard::AddressPolicy;
use crate::webhooks::{RedisWebhooks, SqliteWebhooks, WebhookStore};
use crate::workers::{RedisWorkerBook, SqliteWorkerBook, WorkerBook};

/// Intake tasks per coordinator (see where they start).
const INTAKE_TASKS: usize = 4;

/// The stores and the queue, chosen once from the configuration.
struct Backends {
    store: Arc<dyn JobStore>,
    queue: Arc<dyn JobQueue>,
    modules: Arc<dyn ModuleStore>,
    /// The payment ledger, when payments are on: in Redis with `--redis`, else in the
    /// embedded database.
    ledger: Option<Arc<dyn PaymentLedger>>,
    /// Webhooks and their outbox.
    webhooks: Arc<dyn WebhookStore>,
    /// Jurors' agreements, dissents and suspensions; registrations.
    book: Arc<dyn WorkerBook>,
    /// Actor-signed requests already accepted.
    replay: Arc<dyn ReplayCache>,
    /// Leases held by remote workers.
    assignments: Arc<dyn AssignmentStore>,
    /// The embedded database, when the stores are in it.
    #[allow(dead_code)] // kept for the stores that open their tables in it
    db: Option<Arc<Db>>,
}

impl Backends {
    async fn open(config: &Config, instance: &str) -> Result<Backends> {
        match &config.redis {
            Some(url) => {
                let mut qc = RedisQueueConfig::new(url.clone());
                qc.key_prefix = config.redis_prefix.clone();
                let queue: Arc<dyn JobQueue> = if config.redis_shards > 1 {
                    Arc::new(ShardedQueue::new_lazy(qc, config.redis_shards)?)
                } else {
                    Arc::new(RedisQueue::new_lazy(qc)?)
                };
                let store =
                    RedisStore::new_lazy(url, &config.redis_prefix, config.retention, instance)?;
                let modules = Arc::new(RedisModules::new_lazy(url, &config.redis_prefix)?);
                let ledger: Option<Arc<dyn PaymentLedger>> = match config.payments {
                    Some(_) => Some(Arc::new(
                        RedisLedger::connect(url, &config.redis_prefix).await?,
                    )),
                    None => None,
                };
                let webhooks = RedisWebhooks::new_lazy(url, &config.redis_prefix)?;
                let book = Arc::new(RedisWorkerBook::new_lazy(
                    url,
                    &config.redis_prefix,
                    config.suspension,
                )?);
                let replay = Arc::new(RedisReplayCache::new_lazy(url, &config.redis_prefix)?);
                tracing::info!(redis = %redact_url(url), "fleet mode: queue, records and events in Redis");
                Ok(Backends {
                    store,
                    queue,
                    modules,
                    ledger,
                    webhooks,
                    book,
                    replay,
                    assignments: Arc::new(RedisAssignments::new_lazy(url, &config.redis_prefix)?),
                    db: None,
                })
            }
            None => {
                let path = match &config.data_dir {
                    DataDir::Memory => {
                        tracing::info!("embedded mode, in memory (--data-dir none): nothing survives a restart");
                        None
                    }
                    DataDir::Path(dir) => {
                        let file = dir.join("notary.sqlite3");
                        tracing::info!(database = %file.display(), "embedded mode: jobs, events and payments in a durable database");
                        Some(file)
                    }
                };
                let db = Arc::new(Db::open(path.as_deref(), config.durability)?);
                let store = SqliteStore::open(db.clone(), config.retention).await?;
                let modules = Arc::new(SqliteModules::open(db.clone()).await?);
                let ledger: Option<Arc<dyn PaymentLedger>> = match config.payments {
                    Some(_) => Some(Arc::new(SqliteLedger::open(db.clone()).await?)),
                    None => None,
                };
                let webhooks = SqliteWebhooks::open(db.clone()).await?;
                let book = SqliteWorkerBook::open(db.clone(), config.suspension).await?;
                let replay = SqliteReplayCache::open(db.clone()).await?;
                Ok(Backends {
                    store,
                    queue: Arc::new(MemoryQueue::default()),
                    modules,
                    ledger,
                    webhooks,
                    book,
                    replay,
                    assignments: Arc::new(MemoryAssignments::default()),
                    db: Some(db),
                })
            }
        }
    }
}

/// Runs a coordinator on `listener` until `shutdown` resolves, then drains: new jobs get 503,
/// in-flight requests are answered, in-process workers finish their running jobs, event
/// consumers finish what they hold.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let instance = format!("coordinator-{}", notary_worker::pool::default_worker_name());
    let Backends {
        store,
        queue,
        modules,
        ledger,
        webhooks,
        book,
        replay,
        assignments,
        db: _db,
    } = Backends::open(&config, &instance).await?;
    if config.workers == 0 && config.redis.is_none() {
        // Accepted jobs wait in the database for a restart with workers (a restart is not a
        // delivery: they keep their count).
        tracing::warn!("NO WORKERS: --workers 0 without --redis accepts and stores jobs, but nothing runs them until a restart with --workers N");
    }
    if config.payments.is_none() {
        tracing::warn!("PAYMENTS ARE OFF: every request is accepted without payment");
    }

    let mut allowed: HashSet<_> = config.allowed_workers.iter().copied().collect();
    let stop = CancellationToken::new();
    let sandbox_config = config.sandbox.sandbox_config(config.workers.max(1));
    let limits = sandbox_config.validation_limits();
    let mut runtime_id = [0u8; 32];
    let mut local_worker = None;
    let mut quoter = None;
    let mut taps = None;
    let mut executor_for_pool = None;
    if config.workers > 0 {
        let key = match &config.worker_key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)?;
                WorkerKey::from_hex(&text)
                    .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?
            }
            None => WorkerKey::generate(),
        };
        allowed.insert(key.address());
        let started = std::time::Instant::now();
        let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(sandbox_config))
            .await
            .map_err(|e| Error::Worker(e.to_string()))?
            .map_err(|e| Error::Worker(e.to_string()))?;
        let executor = Arc::new(
            JobExecutor::new(Arc::new(sandbox), key)
                .with_module_source(Arc::new(RegistrySource(modules.clone())))
                // A job streamed by another coordinator of the fleet: its output log.
                .with_output_log(queue.clone()),
        );
        runtime_id = executor.runtime().id().0;
        local_worker = Some(executor.address());
        quoter = Some(executor.clone());
        taps = Some(executor.taps().clone());
        tracing::info!(
            worker = %executor.address(),
            slots = config.workers,
            runtime_id = %executor.runtime().id(),
            ready_ms = started.elapsed().as_millis() as u64,
            "in-process workers ready (ephemeral key unless --worker-key-file)"
        );
        executor_for_pool = Some(executor);
    }
    if allowed.is_empty() {
        tracing::warn!("no worker is allowed (--allow-worker): every result will be rejected");
    }
    for worker in &allowed {
        tracing::info!(%worker, "accepting attestations from worker");
    }
    let mut accepted_runtimes: HashSet<_> = config.accepted_runtimes.iter().copied().collect();
    if !accepted_runtimes.is_empty() && local_worker.is_some() {
        accepted_runtimes.insert(notary_protocol::Digest32(runtime_id));
    }
    for runtime in &accepted_runtimes {
        tracing::info!(%runtime, "accepting results of runtime");
    }
    // Workers to register in the registry (payments on), with their runtime as config hash.
    let workers: Vec<_> = allowed
        .iter()
        .map(|w| (*w, alloy::primitives::B256::from(runtime_id)))
        .collect();

    let jobs = Arc::new(
        JobService::new(
            store.clone(),
            queue.clone(),
            Arc::new(FirstAccepted),
            allowed,
            config.max_deliveries,
            config.lease_ttl,
            book,
        )
        .with_accepted_runtimes(accepted_runtimes),
    );
    // Embedded restart: what was queued or running when the process stopped runs again.
    let requeued = jobs.recover().await?;
    if requeued > 0 {
        tracing::warn!(
            jobs = requeued,
            "queued again the jobs that were unfinished at the last stop"
        );
    }
    let pool = match executor_for_pool {
        Some(executor) => {
            // The in-process slots' reports are checked here: skip recovering signatures this
            // process made itself (see notary_protocol::own_signatures).
            notary_protocol::own_signatures::remember_own_signatures();
            let pool_config = PoolConfig {
                concurrency: config.workers,
                heartbeat_interval: config.lease_ttl / 3,
                ..PoolConfig::default()
            };
            // Leases are recorded in the store, so a restart counts only real deliveries.
            let leases: Arc<dyn JobQueue> = Arc::new(
                crate::jobs::deliveries::RecordedDeliveries::new(queue.clone(), store.clone()),
            );
            Some(WorkerPool::start(leases, executor, pool_config)?)
        }
        None => None,
    };

    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    // Several intake tasks: handling one result waits on the store (the final write), so one
    // task alone would cap the results handled per second at one store round trip each. They
    // share the consumer name (one coordinator); the handling is safe to run at once, as it is
    // across coordinators (compare-and-set final write, versioned jury state).
    for _ in 0..INTAKE_TASKS {
        let (jobs, stop, instance) = (jobs.clone(), stop.clone(), instance.clone());
        tasks.push(tokio::spawn(async move {
            jobs.run_intake(&instance, stop).await
        }));
    }
    tasks.push(tokio::spawn(crate::jobs::reaper::run(
        queue.clone(),
        config.lease_ttl,
        config.max_deliveries,
        stop.clone(),
    )));

    // Webhooks: the consumer fills the outbox from the event log; the delivery task drains it.
    // Both are tasks of their own, so a slow or dead receiver never holds up job handling.
    tasks.push(crate::jobs::consumers::spawn(
        jobs.events(),
        Arc::new(WebhookConsumer::new(store.clone(), webhooks.clone())),
        // Deliveries go through the outbox anyway: a few ms more batch the reads.
        ConsumerOptions {
            linger: crate::jobs::consumers::BATCH_LINGER,
            ..ConsumerOptions::default()
        },
        stop.clone(),
    ));
    tasks.push(tokio::spawn(
        Deliverer::new(webhooks.clone(), &config.webhooks)?.run(stop.clone()),
    ));

    crate::metrics::init();
    let mut protect_config = config.protect.clone();
    if config.payments.is_some() {
        // With payments on, an agent is its payer address (at most --max-jobs-per-payer
        // unfinished jobs, counted by the payments layer), not its IP.
        protect_config.max_concurrent_per_agent = 0;
    }
    let protect = Arc::new(crate::protect::Protection::new(
        protect_config,
        config
            .redis
            .as_deref()
            .map(|url| (url, config.redis_prefix.as_str())),
        store.clone(),
    )?);
    if let Some(url) = &config.redis {
        // Serve at once even if Redis is away (`/ready` says so and new jobs get 503); the
        // first contact creates the streams and groups, retried with logs until it works.
        let mut qc = RedisQueueConfig::new(url.clone());
        qc.key_prefix = config.redis_prefix.clone();
        // Creates every shard's groups; publishes the allow list and the shard count (workers
        // check both at start).
        let contact = ShardedQueue::new_lazy(qc, config.redis_shards)?;
        // Workers read the allow list at start and refuse to lease with a key it lacks.
        let allow: Vec<String> = config
            .allowed_workers
            .iter()
            .map(|a| a.to_string())
            .collect();
        // A Redis Cluster works with a hash-tagged prefix only: refuse one without, now if
        // Redis answers now, else once it does.
        let cluster = tokio::time::timeout(Duration::from_secs(3), contact.cluster_problem()).await;
        if let Ok(Ok(Some(problem))) = cluster {
            return Err(Error::Config(format!("{}: {problem}", redact_url(url))));
        }
        let first = tokio::time::timeout(Duration::from_secs(3), contact.ensure_groups()).await;
        if matches!(first, Ok(Ok(()))) {
            publish_fleet(&contact, &allow).await;
            protect.set_backends_up(true);
        } else {
            let protect = protect.clone();
            let url = url.clone();
            tokio::spawn(async move {
                contact.wait_until_ready(std::future::pending()).await;
                if let Ok(Some(problem)) = contact.cluster_problem().await {
                    // Reached only now: stay not ready (new jobs get 503) and say why.
                    tracing::error!(redis = %redact_url(&url), problem, "refusing to use this Redis");
                    return;
                }
                publish_fleet(&contact, &allow).await;
                protect.set_backends_up(true);
            });
        }
    }
    tasks.push(tokio::spawn(
        protect.clone().sample(queue.clone(), stop.clone()),
    ));

    let payments = match (&config.payments, ledger) {
        (Some(pc), Some(ledger)) => {
            // Active workers of the stats: the fleet's stream consumers, or this process's
            // worker slots.
            let active = match &config.redis {
                Some(url) => ActiveWorkers::fleet(url, &config.redis_prefix, config.redis_shards)?,
                None => ActiveWorkers::InProcess(config.workers),
            };
            let p = Payments::start(
                pc.clone(),
                config.domain,
                ledger,
                active,
                store.clone(),
                &workers,
                local_worker,
                quoter,
                jobs.juries().book().clone(),
            )
            .await?;
            Some(p)
        }
        _ => None,
    };
    if let Some(p) = payments.clone() {
        // Final paid jobs are settled from their events; the sweep only refunds orphans (paid
        // jobs without a record, which have no event) and beats the uptime.
        tasks.push(consumers::spawn(
            jobs.events(),
            Arc::new(SettlementConsumer(p.clone())),
            ConsumerOptions {
                linger: consumers::BATCH_LINGER,
                ..ConsumerOptions::default()
            },
            stop.clone(),
        ));
        tasks.push(tokio::spawn(p.clone().sweep(stop.clone())));
        if p.config.validation_registry.is_some() {
            // Verdicts of jobs that name an ERC-8004 validation request, posted there.
            // A verdict goes on chain: a few ms more batch the reads.
            tasks.push(consumers::spawn(
                jobs.events(),
                Arc::new(ValidationConsumer(p)),
                ConsumerOptions {
                    linger: consumers::BATCH_LINGER,
                    ..ConsumerOptions::default()
                },
                stop.clone(),
            ));
        }
    }

    let state = Arc::new(AppState {
        payments,
        lease_ttl: config.lease_ttl,
        jobs,
        fuel: config.sandbox.fuel(),
        domain: config.domain,
        limits,
        modules,
        max_module_bytes: config.max_module_bytes,
        max_chain: config.max_chain,
        taps,
        max_batch: config.max_batch,
        sync_wait: config.sync_wait,
        draining: AtomicBool::new(false),
        protect,
        webhooks,
        webhook_policy: Arc::new(AddressPolicy::new(config.webhooks.allow.clone())),
        actors: crate::actors::Actors::new(replay),
        approval: config.worker_approval,
        assignments,
        onchain_pending: Default::default(),
    });
    // Chain steps are built like any job (the API's defaults), so this consumer needs the state.
    // It reads many events at once (most jobs are not chain steps: one read per job otherwise,
    // the busiest reader of the log), and a step this replica finalizes ends the linger, so the
    // next step does not wait for it.
    tasks.push(consumers::spawn(
        state.jobs.events(),
        Arc::new(crate::compute::ChainConsumer(state.clone())),
        ConsumerOptions {
            linger: consumers::BATCH_LINGER,
            wake: Some(state.jobs.wake_on_final(|r| r.chain.is_some())),
            ..ConsumerOptions::default()
        },
        stop.clone(),
    ));
    if let Some(p) = state
        .payments
        .clone()
        .filter(|p| p.config.compute_coordinator.is_some())
    {
        // On-chain requests: watched, run as one-container chains, delivered back.
        let watcher =
            crate::compute::onchain::OnchainWatcher::new(state.clone(), p.clone()).await?;
        tasks.push(tokio::spawn(watcher.run(stop.clone())));
        tasks.push(consumers::spawn(
            state.jobs.events(),
            Arc::new(crate::compute::onchain::DeliveryConsumer {
                payments: p,
                store: state.jobs.store().clone(),
            }),
            // Deliveries go on chain: a few ms more batch the reads.
            ConsumerOptions {
                linger: consumers::BATCH_LINGER,
                ..ConsumerOptions::default()
            },
            stop.clone(),
        ));
    }
    let app = crate::api::app(state.clone());
    tracing::info!(listen = %listener.local_addr()?, "serving the API");
    let drain_state = state.clone();
    let limits = crate::http_server::ConnectionLimits {
        max_connections: config.protect.max_connections,
        max_per_ip: config.protect.max_connections_per_ip,
        max_package_bytes: crate::api::modules::max_package_bytes(config.max_module_bytes)
            .max(crate::config::MAX_BODY_BYTES),
        max_body_bytes: crate::config::MAX_BODY_BYTES,
        header_read_timeout: config.protect.header_read_timeout,
        body_read_timeout: config.protect.body_read_timeout,
    };
    crate::http_server::serve(listener, app, limits, async move {
        shutdown.await;
        drain_state.draining.store(true, Ordering::Relaxed);
        tracing::info!("shutting down: refusing new jobs, answering in-flight requests");
    })
    .await?;

    if let Some(pool) = pool {
        pool.shutdown().await;
    }
    stop.cancel();
    for task in tasks {
        let _ = task.await;
    }
    tracing::info!("coordinator stopped");
    Ok(())
}

/// Publishes what a fleet's workers check at start: the worker allow list and the queue's
/// shard count. A failure is logged (workers then wait or assume an older fleet).
async fn publish_fleet(contact: &ShardedQueue, allow: &[String]) {
    if let Err(e) = contact.base().publish_allowed_workers(allow).await {
        tracing::warn!(error = %e, "could not publish the worker allow list");
    }
    if let Err(e) = contact.publish_shards().await {
        tracing::warn!(error = %e, "could not publish the queue's shard count");
    }
}
