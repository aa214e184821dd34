//! Payment checks: document 002's `X-402-Payment: <tx hash>` (a native-ETH transfer checked on
//! chain) and x402 v2's `PAYMENT-SIGNATURE` (an EIP-3009 authorization checked offline, then
//! settled on chain by the chain key). Whether a payment was used before is asked of the
//! [ledger](super::ledger); consuming it is [`Payments::consume`]'s.

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;

use super::{chain_err, parse_hash, x402, Payment, PaymentFailure, PaymentRequirements, Payments};
use crate::chain::contracts::TestUSDC;
use crate::error::{Error, Result};
use crate::record::now_ms;

impl Payments {
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

    /// Checks a `PAYMENT-SIGNATURE` for a job of trust tier `seats` offline; returns the
    /// authorization and its used-record key.
    pub async fn verify_authorization(
        &self,
        header: &str,
        seats: u8,
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
            self.token_price(seats),
            self.config.pay_to,
            now_ms() / 1000,
        ) {
            Ok(c) => c,
            Err((reason, message)) => return fail(reason, message),
        };
        let used = Self::used_authorization(d.token, checked.auth.from, checked.auth.nonce);
        if let Some(job) = self.ledger.used_by(&used).await? {
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
}
