//! Settlement of paid jobs: a final paid job is recorded in the registry (`registryTxHash`) or,
//! when refund-eligible or when the registry write fails, refunded (`refundTxHash`), exactly
//! once, then counted in the statistics and its payer slot freed.
//!
//! Who settles: the [`SettlementConsumer`] reads the event log of final jobs (so a job whose
//! client went away, 202, or whose coordinator died before settling is still settled, after the
//! restart or by another replica), and the synchronous paid `POST /verify` settles its own job
//! to answer with the registry hash. Both go through [`Payments::settle`], idempotent and under
//! the job's settling lock. The [`sweep`](Payments::sweep) is only for what has no event: paid
//! jobs whose record never appeared (orphans, refunded after `orphan_after`) and the uptime beat.
//!
//! Refunds: the signed refund is stored in the ledger ([`JobField::RefundRaw`]) before it is
//! broadcast; after a crash the *same* bytes are broadcast again, so a payer is refunded once.
//!
//! A marketplace job (paid by a deposit in `NotaryEscrow`, scheme `escrow`) ends its deposit
//! instead: once the registry holds the record, `release` pays each seat of the deciding round's
//! majority the share of a paid seat and the operator the rest ([`super::split_deposit`]; an
//! escalated jury's extra seats come out of the operator's part, past it from the chain key's
//! own balance, which the escrow pulls); a refund is the
//! escrow's `refund`. Both are the deposit's one closing transaction, stored before it is sent
//! in the same ledger field, so a deposit is released or refunded once across crashes (and the
//! escrow itself ends a deposit only once).

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, B256, U256};
use async_trait::async_trait;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::ledger::{JobField, StatsEntry};
use super::{
    chain_err, parse_hash, registry, split_deposit, Payment, Payments, Payout, Settlement,
    ESCROW_SCHEME, REGISTRY_FAILURE,
};
use crate::chain::contracts::{NotaryEscrow, TestUSDC};
use crate::chain::SignedTx;
use crate::error::{Error, Result};
use crate::jobs::consumers::EventHandler;
use crate::record::{now_ms, JobRecord, JobStatus};
use crate::store::JobEvent;

/// How long a settling lock holds when its holder dies (a settlement waits on the chain).
pub(super) const LOCK_TTL: Duration = Duration::from_secs(90);

impl Payments {
    /// Settles a final paid job once: records a completed result in the registry, or refunds a
    /// refund-eligible one (also when the registry write fails), then frees the payer's slot.
    /// Safe to call from any replica any number of times; a caller that finds another replica
    /// settling waits for it. Returns the settlement (unsettled when the job is not final, or
    /// when another holder kept the lock for two minutes).
    pub async fn settle(&self, record: &JobRecord) -> Result<Settlement> {
        let id = record.id();
        let Some((payment, mut settlement)) = self.job_payment(id).await? else {
            return Ok(Settlement::default());
        };
        if settlement.settled || record.outcome.is_none() {
            return Ok(settlement);
        }
        let owner = Uuid::new_v4().to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            if self.ledger.lock_settling(id, &owner, LOCK_TTL).await? {
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
        self.unlock(id, &owner).await;
        result.map(|()| settlement)
    }

    /// Releases a settling lock (best effort: it expires anyway).
    pub(super) async fn unlock(&self, id: Uuid, owner: &str) {
        if let Err(e) = self.ledger.unlock_settling(id, owner).await {
            tracing::debug!(job_id = %id, error = %e, "settling lock not released; it expires");
        }
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
                let attempted = self
                    .ledger
                    .job_field(id, JobField::RegistryAttempt)
                    .await?
                    .is_some();
                let already = if attempted {
                    registry::find_record(&self.chain, registry, att.fields.job_id_word()).await?
                } else {
                    None
                };
                let written = match already {
                    Some(hash) => Ok(hash),
                    None => {
                        self.ledger
                            .set_job_field(id, JobField::RegistryAttempt, &now_ms().to_string())
                            .await?;
                        // A jury's record carries every agreeing juror's signature.
                        writer
                            .record(outcome.deciding_attestations().to_vec())
                            .await
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
                self.ledger.save_settlement(id, s).await?;
            }
        }
        if refund || s.registry_error.is_some() {
            let hash = self.refund(id, payment).await?;
            s.refund_tx_hash = Some(hash);
        } else if payment.scheme == ESCROW_SCHEME && s.release_tx_hash.is_none() {
            // The seats of the deciding round on the majority side (a tier-1 job: its worker).
            let seats: Vec<Address> = outcome
                .deciding_attestations()
                .iter()
                .map(|a| a.worker)
                .collect();
            let split = split_deposit(
                payment.amount,
                self.config.escrow_fee_bps,
                record.trust_tier() as usize,
                &seats,
                self.config.pay_to,
            );
            if split.top_up > U256::ZERO && s.release_tx_hash.is_none() {
                self.allow_top_up(id, split.top_up).await?;
            }
            s.release_tx_hash = Some(self.release(id, &split.payouts).await?);
            s.payouts = split.payouts;
            self.ledger.save_settlement(id, s).await?;
            // Credited once per (worker, job), so a settlement that runs again adds nothing.
            for payout in s.payouts.iter().filter(|p| p.role == "seat") {
                let units = payout
                    .amount
                    .parse::<U256>()
                    .map_or(0, |u| u.saturating_to::<u64>());
                self.book.credit(payout.to, id, units).await?;
            }
        }
        s.settled = true;
        self.ledger.save_settlement(id, s).await?;
        self.count(record, payment, s).await?;
        self.ledger.close(id, payment.payer).await?;
        Ok(())
    }

    /// Adds a settled job to the statistics (once per job, in the ledger).
    async fn count(&self, record: &JobRecord, payment: &Payment, s: &Settlement) -> Result<()> {
        let outcome = record.outcome.as_ref().expect("final record");
        let delivered = outcome.result.is_some() && s.registry_error.is_none();
        // Revenue is what was kept: refunded payments do not count.
        let kept = if s.refund_tx_hash.is_some() {
            U256::ZERO
        } else if payment.scheme == ESCROW_SCHEME {
            // A released deposit: the operator keeps its fee; the seats' shares are the fleet's.
            s.payouts
                .iter()
                .filter(|p| p.role == "operator")
                .filter_map(|p| p.amount.parse::<U256>().ok())
                .fold(U256::ZERO, |a, b| a + b)
        } else {
            payment.amount
        };
        let clamp = |units: U256| {
            u64::try_from(units)
                .unwrap_or(i64::MAX as u64)
                .min(i64::MAX as u64) as i64
        };
        let mut entry = StatsEntry {
            delivered,
            duration_ms: outcome.total_ms.round() as i64,
            ..StatsEntry::default()
        };
        if payment.asset == Address::ZERO {
            entry.revenue_gwei = clamp(kept / U256::from(1_000_000_000u64));
        } else {
            entry.revenue_token_units = clamp(kept);
        }
        self.ledger.count(record.id(), entry).await?;
        Ok(())
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
        let owner = Uuid::new_v4().to_string();
        if !self.ledger.lock_settling(id, &owner, LOCK_TTL).await? {
            return Ok(());
        }
        tracing::error!(job_id = %id, "paid job has no record; refunding");
        let result = async {
            s.refund_tx_hash = Some(self.refund(id, &payment).await?);
            s.registry_error = None;
            s.settled = true;
            self.ledger.save_settlement(id, &s).await?;
            self.ledger.close(id, payment.payer).await
        }
        .await;
        self.unlock(id, &owner).await;
        result
    }

    /// Pays `payment.amount` back to the payer, exactly once (a deposit: the escrow's refund).
    async fn refund(&self, id: Uuid, payment: &Payment) -> Result<B256> {
        use alloy::sol_types::SolCall;
        let (to, value, input) = if payment.scheme == ESCROW_SCHEME {
            let call = NotaryEscrow::refundCall {
                prepareId: prepare_id(id),
            };
            (self.escrow()?, U256::ZERO, Bytes::from(call.abi_encode()))
        } else if payment.asset == Address::ZERO {
            (payment.payer, payment.amount, Bytes::new())
        } else {
            let call = TestUSDC::transferCall {
                to: payment.payer,
                value: payment.amount,
            };
            (payment.asset, U256::ZERO, Bytes::from(call.abi_encode()))
        };
        let hash = self.close_once(id, to, value, input).await?;
        tracing::warn!(job_id = %id, payer = %payment.payer, tx = %hash, "payment refunded");
        Ok(hash)
    }

    /// Releases a job's deposit to `payouts`, exactly once.
    async fn release(&self, id: Uuid, payouts: &[Payout]) -> Result<B256> {
        use alloy::sol_types::SolCall;
        let call = NotaryEscrow::releaseCall {
            prepareId: prepare_id(id),
            recipients: payouts.iter().map(|p| p.to).collect(),
            amounts: payouts
                .iter()
                .map(|p| p.amount.parse().unwrap_or_default())
                .collect(),
        };
        let hash = self
            .close_once(
                id,
                self.escrow()?,
                U256::ZERO,
                Bytes::from(call.abi_encode()),
            )
            .await?;
        tracing::info!(job_id = %id, tx = %hash, recipients = payouts.len(), "deposit released");
        Ok(hash)
    }

    /// Makes sure the escrow can pull `top_up` from the chain key (an escalated jury's extra
    /// seats): its balance must cover it (else the release waits, retried, and the operator is
    /// told), and the escrow is approved once for all later top-ups.
    async fn allow_top_up(&self, id: Uuid, top_up: U256) -> Result<()> {
        use alloy::sol_types::SolCall;
        let escrow = self.escrow()?;
        let token = self
            .config
            .token
            .ok_or_else(|| Error::Chain("a deposit to settle, but no --token configured".into()))?;
        let me = self.config.chain_key.0.address();
        let contract = TestUSDC::new(token, self.chain.provider());
        let balance = contract.balanceOf(me).call().await.map_err(chain_err)?;
        if balance < top_up {
            tracing::error!(job_id = %id, %top_up, %balance, key = %me, "the chain key cannot pay an escalated jury's extra seats; the release waits until it can");
            return Err(Error::Chain(format!(
                "the chain key {me} holds {balance} token units; the release needs {top_up} more"
            )));
        }
        let allowance = contract
            .allowance(me, escrow)
            .call()
            .await
            .map_err(chain_err)?;
        if allowance < top_up {
            let call = TestUSDC::approveCall {
                spender: escrow,
                value: U256::MAX,
            };
            self.chain
                .transact(Some(token), U256::ZERO, Bytes::from(call.abi_encode()))
                .await
                .map_err(chain_err)?;
            tracing::info!(%escrow, "escrow approved to pull escalation top-ups from the chain key");
        }
        Ok(())
    }

    fn escrow(&self) -> Result<Address> {
        self.config
            .escrow
            .ok_or_else(|| Error::Chain("a deposit to settle, but no --escrow configured".into()))
    }

    /// Sends a job's one closing transaction (a refund or a release) exactly once: the signed
    /// transaction is stored before it is broadcast, and a retry broadcasts the stored bytes
    /// again (a stored one whose nonce another transaction took is signed anew).
    async fn close_once(&self, id: Uuid, to: Address, value: U256, input: Bytes) -> Result<B256> {
        if let Some(stored) = self.ledger.job_field(id, JobField::RefundRaw).await? {
            let tx = parse_stored(&stored)?;
            if self.chain.is_dead(&tx).await.map_err(chain_err)? {
                // Stored but never broadcast, and its nonce went to another transaction: it can
                // never be mined, so a new one is signed (still exactly one mined).
                tracing::warn!(job_id = %id, tx = %tx.hash, "stored closing transaction can never be mined; signing a new one");
                self.ledger.clear_job_field(id, JobField::RefundRaw).await?;
            }
        }
        let tx = match self.ledger.job_field(id, JobField::RefundRaw).await? {
            Some(stored) => parse_stored(&stored)?,
            None => {
                let (tx, guard) = self
                    .chain
                    .sign(Some(to), value, input)
                    .await
                    .map_err(chain_err)?;
                self.ledger
                    .set_job_field(
                        id,
                        JobField::RefundRaw,
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
        Ok(tx.hash)
    }

    /// Every second until `stop`: marks the minute as served and refunds orphans (paid jobs
    /// whose record never appeared, so no event will come). Runs on every replica.
    pub async fn sweep(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_millis(1000));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.cancelled() => return,
            }
            if let Err(e) = self.ledger.beat(now_ms() / 60_000).await {
                tracing::debug!(error = %e, "uptime beat failed");
            }
            if let Err(e) = self.sweep_once().await {
                tracing::debug!(error = %e, "orphan sweep failed; retrying");
            }
        }
    }

    /// One pass of [`Payments::sweep`] over the open jobs: those without a record are refunded
    /// once old enough. Jobs with a record are the [`SettlementConsumer`]'s (their final event).
    pub async fn sweep_once(&self) -> Result<()> {
        for id in self.ledger.open_jobs().await? {
            if self.store.get(id).await?.is_none() {
                if let Err(e) = self.settle_orphan(id).await {
                    tracing::warn!(job_id = %id, error = %e, "orphan refund failed; will retry");
                }
            }
        }
        Ok(())
    }
}

/// The `settlement` event consumer: settles each final job that is paid.
pub struct SettlementConsumer(pub Arc<Payments>);

#[async_trait]
impl EventHandler for SettlementConsumer {
    fn name(&self) -> &'static str {
        "settlement"
    }

    async fn handle(&self, event: &JobEvent) -> Result<()> {
        let p = &self.0;
        let id = event.job_id;
        match p.job_payment(id).await? {
            None => return Ok(()),
            Some((_, s)) if s.settled => return Ok(()),
            Some(_) => {}
        }
        let Some(record) = p.store.get(id).await? else {
            // Gone (retention): the orphan sweep refunds it.
            return Ok(());
        };
        if record.status() == JobStatus::Running {
            return Err(Error::Store(format!(
                "job {id} has a final event but no outcome yet"
            )));
        }
        let s = p.settle(&record).await?;
        if s.settled {
            Ok(())
        } else {
            Err(Error::Store(format!(
                "job {id} is still being settled elsewhere"
            )))
        }
    }
}

/// A refund transaction as stored in the ledger (`{"hash", "raw"}`).
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

/// A job's escrow deposit id: the job id as the registry keys it (the UUID in the first 16
/// bytes).
pub fn prepare_id(job: Uuid) -> B256 {
    let mut word = [0u8; 32];
    word[..16].copy_from_slice(job.as_bytes());
    B256::from(word)
}
