//! x402 payments (source document 002), on-chain registry writes and refunds.
//!
//! - [`config`]: `--payments x402` and its options.
//! - [`Payments`]: the state every coordinator replica shares in Redis, under
//!   `<prefix>pay:`:
//!   - `pending:<jobId>`: a job that answered 402 and waits for its payment (expires with the
//!     requirements);
//!   - `used:<txHash>`: the job a payment paid for. Set once (`SET NX`), never expires: a
//!     payment can pay for one job only, also after a restart;
//!   - `job:<jobId>`: the payment of a job and its settlement (registry record or refund);
//!   - `payer:<address>`: the payer's unfinished jobs (at most `max_jobs_per_payer`);
//!   - `open`: paid jobs not settled yet, swept by every replica so a job whose client went
//!     away (202) or whose coordinator died is still recorded or refunded;
//!   - `settling:<jobId>`: the short lock of the replica settling a job.
//! - [`verify_tx`](Payments::verify_tx): the document's `X-402-Payment: <tx hash>` check.
//! - [`registry`]: batches completed jobs' attestations into `recordBatch` transactions.
//! - Refunds: a refund transaction is signed, stored in `job:<jobId>`, then broadcast; after a
//!   crash the *same* bytes are broadcast again, so a payer is refunded exactly once.

pub mod config;
pub mod registry;
pub mod x402;

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use self::config::{PaymentConfig, PaymentSettings};
use self::registry::RegistryWriter;

/// What a client is told of a failed registry write (the details, which can carry the RPC URL,
/// stay in the log).
const REGISTRY_FAILURE: &str =
    "the registry transaction failed or was not mined in time; the payment is refunded";
use crate::chain::contracts::TestUSDC;
use crate::chain::{Chain, SignedTx};
use crate::error::{Error, Result};
use crate::record::{now_ms, JobRecord, JobStatus};
use crate::store::JobStore;

/// The payment a 402 asks for (document 002's `paymentRequirements`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirements {
    /// Always `exact`.
    pub scheme: String,
    /// `base-sepolia` on chain 84532, `eip155:<id>` elsewhere.
    pub network: String,
    /// Wei, as a decimal string.
    pub amount: String,
    /// The zero address: native ETH.
    pub asset: Address,
    /// Where to pay.
    pub pay_to: Address,
    /// Unix seconds; a payment mined later does not count.
    pub expiry: u64,
}

/// A job waiting for its payment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingJob {
    /// The accepted job, queued once paid.
    pub record: JobRecord,
    /// What it must be paid with.
    pub requirements: PaymentRequirements,
}

/// Why a payment does not count (`402 Payment Failed`, `reason`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PaymentFailure {
    /// The header is not a 32-byte hex hash.
    #[error("X-402-Payment must be a transaction hash (0x and 64 hex digits)")]
    Malformed,
    /// No such transaction on the chain.
    #[error("transaction not found on chain {0}")]
    NotFound(u64),
    /// Mined, but reverted.
    #[error("the transaction reverted")]
    Reverted,
    /// Paid someone else.
    #[error("the transaction pays {got}, not {expected}")]
    WrongRecipient {
        /// `payTo`.
        expected: Address,
        /// The transaction's recipient.
        got: String,
    },
    /// Paid too little.
    #[error("the transaction pays {got} wei; the price is {expected} wei")]
    WrongAmount {
        /// The price.
        expected: U256,
        /// The value sent.
        got: U256,
    },
    /// Not mined yet, or too few blocks on top.
    #[error("the transaction has {have} of {need} confirmations; retry later")]
    NotConfirmed {
        /// Confirmations now.
        have: u64,
        /// Confirmations needed.
        need: u64,
    },
    /// Mined after the requirements expired.
    #[error("the transaction was mined after the payment requirements expired ({expiry})")]
    Expired {
        /// The requirements' expiry.
        expiry: u64,
    },
    /// Already paid for another job.
    #[error("this payment was already used for job {0}")]
    AlreadyUsed(String),
    /// An x402 v2 authorization that does not check out (or did not settle).
    #[error("{message}")]
    Authorization {
        /// Machine-readable reason.
        reason: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl PaymentFailure {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            PaymentFailure::Malformed => "malformed",
            PaymentFailure::NotFound(_) => "not_found",
            PaymentFailure::Reverted => "reverted",
            PaymentFailure::WrongRecipient { .. } => "wrong_recipient",
            PaymentFailure::WrongAmount { .. } => "wrong_amount",
            PaymentFailure::NotConfirmed { .. } => "not_confirmed",
            PaymentFailure::Expired { .. } => "expired",
            PaymentFailure::AlreadyUsed(_) => "already_used",
            PaymentFailure::Authorization { reason, .. } => reason,
        }
    }
}

/// A payment that checked out.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// `exact` over native ETH (`X-402-Payment`).
    pub scheme: String,
    /// The transaction.
    pub tx_hash: B256,
    /// Who paid: refunds go there.
    pub payer: Address,
    /// Wei paid.
    pub amount: U256,
    /// Unix ms of the check.
    pub verified_at_ms: u64,
    /// The token paid with (zero address: ETH).
    #[serde(default)]
    pub asset: Address,
}

/// A paid job's settlement, as stored and shown.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    /// The registry transaction that recorded the result.
    pub registry_tx_hash: Option<B256>,
    /// Why the registry write failed (then the job is refunded).
    pub registry_error: Option<String>,
    /// The refund transaction.
    pub refund_tx_hash: Option<B256>,
    /// Set once the settlement is final.
    pub settled: bool,
}

/// Everything payments need, shared by handlers and the sweeper.
pub struct Payments {
    /// The chain (read and send).
    pub chain: Arc<Chain>,
    /// Options.
    pub config: PaymentConfig,
    /// The registry contract (the attestation domain's `verifyingContract`); `None` when it is
    /// the zero address (results are then not written on chain).
    pub registry: Option<Address>,
    writer: Option<RegistryWriter>,
    /// The EIP-3009 token's domain, when x402 v2 is offered.
    pub token: Option<x402::TokenDomain>,
    /// The in-process workers' address (`verifierAddress` of the stats).
    pub verifier: Option<Address>,
    /// Runs quote dry runs (the in-process workers' executor; `None` without them).
    pub quoter: Option<Arc<notary_worker::JobExecutor>>,
    conn: ConnectionManager,
    prefix: String,
    store: Arc<dyn JobStore>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("pay_to", &self.config.pay_to)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

fn redis_err(e: redis::RedisError) -> Error {
    Error::redis(e)
}

fn chain_err(e: impl std::fmt::Display) -> Error {
    Error::Chain(e.to_string())
}

impl Payments {
    /// Connects to the chain (checking its chain id) and to Redis, registers `workers` in the
    /// registry when the chain key owns it, and starts the registry writer.
    #[allow(clippy::too_many_arguments)] // called once, from `run`, with named values
    pub async fn start(
        config: PaymentConfig,
        domain: notary_protocol::AttestationDomain,
        redis_url: &str,
        prefix: &str,
        store: Arc<dyn JobStore>,
        workers: &[(Address, B256)],
        verifier: Option<Address>,
        quoter: Option<Arc<notary_worker::JobExecutor>>,
    ) -> Result<Arc<Payments>> {
        let (chain_id, registry) = (domain.chain_id, domain.verifying_contract);
        let chain = Arc::new(
            Chain::connect(
                &config.rpc_url,
                Some(chain_id),
                Some(config.chain_key.0.clone()),
            )
            .await
            .map_err(chain_err)?,
        );
        let client = redis::Client::open(redis_url).map_err(redis_err)?;
        let conn = ConnectionManager::new_with_config(
            client,
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(5))),
        )
        .await
        .map_err(redis_err)?;
        let registry = (registry != Address::ZERO).then_some(registry);
        let writer = match registry {
            Some(address) => {
                registry::register_workers(&chain, address, workers).await?;
                Some(RegistryWriter::start(
                    chain.clone(),
                    address,
                    config.registry_batch_max,
                    config.registry_batch_wait,
                ))
            }
            None => None,
        };
        let token =
            match config.token {
                Some(address) => {
                    let t = TestUSDC::new(address, chain.provider());
                    let name =
                        t.name().call().await.map_err(|e| {
                            Error::Chain(format!("token {address} has no name(): {e}"))
                        })?;
                    let version = t.version().call().await.map_err(|e| {
                        Error::Chain(format!("token {address} has no version(): {e}"))
                    })?;
                    Some(x402::TokenDomain {
                        name,
                        version,
                        chain_id,
                        token: address,
                    })
                }
                None => None,
            };
        tracing::info!(
            token = ?token.as_ref().map(|t| t.token),
            pay_to = %config.pay_to,
            price_wei = %config.price_wei,
            confirmations = config.confirmations,
            sender = ?chain.sender(),
            registry = ?registry,
            "PAYMENTS ON (x402): POST /verify answers 402 until paid"
        );
        Ok(Arc::new(Payments {
            chain,
            config,
            registry,
            writer,
            token,
            verifier,
            quoter,
            conn,
            prefix: prefix.to_string(),
            store,
        }))
    }

    fn key(&self, rest: &str) -> String {
        format!("{}pay:{rest}", self.prefix)
    }

    /// The document's network name.
    pub fn network(&self) -> String {
        match self.chain.chain_id() {
            84532 => "base-sepolia".into(),
            8453 => "base".into(),
            id => format!("eip155:{id}"),
        }
    }

    /// Fresh requirements for a job.
    pub fn requirements(&self) -> PaymentRequirements {
        PaymentRequirements {
            scheme: "exact".into(),
            network: self.network(),
            amount: self.config.price_wei.to_string(),
            asset: Address::ZERO,
            pay_to: self.config.pay_to,
            expiry: now_ms() / 1000 + self.config.window.as_secs(),
        }
    }

    /// Stores a job that waits for payment.
    pub async fn put_pending(&self, pending: &PendingJob) -> Result<()> {
        let mut conn = self.conn.clone();
        let ttl = self.config.window.as_millis() as u64 + 60_000;
        redis::cmd("SET")
            .arg(self.key(&format!("pending:{}", pending.record.id())))
            .arg(serde_json::to_string(pending)?)
            .arg("PX")
            .arg(ttl)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// A job waiting for payment.
    pub async fn pending(&self, id: Uuid) -> Result<Option<PendingJob>> {
        let mut conn = self.conn.clone();
        let text: Option<String> = redis::cmd("GET")
            .arg(self.key(&format!("pending:{id}")))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }

    /// Checks `X-402-Payment: <tx hash>` against `req` without consuming it: the transaction
    /// exists, succeeded, pays `payTo` at least `amount`, has the confirmations, was mined
    /// before `expiry`, and was not used before. Checked in that order, so the reason names
    /// the first problem.
    pub async fn verify_tx(
        &self,
        header: &str,
        req: &PaymentRequirements,
    ) -> Result<std::result::Result<Payment, PaymentFailure>> {
        let Some(hash) = parse_hash(header) else {
            return Ok(Err(PaymentFailure::Malformed));
        };
        let p = self.chain.provider();
        let Some(tx) = p.get_transaction_by_hash(hash).await.map_err(chain_err)? else {
            return Ok(Err(PaymentFailure::NotFound(self.chain.chain_id())));
        };
        let receipt = p.get_transaction_receipt(hash).await.map_err(chain_err)?;
        let Some(receipt) = receipt else {
            return Ok(Err(PaymentFailure::NotConfirmed {
                have: 0,
                need: self.config.confirmations,
            }));
        };
        if !receipt.status() {
            return Ok(Err(PaymentFailure::Reverted));
        }
        use alloy::consensus::Transaction as _;
        let to = tx.inner.to();
        if to != Some(req.pay_to) {
            return Ok(Err(PaymentFailure::WrongRecipient {
                expected: req.pay_to,
                got: to.map_or("a contract creation".into(), |a| a.to_checksum(None)),
            }));
        }
        let price: U256 = req.amount.parse().unwrap_or(self.config.price_wei);
        if tx.inner.value() < price {
            return Ok(Err(PaymentFailure::WrongAmount {
                expected: price,
                got: tx.inner.value(),
            }));
        }
        let mined = receipt.block_number.unwrap_or(u64::MAX);
        let head = p.get_block_number().await.map_err(chain_err)?;
        let have = (head + 1).saturating_sub(mined);
        if have < self.config.confirmations {
            return Ok(Err(PaymentFailure::NotConfirmed {
                have,
                need: self.config.confirmations,
            }));
        }
        let block = p
            .get_block_by_number(mined.into())
            .await
            .map_err(chain_err)?
            .ok_or_else(|| Error::Chain(format!("block {mined} of a receipt is missing")))?;
        if block.header.timestamp > req.expiry {
            return Ok(Err(PaymentFailure::Expired { expiry: req.expiry }));
        }
        if let Some(job) = self.used_by(hash).await? {
            return Ok(Err(PaymentFailure::AlreadyUsed(job)));
        }
        Ok(Ok(Payment {
            scheme: "exact".into(),
            tx_hash: hash,
            payer: tx.inner.signer(),
            amount: tx.inner.value(),
            verified_at_ms: now_ms(),
            asset: Address::ZERO,
        }))
    }

    /// The job a payment paid for, if any.
    pub async fn used_by(&self, hash: B256) -> Result<Option<String>> {
        self.used_by_key(&Self::used_tx(hash)).await
    }

    /// Takes one of the payer's concurrent-job slots; `false` when all are taken.
    pub async fn take_payer_slot(&self, payer: Address, job: Uuid) -> Result<bool> {
        let mut conn = self.conn.clone();
        let taken: i64 = redis::Script::new(
            r"if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
              if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
              redis.call('SADD', KEYS[1], ARGV[1])
              return 1",
        )
        .key(self.key(&format!("payer:{payer}")))
        .arg(job.to_string())
        .arg(self.config.max_jobs_per_payer)
        .invoke_async(&mut conn)
        .await
        .map_err(redis_err)?;
        Ok(taken == 1)
    }

    /// Gives a payer's slot back.
    pub async fn release_payer_slot(&self, payer: Address, job: Uuid) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SREM")
            .arg(self.key(&format!("payer:{payer}")))
            .arg(job.to_string())
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// Consumes a payment for a job: records it as used (once, forever), stores the job's
    /// payment, marks the job open for settlement and drops its pending entry. `Err(job)` when
    /// the payment was used for another job in the meantime; `Err("=")` when this job was
    /// already paid (a concurrent retry of the same payment got there first).
    pub async fn consume(
        &self,
        job: Uuid,
        payment: &Payment,
        used: &str,
    ) -> Result<std::result::Result<(), String>> {
        let mut conn = self.conn.clone();
        let outcome: String = redis::Script::new(
            r"if redis.call('HEXISTS', KEYS[2], 'payment') == 1 then return '=' end
              local cur = redis.call('GET', KEYS[1])
              if cur and cur ~= ARGV[1] then return cur end
              redis.call('SET', KEYS[1], ARGV[1])
              redis.call('HSET', KEYS[2], 'payment', ARGV[2])
              redis.call('SADD', KEYS[3], ARGV[1])
              redis.call('DEL', KEYS[4])
              return ''",
        )
        .key(self.key(used))
        .key(self.key(&format!("job:{job}")))
        .key(self.key("open"))
        .key(self.key(&format!("pending:{job}")))
        .arg(job.to_string())
        .arg(serde_json::to_string(payment)?)
        .invoke_async(&mut conn)
        .await
        .map_err(redis_err)?;
        Ok(if outcome.is_empty() {
            Ok(())
        } else {
            Err(outcome)
        })
    }

    /// The used-record key of an `X-402-Payment` transaction.
    pub fn used_tx(hash: B256) -> String {
        format!("used:{hash}")
    }

    /// The used-record key of an EIP-3009 authorization.
    pub fn used_authorization(token: Address, from: Address, nonce: B256) -> String {
        format!("used:auth:{token}:{from}:{nonce}")
    }

    /// Reserves a used-record for a job before an on-chain settlement; `Err(job)` when another
    /// job holds it.
    pub async fn reserve(&self, used: &str, job: Uuid) -> Result<std::result::Result<(), String>> {
        let mut conn = self.conn.clone();
        let cur: String = redis::Script::new(
            r"local cur = redis.call('GET', KEYS[1])
              if cur and cur ~= ARGV[1] then return cur end
              redis.call('SET', KEYS[1], ARGV[1])
              return ''",
        )
        .key(self.key(used))
        .arg(job.to_string())
        .invoke_async(&mut conn)
        .await
        .map_err(redis_err)?;
        Ok(if cur.is_empty() { Ok(()) } else { Err(cur) })
    }

    /// Drops a reservation whose settlement failed (the authorization was not spent).
    pub async fn unreserve(&self, used: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.key(used))
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// Checks a `PAYMENT-SIGNATURE` offline; returns the authorization and its used-record key.
    pub async fn verify_authorization(
        &self,
        header: &str,
    ) -> Result<std::result::Result<(x402::CheckedAuthorization, String), PaymentFailure>> {
        let fail = |reason: &'static str, message: String| {
            Ok(Err(PaymentFailure::Authorization { reason, message }))
        };
        let Some(d) = &self.token else {
            return fail(
                "unsupported_scheme",
                "this coordinator does not accept PAYMENT-SIGNATURE (no token configured)".into(),
            );
        };
        let payload = match x402::decode_header(header) {
            Ok(p) => p,
            Err(m) => return fail("malformed", m),
        };
        let checked = match x402::verify_authorization(
            &payload,
            d,
            self.config.token_price,
            self.config.pay_to,
            now_ms() / 1000,
        ) {
            Ok(c) => c,
            Err((reason, message)) => return fail(reason, message),
        };
        let used = Self::used_authorization(d.token, checked.auth.from, checked.auth.nonce);
        if let Some(job) = self.used_by_key(&used).await? {
            return Ok(Err(PaymentFailure::AlreadyUsed(job)));
        }
        let spent = TestUSDC::new(d.token, self.chain.provider())
            .authorizationState(checked.auth.from, checked.auth.nonce)
            .call()
            .await
            .map_err(chain_err)?;
        if spent {
            return fail(
                "already_used",
                "this authorization's nonce was already used on chain".into(),
            );
        }
        Ok(Ok((checked, used)))
    }

    /// Settles a checked authorization on chain (`transferWithAuthorization`, sent by the chain
    /// key) and returns the payment.
    pub async fn settle_authorization(
        &self,
        a: &x402::CheckedAuthorization,
    ) -> Result<std::result::Result<Payment, PaymentFailure>> {
        let d = self.token.as_ref().expect("verified with a token");
        self.settle_authorization_of(d.token, a).await
    }

    /// Settles an authorization of any EIP-3009 token on this chain (the facilitator's settle).
    pub async fn settle_authorization_of(
        &self,
        token: Address,
        a: &x402::CheckedAuthorization,
    ) -> Result<std::result::Result<Payment, PaymentFailure>> {
        let (v, r, s) = x402::split_signature(&a.signature);
        let call = TestUSDC::transferWithAuthorization_1Call {
            from: a.auth.from,
            to: a.auth.to,
            value: a.value,
            validAfter: a.valid_after,
            validBefore: a.valid_before,
            nonce: a.auth.nonce,
            v,
            r,
            s,
        };
        use alloy::sol_types::SolCall;
        let sent = self
            .chain
            .transact(Some(token), U256::ZERO, Bytes::from(call.abi_encode()))
            .await;
        match sent {
            Ok(receipt) => Ok(Ok(Payment {
                scheme: "exact".into(),
                tx_hash: receipt.transaction_hash,
                payer: a.auth.from,
                amount: a.value,
                verified_at_ms: now_ms(),
                asset: token,
            })),
            Err(e) => {
                tracing::warn!(error = %e, "x402 settlement failed");
                Ok(Err(PaymentFailure::Authorization {
                    reason: "settlement_failed",
                    message: "the authorization could not be settled on chain (balance, nonce or validity)".into(),
                }))
            }
        }
    }

    async fn used_by_key(&self, used: &str) -> Result<Option<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.key(used))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// A job's payment and settlement (`None` for a job that was never paid).
    pub async fn job_payment(&self, job: Uuid) -> Result<Option<(Payment, Settlement)>> {
        let mut conn = self.conn.clone();
        let (payment, settlement): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.key(&format!("job:{job}")))
            .arg("payment")
            .arg("settlement")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        let Some(payment) = payment else {
            return Ok(None);
        };
        let settlement = match settlement {
            Some(s) => serde_json::from_str(&s)?,
            None => Settlement::default(),
        };
        Ok(Some((serde_json::from_str(&payment)?, settlement)))
    }

    async fn save_settlement(&self, job: Uuid, s: &Settlement) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("HSET")
            .arg(self.key(&format!("job:{job}")))
            .arg("settlement")
            .arg(serde_json::to_string(s)?)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn hget(&self, job: Uuid, field: &str) -> Result<Option<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("HGET")
            .arg(self.key(&format!("job:{job}")))
            .arg(field)
            .query_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn hset(&self, job: Uuid, field: &str, value: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("HSET")
            .arg(self.key(&format!("job:{job}")))
            .arg(field)
            .arg(value)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// Settles a final paid job once: records a completed result in the registry, or refunds a
    /// refund-eligible one (also when the registry write fails), then frees the payer's slot.
    /// Safe to call from any replica any number of times; a caller that finds another replica
    /// settling waits for it. Returns the settlement (unsettled when the job is not final).
    pub async fn settle(&self, record: &JobRecord) -> Result<Settlement> {
        let id = record.id();
        let Some((payment, mut settlement)) = self.job_payment(id).await? else {
            return Ok(Settlement::default());
        };
        if settlement.settled || record.outcome.is_none() {
            return Ok(settlement);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            if self.lock_settling(id).await? {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some((_, s)) = self.job_payment(id).await? {
                if s.settled {
                    return Ok(s);
                }
            }
            if std::time::Instant::now() > deadline {
                return Ok(settlement);
            }
        }
        let result = self.settle_locked(record, &payment, &mut settlement).await;
        self.unlock_settling(id).await;
        result.map(|()| settlement)
    }

    /// Takes the short `settling:<jobId>` lock (90 s, so a crashed holder cannot block the
    /// job for long); `false` when another replica holds it.
    async fn lock_settling(&self, id: Uuid) -> Result<bool> {
        let mut conn = self.conn.clone();
        let got: Option<String> = redis::cmd("SET")
            .arg(self.key(&format!("settling:{id}")))
            .arg(now_ms())
            .arg("NX")
            .arg("PX")
            .arg(90_000)
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(got.is_some())
    }

    /// Releases the `settling:<jobId>` lock (best effort: it expires anyway).
    async fn unlock_settling(&self, id: Uuid) {
        let mut conn = self.conn.clone();
        let _: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(self.key(&format!("settling:{id}")))
            .query_async(&mut conn)
            .await;
    }

    async fn settle_locked(
        &self,
        record: &JobRecord,
        payment: &Payment,
        s: &mut Settlement,
    ) -> Result<()> {
        let id = record.id();
        // Re-read under the lock: another replica may have finished meanwhile.
        if let Some((_, current)) = self.job_payment(id).await? {
            *s = current;
        }
        if s.settled {
            return Ok(());
        }
        let outcome = record.outcome.as_ref().expect("final record");
        let mut refund = outcome.refund_eligible;
        if !refund && s.registry_tx_hash.is_none() {
            if let (Some(writer), Some(att), Some(registry)) =
                (&self.writer, &outcome.attestation, self.registry)
            {
                // Only a re-run (a write was attempted before, maybe by a replica that died)
                // looks on chain for the record, so the common path costs no log query.
                let already = if self.hget(id, "registryAttempt").await?.is_some() {
                    registry::find_record(&self.chain, registry, att.fields.job_id_word()).await?
                } else {
                    None
                };
                let written = match already {
                    Some(hash) => Ok(hash),
                    None => {
                        self.hset(id, "registryAttempt", &now_ms().to_string())
                            .await?;
                        writer.record(att.clone()).await
                    }
                };
                match written {
                    Ok(hash) => {
                        tracing::info!(job_id = %id, tx = %hash, "result recorded in the registry");
                        s.registry_tx_hash = Some(hash);
                    }
                    Err(e) => {
                        tracing::error!(job_id = %id, error = %e, "registry write failed; refunding");
                        // The detail stays in the log: a chain error can carry the RPC URL
                        // (and an API key in it), and this text reaches clients.
                        s.registry_error = Some(REGISTRY_FAILURE.to_string());
                        refund = true;
                    }
                }
                self.save_settlement(id, s).await?;
            }
        }
        if refund || s.registry_error.is_some() {
            let hash = self.refund(id, payment).await?;
            s.refund_tx_hash = Some(hash);
        }
        s.settled = true;
        self.save_settlement(id, s).await?;
        self.count(record, payment, s).await?;
        let mut conn = self.conn.clone();
        redis::cmd("SREM")
            .arg(self.key("open"))
            .arg(id.to_string())
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)?;
        self.release_payer_slot(payment.payer, id).await?;
        Ok(())
    }

    /// Adds a settled job to the statistics (`<prefix>pay:stats`).
    async fn count(&self, record: &JobRecord, payment: &Payment, s: &Settlement) -> Result<()> {
        let outcome = record.outcome.as_ref().expect("final record");
        let delivered = outcome.result.is_some() && s.registry_error.is_none();
        // Revenue is what was kept: refunded payments do not count.
        let kept = if s.refund_tx_hash.is_some() {
            U256::ZERO
        } else {
            payment.amount
        };
        let (field, units) = if payment.asset == Address::ZERO {
            ("revenueGwei", kept / U256::from(1_000_000_000u64))
        } else {
            ("revenueTokenUnits", kept)
        };
        // Counted once per job, even when a settlement is re-run after a crash.
        let mut conn = self.conn.clone();
        redis::Script::new(
            r"if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
              redis.call('HINCRBY', KEYS[1], 'total', 1)
              redis.call('HINCRBY', KEYS[1], 'delivered', ARGV[2])
              redis.call('HINCRBY', KEYS[1], 'durationMs', ARGV[3])
              redis.call('HINCRBY', KEYS[1], ARGV[4], ARGV[5])
              return 1",
        )
        .key(self.key("stats"))
        .key(self.key("stats:counted"))
        .arg(record.id().to_string())
        .arg(i64::from(delivered))
        .arg(outcome.total_ms.round() as i64)
        .arg(field)
        .arg(
            u64::try_from(units)
                .unwrap_or(i64::MAX as u64)
                .min(i64::MAX as u64),
        )
        .invoke_async::<i64>(&mut conn)
        .await
        .map_err(redis_err)?;
        Ok(())
    }

    /// Marks this minute as served (for `uptimePercentage`).
    async fn beat(&self) -> Result<()> {
        let minute = now_ms() / 60_000;
        let mut conn = self.conn.clone();
        redis::pipe()
            .cmd("SET")
            .arg(self.key("up:since"))
            .arg(minute)
            .arg("NX")
            .ignore()
            .sadd(self.key("up:minutes"), minute)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// Document 002's `GET /notary/stats`, from the settled jobs' counters, the minutes a
    /// coordinator was serving, and the workers that read the job stream recently.
    pub async fn stats(&self, live_within: Duration) -> Result<Value> {
        let mut conn = self.conn.clone();
        let (fields, since, minutes): (std::collections::HashMap<String, i64>, Option<u64>, u64) =
            redis::pipe()
                .hgetall(self.key("stats"))
                .get(self.key("up:since"))
                .scard(self.key("up:minutes"))
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
        let get = |k: &str| fields.get(k).copied().unwrap_or(0);
        let total = get("total");
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        let success = if total > 0 {
            round2(get("delivered") as f64 * 100.0 / total as f64)
        } else {
            100.0
        };
        let average = if total > 0 {
            get("durationMs") / total
        } else {
            0
        };
        let uptime = match since {
            Some(since) => {
                let span = now_ms() / 60_000 - since + 1;
                round2((minutes as f64 * 100.0 / span as f64).min(100.0))
            }
            None => 100.0,
        };
        let gwei = get("revenueGwei");
        let workers: redis::Value = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg(format!("{}queue:jobs", self.prefix))
            .arg("workers")
            .query_async(&mut conn)
            .await
            .unwrap_or(redis::Value::Nil);
        Ok(json!({
            "totalVerifications": total,
            "successRate": success,
            "averageDurationMs": average,
            "uptimePercentage": uptime,
            "revenueETH": format!("{:.6}", gwei as f64 / 1e9),
            "revenueTokenUnits": get("revenueTokenUnits").to_string(),
            "activeWorkers": live_consumers(&workers, live_within),
            "verifierAddress": self.verifier.or(self.chain.sender()).map(|a| a.to_checksum(None)),
            "serviceVersion": env!("CARGO_PKG_VERSION"),
            "network": self.network(),
        }))
    }

    /// A paid job without a record (the coordinator failed after taking the payment and before
    /// storing the job, or the record expired unsettled): refunded once `orphan_after` has
    /// passed since the payment, so no paid job is ever silently dropped.
    async fn settle_orphan(&self, id: Uuid) -> Result<()> {
        let Some((payment, mut s)) = self.job_payment(id).await? else {
            return Ok(());
        };
        let age = now_ms().saturating_sub(payment.verified_at_ms);
        if s.settled || age < self.config.orphan_after.as_millis() as u64 {
            return Ok(());
        }
        if !self.lock_settling(id).await? {
            return Ok(());
        }
        tracing::error!(job_id = %id, "paid job has no record; refunding");
        let result = async {
            s.refund_tx_hash = Some(self.refund(id, &payment).await?);
            s.registry_error = None;
            s.settled = true;
            self.save_settlement(id, &s).await?;
            let mut conn = self.conn.clone();
            redis::cmd("SREM")
                .arg(self.key("open"))
                .arg(id.to_string())
                .query_async::<()>(&mut conn)
                .await
                .map_err(redis_err)?;
            self.release_payer_slot(payment.payer, id).await
        }
        .await;
        self.unlock_settling(id).await;
        result
    }

    /// Pays `payment.amount` back to the payer, exactly once: the signed transaction is stored
    /// before it is broadcast, and a retry broadcasts the stored bytes again.
    async fn refund(&self, id: Uuid, payment: &Payment) -> Result<B256> {
        if let Some(stored) = self.hget(id, "refundRaw").await? {
            let tx = parse_stored(&stored)?;
            if self.chain.is_dead(&tx).await.map_err(chain_err)? {
                // Stored but never broadcast, and its nonce went to another transaction: it can
                // never pay, so a new refund is signed (still exactly one refund mined).
                tracing::warn!(job_id = %id, tx = %tx.hash, "stored refund can never be mined; signing a new one");
                let mut conn = self.conn.clone();
                redis::cmd("HDEL")
                    .arg(self.key(&format!("job:{id}")))
                    .arg("refundRaw")
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_err)?;
            }
        }
        let tx = match self.hget(id, "refundRaw").await? {
            Some(stored) => parse_stored(&stored)?,
            None => {
                let (to, value, input) = if payment.asset == Address::ZERO {
                    (payment.payer, payment.amount, Bytes::new())
                } else {
                    use alloy::sol_types::SolCall;
                    let call = TestUSDC::transferCall {
                        to: payment.payer,
                        value: payment.amount,
                    };
                    (payment.asset, U256::ZERO, Bytes::from(call.abi_encode()))
                };
                let (tx, guard) = self
                    .chain
                    .sign(Some(to), value, input)
                    .await
                    .map_err(chain_err)?;
                self.hset(
                    id,
                    "refundRaw",
                    &json!({"hash": tx.hash, "raw": tx.raw}).to_string(),
                )
                .await?;
                self.chain.broadcast(&tx).await.map_err(chain_err)?;
                drop(guard);
                tx
            }
        };
        self.chain.broadcast(&tx).await.map_err(chain_err)?;
        self.chain
            .wait_success(tx.hash, Duration::from_secs(60))
            .await
            .map_err(chain_err)?;
        tracing::warn!(job_id = %id, payer = %payment.payer, tx = %tx.hash, "payment refunded");
        Ok(tx.hash)
    }

    /// Settles every open paid job that is final, until `stop`. Runs on every replica.
    pub async fn sweep(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_millis(1000));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.cancelled() => return,
            }
            if let Err(e) = self.beat().await {
                tracing::debug!(error = %e, "uptime beat failed");
            }
            if let Err(e) = self.sweep_once().await {
                tracing::debug!(error = %e, "settlement sweep failed; retrying");
            }
        }
    }

    /// One pass of [`Payments::sweep`].
    pub async fn sweep_once(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let open: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.key("open"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        for id in open {
            let Ok(id) = Uuid::parse_str(&id) else {
                continue;
            };
            match self.store.get(id).await? {
                Some(record) => {
                    if record.status() != JobStatus::Running {
                        if let Err(e) = self.settle(&record).await {
                            tracing::warn!(job_id = %id, error = %e, "settlement failed; will retry");
                        }
                    }
                }
                None => {
                    if let Err(e) = self.settle_orphan(id).await {
                        tracing::warn!(job_id = %id, error = %e, "orphan refund failed; will retry");
                    }
                }
            }
        }
        Ok(())
    }
}

/// Consumers of `XINFO CONSUMERS` (other than the reaper) idle for less than `within`.
fn live_consumers(v: &redis::Value, within: Duration) -> usize {
    let redis::Value::Array(consumers) = v else {
        return 0;
    };
    consumers
        .iter()
        .filter(|c| {
            let fields: Vec<&redis::Value> = match c {
                redis::Value::Array(f) => f.iter().collect(),
                redis::Value::Map(m) => m.iter().flat_map(|(k, v)| [k, v]).collect(),
                _ => return false,
            };
            let mut name = String::new();
            let mut idle = i64::MAX;
            for pair in fields.chunks(2) {
                if let [k, val] = pair {
                    let k: String = redis::from_redis_value_ref(k).unwrap_or_default();
                    match k.as_str() {
                        "name" => name = redis::from_redis_value_ref(val).unwrap_or_default(),
                        "idle" => idle = redis::from_redis_value_ref(val).unwrap_or(i64::MAX),
                        _ => {}
                    }
                }
            }
            name != "notary-reaper" && idle < within.as_millis() as i64
        })
        .count()
}

/// A refund transaction as stored in `job:<id>` (`{"hash", "raw"}`).
fn parse_stored(stored: &str) -> Result<SignedTx> {
    let stored: Value = serde_json::from_str(stored)?;
    Ok(SignedTx {
        hash: stored["hash"]
            .as_str()
            .and_then(parse_hash)
            .ok_or_else(|| Error::Chain("stored refund is unreadable".into()))?,
        raw: stored["raw"]
            .as_str()
            .and_then(|r| r.parse::<Bytes>().ok())
            .ok_or_else(|| Error::Chain("stored refund is unreadable".into()))?,
    })
}

/// `0x` + 64 hex digits.
pub fn parse_hash(text: &str) -> Option<B256> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    if hex.len() != 64 {
        return None;
    }
    t.parse().ok()
}
