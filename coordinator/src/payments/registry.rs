//! Registry writes: completed paid jobs' attestations go to `VerificationRegistry`, many per
//! transaction when many jobs complete together. A record carries every signature over its
//! fields: one worker's for a tier-1 job, every agreeing juror's of the deciding round for a
//! jury (the contract recovers each, checks they are distinct registered workers, and keeps
//! them as the record's `signers`, so the jury size is readable on chain).
//!
//! One task owns the writes. It takes the first waiting record, gathers more for up to
//! `batch_wait` (at most `batch_max`), and sends them as one `recordBatch`; every job in the
//! batch gets that transaction's hash. A batch is all-or-nothing on chain, so when a batch of
//! several fails, each record is retried alone: one bad record does not fail its neighbours.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::sol_types::SolCall;
use notary_protocol::SignedAttestation;
use tokio::sync::{mpsc, oneshot};

use crate::chain::contracts::VerificationRegistry as R;
use crate::chain::{Chain, ChainError, ChainResult};
use crate::error::{Error, Result};

type Reply = oneshot::Sender<std::result::Result<B256, String>>;

/// One record: the same attestation fields signed by each of its signers (at least one).
pub type Signed = Vec<SignedAttestation>;

/// Handle of the writer task.
pub struct RegistryWriter {
    tx: mpsc::Sender<(Signed, Reply)>,
}

/// The contract's struct from the protocol's attestation.
pub fn to_sol(att: &SignedAttestation) -> (R::Attestation, Bytes) {
    let f = &att.fields;
    let attestation = R::Attestation {
        jobId: f.job_id_word(),
        codeHash: B256::from(f.code_hash.0),
        inputHash: B256::from(f.input_hash.0),
        outputHash: B256::from(f.output_hash.0),
        expectedHash: B256::from(f.expected_hash.0),
        fuelUsed: f.fuel_used,
        result: f.result.code(),
        runtimeId: B256::from(f.runtime_id.0),
    };
    let sig = att.signature.parse::<Bytes>().unwrap_or_default();
    (attestation, sig)
}

impl RegistryWriter {
    /// Starts the writer task.
    pub fn start(
        chain: Arc<Chain>,
        registry: Address,
        batch_max: usize,
        batch_wait: Duration,
    ) -> RegistryWriter {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(write_loop(chain, registry, batch_max, batch_wait, rx));
        RegistryWriter { tx }
    }

    /// Records one result with its signatures (the same fields each); returns the transaction
    /// that recorded it.
    pub async fn record(&self, signed: Signed) -> std::result::Result<B256, String> {
        if signed.is_empty() || signed.iter().any(|a| a.fields != signed[0].fields) {
            return Err("a record needs signatures over the same fields".into());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((signed, reply))
            .await
            .map_err(|_| "the registry writer stopped".to_string())?;
        rx.await
            .map_err(|_| "the registry writer stopped".to_string())?
    }
}

async fn write_loop(
    chain: Arc<Chain>,
    registry: Address,
    batch_max: usize,
    batch_wait: Duration,
    mut rx: mpsc::Receiver<(Signed, Reply)>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + batch_wait;
        while batch.len() < batch_max {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(item)) => batch.push(item),
                _ => break,
            }
        }
        let atts: Vec<_> = batch.iter().map(|(a, _)| a.clone()).collect();
        match write_batch(&chain, registry, &atts).await {
            Ok(hash) => {
                tracing::info!(records = atts.len(), tx = %hash, "registry batch written");
                for (_, reply) in batch {
                    let _ = reply.send(Ok(hash));
                }
            }
            Err(e) if batch.len() == 1 => {
                let (_, reply) = batch.pop().expect("one");
                let _ = reply.send(Err(e.to_string()));
            }
            Err(e) => {
                tracing::warn!(records = batch.len(), error = %e, "registry batch failed; writing one by one");
                for (att, reply) in batch {
                    let r = write_batch(&chain, registry, std::slice::from_ref(&att)).await;
                    let _ = reply.send(r.map_err(|e| e.to_string()));
                }
            }
        }
    }
}

/// One `recordBatch` transaction, waited for.
pub async fn write_batch(
    chain: &Chain,
    registry: Address,
    records: &[Signed],
) -> ChainResult<B256> {
    let (attestations, signatures): (Vec<_>, Vec<_>) = records
        .iter()
        .map(|signed| {
            let (att, _) = to_sol(&signed[0]);
            (att, signed.iter().map(|a| to_sol(a).1).collect())
        })
        .unzip();
    let call = R::recordBatchCall {
        attestations,
        signatures,
    };
    let hash = chain
        .send(Some(registry), U256::ZERO, Bytes::from(call.abi_encode()))
        .await?;
    chain.wait_success(hash, Duration::from_secs(60)).await?;
    Ok(hash)
}

/// Registers workers (with the hash of their runtime as config hash) that are not registered
/// yet, when the chain key owns the registry; otherwise only warns about missing ones.
pub async fn register_workers(
    chain: &Chain,
    registry: Address,
    workers: &[(Address, B256)],
) -> Result<()> {
    let contract = R::new(registry, chain.provider());
    let owner = contract
        .owner()
        .call()
        .await
        .map_err(|e| Error::Chain(format!("registry {registry} does not answer: {e}")))?;
    for (worker, config_hash) in workers {
        let w = contract
            .workers(*worker)
            .call()
            .await
            .map_err(|e| Error::Chain(e.to_string()))?;
        if w.active {
            continue;
        }
        if Some(owner) != chain.sender() {
            tracing::warn!(%worker, "worker is not registered in the registry and the chain key does not own it: its results cannot be recorded");
            continue;
        }
        let call = R::registerWorkerCall {
            worker: *worker,
            configHash: *config_hash,
        };
        chain
            .transact(Some(registry), U256::ZERO, Bytes::from(call.abi_encode()))
            .await
            .map_err(|e: ChainError| Error::Chain(e.to_string()))?;
        tracing::info!(%worker, "worker registered in the registry");
    }
    Ok(())
}

/// The transaction that recorded `job_word` in the registry, if it is recorded: found through
/// the `ResultRecorded` event indexed by job id. Lets a settlement re-run after a crash find a
/// write that already happened instead of writing (and failing, and refunding) again.
pub async fn find_record(chain: &Chain, registry: Address, job_word: B256) -> Result<Option<B256>> {
    use alloy::providers::Provider;
    use alloy::sol_types::SolEvent;
    let contract = R::new(registry, chain.provider());
    let id = contract
        .recordOfJob(job_word)
        .call()
        .await
        .map_err(|e| Error::Chain(e.to_string()))?;
    if id == B256::ZERO {
        return Ok(None);
    }
    let filter = alloy::rpc::types::Filter::new()
        .address(registry)
        .event_signature(R::ResultRecorded::SIGNATURE_HASH)
        .topic2(job_word)
        .from_block(0);
    let logs = chain
        .provider()
        .get_logs(&filter)
        .await
        .map_err(|e| Error::Chain(e.to_string()))?;
    Ok(logs.first().and_then(|l| l.transaction_hash))
}

/// A worker as the registry holds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnChainWorker {
    /// The registry contract.
    #[schema(value_type = String)]
    pub registry: Address,
    /// Whether the registry counts its signatures.
    pub active: bool,
    /// The config hash (runtime id) it is registered with.
    #[schema(value_type = String)]
    pub config_hash: B256,
    /// Registered with its own signature (`registerWorkerSigned`), not on the owner's word.
    pub self_signed: bool,
    /// Block time of the last registration, unix seconds.
    pub registered_at: u64,
    /// Deadline of the last signed registration (a new one must be later).
    pub registration_deadline: u64,
    /// The transaction that anchored it, when this request sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub tx_hash: Option<B256>,
}

/// Reads a worker's registry entry (`None` when it was never registered).
pub async fn on_chain_worker(
    chain: &Chain,
    registry: Address,
    worker: Address,
) -> ChainResult<Option<OnChainWorker>> {
    let contract = R::new(registry, chain.provider());
    let w = contract.workers(worker).call().await.map_err(rpc_err)?;
    if w.registeredAt == 0 {
        return Ok(None);
    }
    let deadline = contract
        .registrationDeadline(worker)
        .call()
        .await
        .map_err(rpc_err)?;
    Ok(Some(OnChainWorker {
        registry,
        active: w.active,
        config_hash: w.configHash,
        self_signed: w.selfSigned,
        registered_at: w.registeredAt,
        registration_deadline: deadline,
        tx_hash: None,
    }))
}

fn rpc_err(e: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc(e.to_string())
}

/// Why a signed registration was not anchored.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The registry already holds a later (or equal) signed registration of this worker.
    #[error("the registry holds a registration of this worker with deadline {0}; a new one must be later")]
    Stale(u64),
    /// The chain failed or refused the transaction.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// Anchors a worker's own signed registration with `registerWorkerSigned` (the contract
/// recovers the signature and refuses any key but the worker's). Nothing is sent when the
/// registry already holds the worker self-signed with this config hash (a second role, or a
/// retry after a lost answer).
pub async fn anchor_worker(
    chain: &Chain,
    registry: Address,
    registration: &notary_protocol::WorkerRegistration,
    signature: &str,
) -> std::result::Result<OnChainWorker, AnchorError> {
    let config_hash = B256::from(registration.config_hash.0);
    if let Some(held) = on_chain_worker(chain, registry, registration.worker).await? {
        if held.active && held.self_signed && held.config_hash == config_hash {
            return Ok(held);
        }
        if held.registration_deadline >= registration.deadline {
            return Err(AnchorError::Stale(held.registration_deadline));
        }
    }
    let signature: Bytes = signature
        .parse()
        .map_err(|_| ChainError::Signing("the registration signature is not hex".into()))?;
    let call = R::registerWorkerSignedCall {
        worker: registration.worker,
        configHash: config_hash,
        deadline: registration.deadline,
        signature,
    };
    let receipt = chain
        .transact(Some(registry), U256::ZERO, Bytes::from(call.abi_encode()))
        .await?;
    let mut held = on_chain_worker(chain, registry, registration.worker)
        .await?
        .ok_or_else(|| ChainError::Rpc("the registration was mined but is not readable".into()))?;
    held.tx_hash = Some(receipt.transaction_hash);
    Ok(held)
}
