//! Chain access: one HTTP JSON-RPC provider, one signing key, transactions sent one at a time.
//!
//! Every transaction the coordinator sends (registry writes, refunds, x402 settlements,
//! deployments) goes through [`Chain::sign`] and [`Chain::broadcast`]: the nonce is taken under
//! a lock from the chain's pending count (never from a local cache that a failed send would
//! leave ahead of the chain), and the signed bytes are available *before* they are broadcast, so
//! a caller that must not send twice (refunds) can store them first and re-broadcast the same
//! transaction after a crash: the chain accepts a given nonce once, so the same bytes can never
//! pay twice.

pub mod cli;
pub mod contracts;

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, TxKind, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolConstructor;
use tokio::sync::Mutex;

/// Chain failures (RPC, signing, reverts), as text: they are logged, never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The node could not be reached or refused the request.
    #[error("rpc: {0}")]
    Rpc(String),
    /// A transaction could not be built or signed.
    #[error("signing: {0}")]
    Signing(String),
    /// A transaction was mined but reverted.
    #[error("transaction {0} reverted")]
    Reverted(B256),
    /// No receipt within the wait.
    #[error("transaction {0} not mined within {1:?}")]
    NotMined(B256, Duration),
    /// Sending needs a key and none is configured.
    #[error("no chain key configured")]
    NoKey,
    /// A key file could not be read or parsed (the key itself is never in the message).
    #[error("chain key {0}: {1}")]
    Key(String, String),
}

/// Result alias for chain calls.
pub type ChainResult<T> = std::result::Result<T, ChainError>;

fn rpc(e: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc(e.to_string())
}

/// Reads a secp256k1 key (hex, optional `0x`, surrounding whitespace ignored) from a file.
/// Errors name the file, never its content.
pub fn read_key_file(path: &Path) -> ChainResult<PrivateKeySigner> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ChainError::Key(path.display().to_string(), e.kind().to_string()))?;
    parse_key(&text).map_err(|why| ChainError::Key(path.display().to_string(), why))
}

/// Parses a hex secret key; the error never contains the input.
pub fn parse_key(text: &str) -> Result<PrivateKeySigner, String> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|_| "not a hex secp256k1 key".to_string())?;
    if bytes.len() != 32 {
        return Err(format!("expected 32 bytes, got {}", bytes.len()));
    }
    PrivateKeySigner::from_slice(&bytes).map_err(|_| "not a valid secp256k1 key".to_string())
}

/// A transaction signed but not necessarily broadcast yet.
#[derive(Clone, Debug)]
pub struct SignedTx {
    /// Its hash.
    pub hash: B256,
    /// EIP-2718 bytes, ready for `eth_sendRawTransaction`.
    pub raw: Bytes,
}

/// A JSON-RPC endpoint and, optionally, the key that sends from it.
pub struct Chain {
    provider: DynProvider,
    signer: Option<PrivateKeySigner>,
    chain_id: u64,
    send_lock: Mutex<()>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain_id", &self.chain_id)
            .field("sender", &self.sender())
            .finish_non_exhaustive()
    }
}

/// Deadline of one JSON-RPC call.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(10);

impl Chain {
    /// Connects to `rpc_url` and checks the node's chain id against `expected_chain_id`.
    pub async fn connect(
        rpc_url: &str,
        expected_chain_id: Option<u64>,
        signer: Option<PrivateKeySigner>,
    ) -> ChainResult<Chain> {
        let url = rpc_url.parse().map_err(|_| {
            ChainError::Rpc(format!(
                "{:?} is not a URL",
                notary_queue::redact_url(rpc_url)
            ))
        })?;
        // Every JSON-RPC call has a deadline: a stalled node must not hang a request (or the
        // signer lock held across a transaction's calls) forever.
        let provider = ProviderBuilder::default()
            .with_reqwest(url, |builder| {
                builder
                    .timeout(RPC_TIMEOUT)
                    .build()
                    .expect("an HTTP client with a timeout builds")
            })
            .erased();
        let chain_id = provider.get_chain_id().await.map_err(rpc)?;
        if let Some(expected) = expected_chain_id {
            if expected != chain_id {
                return Err(ChainError::Rpc(format!(
                    "the node at {rpc_url} has chain id {chain_id}, configured {expected}"
                )));
            }
        }
        Ok(Chain {
            provider,
            signer,
            chain_id,
            send_lock: Mutex::new(()),
        })
    }

    /// The read-only provider (calls, receipts, blocks).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The chain id the node reported.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The address transactions are sent from.
    pub fn sender(&self) -> Option<Address> {
        self.signer.as_ref().map(|s| s.address())
    }

    /// Builds and signs a transaction with the next nonce. Holding the returned guard keeps
    /// other senders out until this transaction is broadcast (so nonces stay consecutive).
    pub async fn sign(
        &self,
        to: Option<Address>,
        value: U256,
        input: Bytes,
    ) -> ChainResult<(SignedTx, tokio::sync::MutexGuard<'_, ()>)> {
        let signer = self.signer.clone().ok_or(ChainError::NoKey)?;
        let from = signer.address();
        let guard = self.send_lock.lock().await;
        let nonce = self
            .provider
            .get_transaction_count(from)
            .pending()
            .await
            .map_err(rpc)?;
        let mut tx = TransactionRequest::default()
            .with_from(from)
            .with_value(value)
            .with_input(input)
            .with_nonce(nonce)
            .with_chain_id(self.chain_id);
        tx.to = Some(match to {
            Some(to) => TxKind::Call(to),
            None => TxKind::Create,
        });
        let gas = self.provider.estimate_gas(tx.clone()).await.map_err(rpc)?;
        let fees = self.provider.estimate_eip1559_fees().await.map_err(rpc)?;
        let tx = tx
            .with_gas_limit(gas + gas / 5)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let wallet = EthereumWallet::from(signer);
        let envelope: TxEnvelope = tx
            .build(&wallet)
            .await
            .map_err(|e| ChainError::Signing(e.to_string()))?;
        let signed = SignedTx {
            hash: *envelope.tx_hash(),
            raw: Bytes::from(envelope.encoded_2718()),
        };
        Ok((signed, guard))
    }

    /// Broadcasts signed bytes. Re-broadcasting a transaction the node already has (or mined)
    /// is not an error: the hash is returned either way.
    pub async fn broadcast(&self, tx: &SignedTx) -> ChainResult<B256> {
        match self.provider.send_raw_transaction(&tx.raw).await {
            Ok(_) => Ok(tx.hash),
            Err(e) => {
                if self
                    .provider
                    .get_transaction_by_hash(tx.hash)
                    .await
                    .map_err(rpc)?
                    .is_some()
                {
                    Ok(tx.hash)
                } else {
                    Err(rpc(e))
                }
            }
        }
    }

    /// Whether a signed transaction can never be mined: the chain does not know it and the
    /// sender's mined nonce has moved past it (another transaction took its nonce, e.g. when
    /// a crash came between storing it and broadcasting it).
    pub async fn is_dead(&self, tx: &SignedTx) -> ChainResult<bool> {
        use alloy::consensus::Transaction as _;
        use alloy::eips::eip2718::Decodable2718;
        let envelope = TxEnvelope::decode_2718(&mut tx.raw.as_ref())
            .map_err(|e| ChainError::Signing(format!("stored transaction: {e}")))?;
        if self
            .provider
            .get_transaction_by_hash(tx.hash)
            .await
            .map_err(rpc)?
            .is_some()
        {
            return Ok(false);
        }
        let from = self.sender().ok_or(ChainError::NoKey)?;
        let mined = self
            .provider
            .get_transaction_count(from)
            .latest()
            .await
            .map_err(rpc)?;
        Ok(mined > envelope.nonce())
    }

    /// Signs and broadcasts; returns the hash without waiting for it to be mined.
    pub async fn send(&self, to: Option<Address>, value: U256, input: Bytes) -> ChainResult<B256> {
        let (tx, _guard) = self.sign(to, value, input).await?;
        self.broadcast(&tx).await
    }

    /// Waits for a transaction's receipt; an error if it reverted or is not mined in time.
    pub async fn wait_success(
        &self,
        hash: B256,
        limit: Duration,
    ) -> ChainResult<TransactionReceipt> {
        let receipt = self.wait_receipt(hash, limit).await?;
        if receipt.status() {
            Ok(receipt)
        } else {
            Err(ChainError::Reverted(hash))
        }
    }

    /// Waits for a transaction's receipt (mined, successful or not).
    pub async fn wait_receipt(
        &self,
        hash: B256,
        limit: Duration,
    ) -> ChainResult<TransactionReceipt> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(r) = self
                .provider
                .get_transaction_receipt(hash)
                .await
                .map_err(rpc)?
            {
                return Ok(r);
            }
            if Instant::now() >= deadline {
                return Err(ChainError::NotMined(hash, limit));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends and waits for success.
    pub async fn transact(
        &self,
        to: Option<Address>,
        value: U256,
        input: Bytes,
    ) -> ChainResult<TransactionReceipt> {
        let hash = self.send(to, value, input).await?;
        self.wait_success(hash, Duration::from_secs(60)).await
    }
}

/// Contract addresses printed by `notary-coordinator contracts deploy`.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Chain id the contracts live on.
    pub chain_id: u64,
    /// `VerificationRegistry` (the attestation domain's `verifyingContract`).
    pub registry: Address,
    /// The EIP-3009 test token.
    pub token: Address,
    /// `NotaryEscrow` over that token and registry (the marketplace's deposits).
    pub escrow: Address,
    /// ERC-8004's Identity Registry (agents as ERC-721 tokens), for the local chain.
    pub identity: Address,
    /// `ComputeCoordinator` over the registry, the deployer as its node (on-chain compute
    /// requests, document 001).
    pub compute: Address,
    /// ERC-8004's Validation Registry over it: Notary answers requests naming its chain key.
    pub validation: Address,
    /// The deployer, owner of the registry.
    pub owner: Address,
}

/// How long after funding a requester may reclaim a deposit nobody settled (the escrow's
/// `reclaimAfter` at deployment): a week.
pub const RECLAIM_AFTER_SECS: u64 = 7 * 24 * 3600;

/// Deploys `VerificationRegistry`, `TestUSDC`, `NotaryEscrow` (over those two, reclaim after
/// [`RECLAIM_AFTER_SECS`]), ERC-8004's identity and validation registries and the
/// `ComputeCoordinator` from the committed artifacts.
pub async fn deploy(chain: &Chain) -> ChainResult<Deployment> {
    deploy_with(chain, RECLAIM_AFTER_SECS).await
}

/// [`deploy`] with another reclaim delay.
pub async fn deploy_with(chain: &Chain, reclaim_after_secs: u64) -> ChainResult<Deployment> {
    let owner = chain.sender().ok_or(ChainError::NoKey)?;
    let registry = chain
        .transact(
            None,
            U256::ZERO,
            contracts::VerificationRegistry::BYTECODE.clone(),
        )
        .await?
        .contract_address
        .ok_or_else(|| ChainError::Rpc("registry deployment has no contract address".into()))?;
    let token = chain
        .transact(None, U256::ZERO, contracts::TestUSDC::BYTECODE.clone())
        .await?
        .contract_address
        .ok_or_else(|| ChainError::Rpc("token deployment has no contract address".into()))?;
    let mut code = contracts::NotaryEscrow::BYTECODE.to_vec();
    code.extend(
        contracts::NotaryEscrow::constructorCall {
            token_: token,
            registry_: registry,
            reclaimAfter_: reclaim_after_secs,
        }
        .abi_encode(),
    );
    let escrow = create(chain, code, "escrow").await?;
    let identity = create(
        chain,
        contracts::AgentIdentityRegistry::BYTECODE.to_vec(),
        "identity registry",
    )
    .await?;
    let mut code = contracts::ValidationRegistry::BYTECODE.to_vec();
    code.extend(
        contracts::ValidationRegistry::constructorCall {
            identityRegistry_: identity,
        }
        .abi_encode(),
    );
    let validation = create(chain, code, "validation registry").await?;
    let mut code = contracts::ComputeCoordinator::BYTECODE.to_vec();
    code.extend(
        contracts::ComputeCoordinator::constructorCall {
            registry_: registry,
            node_: owner,
        }
        .abi_encode(),
    );
    let compute = create(chain, code, "compute coordinator").await?;
    Ok(Deployment {
        chain_id: chain.chain_id(),
        registry,
        token,
        escrow,
        identity,
        validation,
        compute,
        owner,
    })
}

/// Deploys `code` (creation bytecode and constructor arguments); returns the contract address.
async fn create(chain: &Chain, code: Vec<u8>, what: &str) -> ChainResult<Address> {
    chain
        .transact(None, U256::ZERO, Bytes::from(code))
        .await?
        .contract_address
        .ok_or_else(|| ChainError::Rpc(format!("{what} deployment has no contract address")))
}

/// `B256` from the protocol's digest type.
pub fn word(bytes: [u8; 32]) -> B256 {
    B256::from(bytes)
}
