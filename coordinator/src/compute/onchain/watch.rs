//! The watcher of on-chain requests: every `--compute-poll-ms` it scans the confirmed blocks
//! it has not scanned for `ComputeRequested`, stores what it finds, and submits each open
//! request's due intervals. See the module docs of [`super`].

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use notary_protocol::Digest32;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{interval_job_id, OnchainRequest};
use crate::api::AppState;
use crate::chain::contracts::ComputeCoordinator as C;
use crate::compute::{
    build_step, first_link, progress, ChainContainer, ChainStep, Progress, StepInput,
};
use crate::error::{Error, Result};
use crate::payments::{chain_err, Payments};
use crate::record::now_ms;

/// Most blocks one `eth_getLogs` asks for (public RPC endpoints refuse much wider ranges).
const SCAN_BLOCKS: u64 = 2_000;
/// How long the lock of a submission is held at most (a crashed holder frees it then).
const SUBMIT_LOCK_TTL: Duration = Duration::from_secs(30);

/// The watcher task's state.
pub struct OnchainWatcher {
    state: Arc<AppState>,
    payments: Arc<Payments>,
    contract: Address,
    from_block: u64,
    poll: Duration,
    /// Intervals ended on chain (delivered or refused): not looked at again.
    done: Mutex<HashSet<(U256, u32)>>,
    /// Requests already warned about (a request that cannot start yet waits, logged once).
    warned: Mutex<HashSet<U256>>,
}

impl OnchainWatcher {
    /// Checks that `contract` is a `ComputeCoordinator` this coordinator is the node of, over
    /// the registry its workers sign for; the watcher if so.
    pub async fn new(state: Arc<AppState>, payments: Arc<Payments>) -> Result<OnchainWatcher> {
        let contract = payments
            .config
            .compute_coordinator
            .ok_or_else(|| Error::Config("no --compute-coordinator".into()))?;
        let c = C::new(contract, payments.chain.provider());
        let node = c.node().call().await.map_err(|e| {
            Error::Config(format!(
                "--compute-coordinator {contract} is not a ComputeCoordinator: {e}"
            ))
        })?;
        let me = payments.config.chain_key.0.address();
        if node != me {
            return Err(Error::Config(format!(
                "--compute-coordinator {contract} delivers only from its node {node}, not from this chain key ({me})"
            )));
        }
        let registry = c.registry().call().await.map_err(chain_err)?;
        if Some(registry) != payments.registry {
            return Err(Error::Config(format!(
                "--compute-coordinator {contract} checks signers in the registry {registry}, not in --registry {:?}",
                payments.registry
            )));
        }
        Ok(OnchainWatcher {
            contract,
            from_block: payments.config.compute_from_block,
            poll: payments.config.compute_poll,
            state,
            payments,
            done: Mutex::new(HashSet::new()),
            warned: Mutex::new(HashSet::new()),
        })
    }

    /// Runs until `stop`: one [`OnchainWatcher::tick`] per poll interval.
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(contract = %self.contract, from_block = self.from_block, "watching on-chain compute requests");
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(contract = %self.contract, error = %e, "on-chain requests: this round failed; retrying");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Scans the newly confirmed blocks, then submits what is due and counts what is pending.
    pub async fn tick(&self) -> Result<()> {
        let latest = self
            .payments
            .chain
            .provider()
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(chain_err)?
            .ok_or_else(|| Error::Chain("the node has no latest block".into()))?;
        self.scan(latest.header.number).await?;
        // The contract compares with the block's time; a new block is never older than the
        // wall clock on a live chain (and on a dev chain that jumped ahead, the chain's time
        // is the later one).
        let now = latest.header.timestamp.max(now_ms() / 1000);
        self.schedule(now).await
    }

    /// Stores the requests of the blocks with `--confirmations` (a log in block b has
    /// `head - b + 1`), moving the stored cursor with them.
    async fn scan(&self, head: u64) -> Result<()> {
        let Some(safe) = (head + 1).checked_sub(self.payments.config.confirmations) else {
            return Ok(());
        };
        let ledger = self.payments.ledger();
        let provider = self.payments.chain.provider();
        let c = C::new(self.contract, provider);
        let mut from = ledger
            .onchain_cursor(self.contract)
            .await?
            .unwrap_or(self.from_block);
        while from <= safe {
            let to = safe.min(from + SCAN_BLOCKS - 1);
            let filter = alloy::rpc::types::Filter::new()
                .address(self.contract)
                .event_signature(C::ComputeRequested::SIGNATURE_HASH)
                .from_block(from)
                .to_block(to);
            let logs = provider.get_logs(&filter).await.map_err(chain_err)?;
            let mut found = Vec::with_capacity(logs.len());
            for log in logs {
                let Ok(e) = C::ComputeRequested::decode_log(&log.inner) else {
                    continue;
                };
                // Interval 0's due time is the request's block time.
                let created_at = c.dueAt(e.requestId, 0).call().await.map_err(chain_err)?;
                found.push(OnchainRequest {
                    request_id: e.requestId,
                    consumer: e.consumer,
                    containers_hash: e.containersHash,
                    containers: e.containers.clone(),
                    input: e.input.clone(),
                    max_fuel: e.maxFuel,
                    redundancy: e.redundancy,
                    frequency: e.frequency,
                    period: e.period,
                    created_at,
                    block: log.block_number.unwrap_or(to),
                });
            }
            for r in &found {
                tracing::info!(request = %r.request_id, consumer = %r.consumer, frequency = r.frequency, block = r.block, "on-chain compute request seen");
            }
            ledger.record_onchain(self.contract, &found, to + 1).await?;
            from = to + 1;
        }
        Ok(())
    }

    /// Submits every open request's due intervals that have no job yet, closes the requests
    /// with nothing left to deliver, and publishes the count of intervals not delivered.
    async fn schedule(&self, now: u64) -> Result<()> {
        let ledger = self.payments.ledger();
        let mut pending = 0u64;
        for r in ledger.open_onchain(self.contract).await? {
            let open = self.schedule_request(&r, now).await?;
            if open == 0 {
                ledger.close_onchain(self.contract, r.request_id).await?;
                tracing::info!(request = %r.request_id, "on-chain request complete");
            }
            pending += open;
        }
        self.state.onchain_pending.store(pending, Ordering::Relaxed);
        Ok(())
    }

    /// Intervals of `r` not delivered yet (due or not), submitting the due ones without a job.
    async fn schedule_request(&self, r: &OnchainRequest, now: u64) -> Result<u64> {
        let c = C::new(self.contract, self.payments.chain.provider());
        let store = self.state.jobs.store();
        let chain_id = self.payments.chain.chain_id();
        let mut open = 0u64;
        for interval in 0..r.frequency {
            if self.is_done(r.request_id, interval) {
                continue;
            }
            if r.due_at(interval) > now {
                // Later intervals are due later still.
                open += u64::from(r.frequency - interval);
                break;
            }
            let job = interval_job_id(chain_id, self.contract, r.request_id, interval);
            let state = match store.get(job).await? {
                Some(head) => Some(progress(store.as_ref(), &head).await?),
                None => None,
            };
            if matches!(state, Some(Progress::Running)) {
                open += 1;
                continue;
            }
            let ended = c
                .ended(r.request_id, interval)
                .call()
                .await
                .map_err(chain_err)?;
            if ended {
                self.mark_done(r.request_id, interval);
                continue;
            }
            if state.is_none() {
                self.submit(r, interval, job).await?;
            }
            // Submitted, or final: the delivery consumer delivers or refuses it.
            open += 1;
        }
        Ok(open)
    }

    fn is_done(&self, request: U256, interval: u32) -> bool {
        self.done
            .lock()
            .expect("done set")
            .contains(&(request, interval))
    }

    fn mark_done(&self, request: U256, interval: u32) {
        self.done
            .lock()
            .expect("done set")
            .insert((request, interval));
    }

    /// Logs once per request why it cannot start yet.
    fn wait(&self, r: &OnchainRequest, why: &str) {
        if self.warned.lock().expect("warned set").insert(r.request_id) {
            tracing::warn!(request = %r.request_id, containers_hash = %r.containers_hash, why, "on-chain request waits");
        }
    }

    /// Submits `interval`'s job unless another coordinator holds its submission or stored it.
    async fn submit(&self, r: &OnchainRequest, interval: u32, job: Uuid) -> Result<()> {
        let containers = match self.containers(r).await? {
            Ok(containers) => containers,
            Err(why) => {
                self.wait(r, &why);
                return Ok(());
            }
        };
        let Ok(input) = std::str::from_utf8(&r.input) else {
            return self
                .refuse(r, interval, job, "the input is not UTF-8 text")
                .await;
        };
        if super::tier_for(r.redundancy).is_none() {
            let why = format!(
                "redundancy {} is more than a jury's majority can sign (at most 4)",
                r.redundancy
            );
            return self.refuse(r, interval, job, &why).await;
        }
        let link = first_link(&containers);
        let step = ChainStep {
            head: job,
            index: 0,
            containers,
            client: None,
            onchain: Some(r.job(self.contract, interval)),
        };
        let defaults = self.state.job_defaults();
        let record = match build_step(&defaults, step, StepInput::Stdin(input), link).await {
            Ok(record) => record,
            Err(e) => {
                self.wait(r, &format!("the job is refused: {e:?}"));
                return Ok(());
            }
        };
        let ledger = self.payments.ledger();
        let owner = Uuid::new_v4().to_string();
        if !ledger.lock_settling(job, &owner, SUBMIT_LOCK_TTL).await? {
            return Ok(());
        }
        let result = match self.state.jobs.store().get(job).await {
            Ok(None) => self.state.jobs.submit(&record, None).await,
            Ok(Some(_)) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = ledger.unlock_settling(job, &owner).await {
            tracing::warn!(job_id = %job, error = %e, "submission lock not released; it expires");
        }
        result?;
        tracing::info!(request = %r.request_id, interval, job_id = %job, "on-chain interval submitted");
        Ok(())
    }

    /// Refuses an interval that can never run (its payment goes back to the consumer).
    async fn refuse(&self, r: &OnchainRequest, interval: u32, job: Uuid, why: &str) -> Result<()> {
        super::deliver::end_interval(
            &self.payments,
            &r.job(self.contract, interval),
            job,
            super::deliver::Ending::Refuse(why.to_string()),
        )
        .await
    }

    /// The chain's registered modules: those `requestChain` named, or the one module whose
    /// one-container chain link is the request's `containersHash`. `Err`: why not (yet).
    async fn containers(
        &self,
        r: &OnchainRequest,
    ) -> Result<std::result::Result<Vec<ChainContainer>, String>> {
        let named = |m: &crate::modules::RegisteredModule| ChainContainer {
            id: format!("{}@{}", m.manifest.name, m.manifest.version),
            module: m.manifest.sha256,
        };
        if r.containers.is_empty() {
            for m in self.state.modules.list().await? {
                let c = named(&m);
                if first_link(std::slice::from_ref(&c)).0 == r.containers_hash.0 {
                    return Ok(Ok(vec![c]));
                }
            }
            return Ok(Err(
                "no registered module has this containersHash (a one-container chain link)".into(),
            ));
        }
        let mut out = Vec::with_capacity(r.containers.len());
        for hash in &r.containers {
            match self.state.modules.manifest(&Digest32(hash.0)).await? {
                Some(m) => out.push(named(&m)),
                None => return Ok(Err(format!("module {hash} is not registered"))),
            }
        }
        Ok(Ok(out))
    }
}
