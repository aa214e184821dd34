//! # notary-coordinator
//!
//! The front of Notary: clients `POST /verify` code, an input and the sha256 they expect the
//! output to have; the coordinator validates the request, records the job, queues it, and
//! answers with the attested verdict (or a `checkStatusAt` link when it takes longer).
//!
//! - [`config`]: flags, `NOTARY_*` environment and a TOML file, merged and resolved.
//! - [`request`]: a request body becomes a [`record::JobRecord`], or a precise 400/413.
//! - [`api`]: the axum router and handlers ([`api::app`]), responses with source document
//!   002's fields and status codes, errors through [`error::ApiError`].
//! - [`store`]: job records (Redis, or memory for the embedded mode), first-wins finalization
//!   and wake-ups for requests waiting on a result.
//! - [`protect`]: per-IP rate limit, circuit breaker, load caps and backend readiness, as
//!   one middleware in front of the routes.
//! - [`metrics`]: Prometheus metrics (`GET /metrics`), one function per event.
//! - [`modules`]: the module registry (`POST /modules`): packages admitted with the workers'
//!   validator, stored content-addressed in Redis or memory, named by jobs as `moduleHash`.
//! - [`tasks`]: `data-transformation` and `api-replay` as JavaScript generated around the
//!   user's code.
//! - [`intake`]: checks each worker report (signature, allowed worker, signed fields, verdict)
//!   and finalizes the job.
//! - [`run`]: wires it together. Embedded by default (memory queue and records, in-process
//!   workers with an ephemeral key); with `--redis`, any number of coordinators and
//!   `notary-worker` processes share one Redis. A reaper on every coordinator reclaims leases
//!   of dead workers.
//!
//! Binaries stay thin: `main.rs` parses options and calls [`run`] with a listener and a
//! shutdown future, which is also how the tests start real servers on port 0.

pub mod api;
pub mod chain;
pub mod config;
pub mod error;
pub mod intake;
pub mod metrics;
pub mod modules;
pub mod payments;
pub mod protect;
pub mod record;
pub mod request;
pub mod store;
pub mod tasks;

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use notary_protocol::WorkerKey;
use notary_queue::{JobQueue, MemoryQueue, RedisQueue, RedisQueueConfig};
use notary_worker::sandbox::Sandbox;
use notary_worker::{JobExecutor, PoolConfig, WorkerPool};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::{Config, Settings};
pub use error::{Error, Result};

use crate::api::AppState;
use crate::intake::Intake;
use crate::modules::{MemoryModules, ModuleStore, RedisModules, RegistrySource};
use crate::store::{JobStore, MemoryStore, RedisStore};

/// Runs a coordinator on `listener` until `shutdown` resolves, then drains: new jobs get 503,
/// in-flight requests are answered, in-process workers finish their running jobs.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let modules: Arc<dyn ModuleStore> = match &config.redis {
        None => Arc::new(MemoryModules::default()),
        Some(url) => Arc::new(RedisModules::new_lazy(url, &config.redis_prefix)?),
    };
    let (store, queue): (Arc<dyn JobStore>, Arc<dyn JobQueue>) = match &config.redis {
        None => {
            tracing::info!(
                "embedded mode: in-memory queue and job records (jobs do not survive a restart)"
            );
            (
                Arc::new(MemoryStore::new(config.retention)),
                Arc::new(MemoryQueue::default()),
            )
        }
        Some(url) => {
            let mut qc = RedisQueueConfig::new(url.clone());
            qc.key_prefix = config.redis_prefix.clone();
            let queue = Arc::new(RedisQueue::new_lazy(qc)?);
            let store = RedisStore::new_lazy(url, &config.redis_prefix, config.retention)?;
            tracing::info!(redis = %redact(url), "fleet mode: queue and job records in Redis");
            (store, queue)
        }
    };
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
    let pool = if config.workers > 0 {
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
                .with_module_source(Arc::new(RegistrySource(modules.clone()))),
        );
        runtime_id = executor.runtime().id().0;
        local_worker = Some(executor.address());
        quoter = Some(executor.clone());
        tracing::info!(
            worker = %executor.address(),
            slots = config.workers,
            runtime_id = %executor.runtime().id(),
            ready_ms = started.elapsed().as_millis() as u64,
            "in-process workers ready (ephemeral key unless --worker-key-file)"
        );
        let pool_config = PoolConfig {
            concurrency: config.workers,
            heartbeat_interval: config.lease_ttl / 3,
            ..PoolConfig::default()
        };
        Some(WorkerPool::start(queue.clone(), executor, pool_config)?)
    } else {
        None
    };
    if allowed.is_empty() {
        tracing::warn!("no worker is allowed (--allow-worker): every result will be rejected");
    }
    for worker in &allowed {
        tracing::info!(%worker, "accepting attestations from worker");
    }

    // Workers to register in the registry (payments on), with their runtime as config hash.
    let workers: Vec<_> = allowed
        .iter()
        .map(|w| (*w, alloy::primitives::B256::from(runtime_id)))
        .collect();
    let intake = Arc::new(Intake {
        store: store.clone(),
        queue: queue.clone(),
        allowed,
        max_deliveries: config.max_deliveries,
        consumer: format!("coordinator-{}", notary_worker::pool::default_worker_name()),
    });
    let intake_task = tokio::spawn(intake.run(stop.clone()));
    let reaper_task = tokio::spawn(reap(
        queue.clone(),
        config.lease_ttl,
        config.max_deliveries,
        stop.clone(),
    ));

    metrics::init();
    let mut protect_config = config.protect.clone();
    if config.payments.is_some() {
        // With payments on, an agent is its payer address (at most --max-jobs-per-payer
        // unfinished jobs, counted by the payments layer), not its IP.
        protect_config.max_concurrent_per_agent = 0;
    }
    let protect = Arc::new(protect::Protection::new(
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
        let contact = RedisQueue::new_lazy(qc)?;
        let first = tokio::time::timeout(Duration::from_secs(3), contact.ensure_groups()).await;
        if matches!(first, Ok(Ok(()))) {
            protect.set_backends_up(true);
        } else {
            let (url, protect) = (url.clone(), protect.clone());
            tokio::spawn(async move {
                wait_for_redis(&contact, &url).await;
                protect.set_backends_up(true);
            });
        }
    }
    let sampler_task = tokio::spawn(protect.clone().sample(queue.clone(), stop.clone()));

    let payments = match (&config.payments, &config.redis) {
        (Some(pc), Some(url)) => {
            let p = payments::Payments::start(
                pc.clone(),
                config.domain,
                url,
                &config.redis_prefix,
                store.clone(),
                &workers,
                local_worker,
                quoter,
            )
            .await?;
            Some(p)
        }
        _ => None,
    };
    let sweep_task = payments
        .clone()
        .map(|p| tokio::spawn(p.sweep(stop.clone())));

    let state = Arc::new(AppState {
        payments,
        lease_ttl: config.lease_ttl,
        store,
        queue,
        fuel: config.sandbox.fuel(),
        domain: config.domain,
        limits,
        modules,
        max_module_bytes: config.max_module_bytes,
        sync_wait: config.sync_wait,
        draining: AtomicBool::new(false),
        protect,
    });
    let app = api::app(state.clone());
    tracing::info!(listen = %listener.local_addr()?, "serving the API");
    let drain_state = state.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        drain_state.draining.store(true, Ordering::Relaxed);
        tracing::info!("shutting down: refusing new jobs, answering in-flight requests");
    })
    .await?;

    if let Some(pool) = pool {
        pool.shutdown().await;
    }
    stop.cancel();
    let _ = intake_task.await;
    let _ = reaper_task.await;
    if let Some(task) = sweep_task {
        let _ = task.await;
    }
    let _ = sampler_task.await;
    tracing::info!("coordinator stopped");
    Ok(())
}

/// Every coordinator reaps: leases idle past the TTL go back to the queue (or, at the delivery
/// limit, to the intake as dead letters). Safe to run on many replicas at once.
async fn reap(
    queue: Arc<dyn JobQueue>,
    lease_ttl: Duration,
    max_deliveries: u32,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval((lease_ttl / 2).max(Duration::from_millis(50)));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        match queue.reap(lease_ttl, max_deliveries).await {
            Ok(report) if report.redelivered + report.dead_lettered > 0 => {
                metrics::lease_reclaims(report.redelivered, report.dead_lettered);
                tracing::warn!(
                    redelivered = report.redelivered,
                    dead_lettered = report.dead_lettered,
                    "reclaimed expired leases"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "reap failed"),
        }
    }
}

/// Waits until Redis answers, creating the streams and groups on first contact.
async fn wait_for_redis(queue: &RedisQueue, url: &str) {
    let mut delay = Duration::from_millis(200);
    while let Err(e) = queue.ensure_groups().await {
        tracing::warn!(redis = %redact(url), error = %e, "Redis not reachable yet; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// A Redis URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
