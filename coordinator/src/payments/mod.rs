//! x402 payments (source document 002), on-chain registry writes and refunds.
//!
//! - [`config`]: `--payments x402` and its options.
//! - [`ledger`]: every piece of state payments keep (pending jobs, used payments, job payments
//!   and settlements, payer slots, open jobs, settling locks, statistics) behind
//!   [`PaymentLedger`], in Redis for a fleet and in the embedded database otherwise.
//! - [`verify`]: the document's `X-402-Payment: <tx hash>` check and x402 v2 authorizations.
//! - [`settlement`]: registry record or refund of a final paid job, exactly once; the
//!   `settlement` event consumer and the orphan sweep.
//! - [`stats`]: `GET /notary/stats`.
//! - [`registry`]: batches completed jobs' attestations into `recordBatch` transactions.
//! - [`Payments`] (here): what the handlers and the consumer share, and the types.

pub mod config;
pub mod ledger;
pub mod registry;
pub mod settlement;
pub mod stats;
pub mod validation;
pub mod verify;
pub mod x402;

use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::config::{PaymentConfig, PaymentSettings};
pub use self::ledger::{Consumed, PaymentLedger};
use self::registry::RegistryWriter;
pub use self::settlement::SettlementConsumer;
pub use self::stats::ActiveWorkers;

/// What a client is told of a failed registry write (the details, which can carry the RPC URL,
/// stay in the log).
const REGISTRY_FAILURE: &str =
    "the registry transaction failed or was not mined in time; the payment is refunded";
use crate::chain::contracts::TestUSDC;
use crate::chain::Chain;
use crate::error::{Error, Result};
use crate::record::{now_ms, JobRecord};
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
    /// A prepared marketplace job: the payer whose signature prepared it (its deposit must
    /// come from this address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Address>,
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
    /// A marketplace deposit's release transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_tx_hash: Option<B256>,
    /// Who a released deposit paid, and how much (token units).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payouts: Vec<Payout>,
}

/// One recipient of a released deposit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    /// Who.
    #[schema(value_type = String)]
    pub to: Address,
    /// Token units, decimal.
    pub amount: String,
    /// `seat` (a worker of the deciding round's majority) or `operator` (the fee).
    pub role: String,
}

/// The scheme of a marketplace payment: a deposit in the escrow.
pub const ESCROW_SCHEME: &str = "escrow";

/// A released deposit's split. The requester paid for `paid_seats` (its trust tier); each seat
/// is worth `(amount - fee) / paid_seats`, where the fee is `fee_bps` of the deposit. Every seat
/// in `seats` (the deciding round's majority) gets that share, and the operator what is left
/// (the fee, the rounding remainder and the shares of seats that did not earn one). When an
/// escalated jury has more seats than were paid for, the extra seats come out of the operator's
/// part, and past it out of the operator's own balance: then the payouts add up to more than the
/// deposit and the difference is [`Split::top_up`], which the escrow pulls from the coordinator.
pub fn split_deposit(
    amount: U256,
    fee_bps: u16,
    paid_seats: usize,
    seats: &[Address],
    operator: Address,
) -> Split {
    let fee = amount * U256::from(fee_bps) / U256::from(10_000u64);
    let share = (amount - fee) / U256::from(paid_seats.max(1));
    let mut payouts: Vec<Payout> = seats
        .iter()
        .map(|s| Payout {
            to: *s,
            amount: share.to_string(),
            role: "seat".into(),
        })
        .collect();
    let to_seats = share * U256::from(seats.len());
    if amount > to_seats {
        payouts.push(Payout {
            to: operator,
            amount: (amount - to_seats).to_string(),
            role: "operator".into(),
        });
    }
    Split {
        payouts,
        top_up: to_seats.saturating_sub(amount),
    }
}

/// What [`split_deposit`] decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Who gets what.
    pub payouts: Vec<Payout>,
    /// What the coordinator adds from its own balance (an escalated jury's extra seats).
    pub top_up: U256,
}

/// Everything payments need, shared by the handlers, the settlement consumer and the sweep.
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
    ledger: Arc<dyn PaymentLedger>,
    workers: ActiveWorkers,
    store: Arc<dyn JobStore>,
    /// Where released deposits are credited to the workers (`GET /workers/:address`).
    book: Arc<dyn crate::workers::WorkerBook>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("pay_to", &self.config.pay_to)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

/// A chain failure as the coordinator's error.
pub(crate) fn chain_err(e: impl std::fmt::Display) -> Error {
    Error::Chain(e.to_string())
}

impl Payments {
    /// Connects to the chain (checking its chain id), registers `workers` in the registry when
    /// the chain key owns it, and starts the registry writer. Payment state lives in `ledger`;
    /// `active` says how `GET /notary/stats` counts active workers.
    #[allow(clippy::too_many_arguments)] // called once, from `run`, with named values
    pub async fn start(
        config: PaymentConfig,
        domain: notary_protocol::AttestationDomain,
        ledger: Arc<dyn PaymentLedger>,
        active: ActiveWorkers,
        store: Arc<dyn JobStore>,
        workers: &[(Address, B256)],
        verifier: Option<Address>,
        quoter: Option<Arc<notary_worker::JobExecutor>>,
        book: Arc<dyn crate::workers::WorkerBook>,
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
        let registry = (registry != Address::ZERO).then_some(registry);
        if config.escrow.is_some() && registry.is_none() {
            // The escrow releases a deposit only once the registry holds the job's record.
            return Err(Error::Config(
                "--escrow needs the registry (--registry): deposits are released against its records"
                    .into(),
            ));
        }
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
            ledger,
            workers: active,
            store,
            book,
        }))
    }

    /// The document's network name.
    pub fn network(&self) -> String {
        match self.chain.chain_id() {
            84532 => "base-sepolia".into(),
            8453 => "base".into(),
            id => format!("eip155:{id}"),
        }
    }

    /// Fresh requirements for a job of trust tier `seats`: a jury of n costs n times the base
    /// price (every seat runs the job).
    pub fn requirements(&self, seats: u8) -> PaymentRequirements {
        PaymentRequirements {
            scheme: "exact".into(),
            network: self.network(),
            amount: (self.config.price_wei * U256::from(seats.max(1))).to_string(),
            asset: Address::ZERO,
            pay_to: self.config.pay_to,
            expiry: now_ms() / 1000 + self.config.window.as_secs(),
        }
    }

    /// Stores a job that waits for payment (until its requirements expire, plus a minute).
    pub async fn put_pending(&self, pending: &PendingJob) -> Result<()> {
        let ttl = self.config.window + std::time::Duration::from_secs(60);
        self.ledger.put_pending(pending, ttl).await
    }

    /// The token price of a job of trust tier `seats` (x402 v2).
    pub fn token_price(&self, seats: u8) -> U256 {
        self.config.token_price * U256::from(seats.max(1))
    }

    /// A job waiting for payment.
    pub async fn pending(&self, id: Uuid) -> Result<Option<PendingJob>> {
        self.ledger.pending(id).await
    }

    /// The job a payment paid for, if any.
    pub async fn used_by(&self, hash: B256) -> Result<Option<String>> {
        self.ledger.used_by(&Self::used_tx(hash)).await
    }

    /// Takes one of the payer's concurrent-job slots; `false` when all are taken.
    pub async fn take_payer_slot(&self, payer: Address, job: Uuid) -> Result<bool> {
        self.ledger
            .take_payer_slot(payer, job, self.config.max_jobs_per_payer)
            .await
    }

    /// Gives a payer's slot back.
    pub async fn release_payer_slot(&self, payer: Address, job: Uuid) -> Result<()> {
        self.ledger.release_payer_slot(payer, job).await
    }

    /// Consumes a payment for a job: records it as used (once, forever), stores the job's
    /// payment, marks the job open for settlement and drops its pending entry, atomically
    /// ([`PaymentLedger::consume`]).
    pub async fn consume(&self, job: Uuid, payment: &Payment, used: &str) -> Result<Consumed> {
        self.ledger.consume(job, payment, used).await
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
        self.ledger.reserve(used, job).await
    }

    /// Drops a reservation whose settlement failed (the authorization was not spent).
    pub async fn unreserve(&self, used: &str) -> Result<()> {
        self.ledger.unreserve(used).await
    }

    /// The ledger (also the on-chain requests' store and their locks).
    pub fn ledger(&self) -> &Arc<dyn PaymentLedger> {
        &self.ledger
    }

    /// A job's payment and settlement (`None` for a job that was never paid).
    pub async fn job_payment(&self, job: Uuid) -> Result<Option<(Payment, Settlement)>> {
        self.ledger.job_payment(job).await
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(p: &[Payout]) -> Vec<(u8, &str, &str)> {
        p.iter()
            .map(|p| (p.to.0[0], p.amount.as_str(), p.role.as_str()))
            .collect()
    }

    #[test]
    fn a_deposit_is_split_among_the_deciding_seats_and_the_fee() {
        let (a, b, c, d, e, op) = (
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            Address::repeat_byte(4),
            Address::repeat_byte(5),
            Address::repeat_byte(9),
        );
        let split = |amount: u64, bps: u16, paid: usize, seats: &[Address]| {
            split_deposit(U256::from(amount), bps, paid, seats, op)
        };
        let three = split(3000, 1000, 3, &[a, b, c]);
        assert_eq!(
            amounts(&three.payouts),
            vec![
                (1, "900", "seat"),
                (2, "900", "seat"),
                (3, "900", "seat"),
                (9, "300", "operator")
            ]
        );
        assert_eq!(three.top_up, U256::ZERO);
        // A seat that did not earn its share (not in the majority): the operator keeps it.
        let two = split(3000, 1000, 3, &[a, b]);
        assert_eq!(
            amounts(&two.payouts),
            vec![
                (1, "900", "seat"),
                (2, "900", "seat"),
                (9, "1200", "operator")
            ]
        );
        // An escalated jury of five for a tier-3 deposit: every seat its share, the two extra
        // seats from the operator's fee and then from its own balance.
        let five = split(3000, 1000, 3, &[a, b, c, d, e]);
        assert_eq!(
            amounts(&five.payouts),
            vec![
                (1, "900", "seat"),
                (2, "900", "seat"),
                (3, "900", "seat"),
                (4, "900", "seat"),
                (5, "900", "seat")
            ]
        );
        assert_eq!(five.top_up, U256::from(1500));
        // The rounding remainder is the operator's; the whole deposit is always paid out.
        let odd = split(1000, 0, 3, &[a, b, c]);
        assert_eq!(
            amounts(&odd.payouts),
            vec![
                (1, "333", "seat"),
                (2, "333", "seat"),
                (3, "333", "seat"),
                (9, "1", "operator")
            ]
        );
        let none = split(1000, 1000, 1, &[]);
        assert_eq!(amounts(&none.payouts), vec![(9, "1000", "operator")]);
        let all_fee = split(1000, 10_000, 1, &[a]);
        assert_eq!(
            amounts(&all_fee.payouts),
            vec![(1, "0", "seat"), (9, "1000", "operator")]
        );
    }
}
