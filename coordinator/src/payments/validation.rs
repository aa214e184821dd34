//! Notary as an ERC-8004 validator (issue 13).
//!
//! An agent's owner opens a request in the ERC-8004 Validation Registry naming Notary's chain
//! key as the validator (`validationRequest(validator, agentId, requestURI, requestHash)`), then
//! submits a job naming that `requestHash` (`erc8004RequestHash`). At acceptance the request is
//! checked on chain: it must exist and name this notary, else `400` before anything is paid. When
//! the job is final, the [`ValidationConsumer`] posts its verdict as
//! `validationResponse(requestHash, response, responseURI, responseHash, tag)`:
//!
//! - `response`: 100 for `VALID`, 0 for `INVALID`, `ERROR` and `TIMEOUT` (the claim did not
//!   hold); a job that ended in an infrastructure failure (`status: "error"`, refunded) has no
//!   verdict and posts nothing;
//! - `responseURI`: `<--public-url>/jobs/<jobId>/result`;
//! - `responseHash`: the EIP-712 digest of the deciding attestation (what its workers signed);
//! - `tag`: `notary.tier-<n>`, the tier of the round that decided.
//!
//! Once per job: the consumer posts under the job's settling lock and first reads the request's
//! status, so a redelivered event (another replica, a restart) finds the answer on chain and
//! sends nothing. A coordinator that dies after broadcasting and before the answer is mined may
//! send it a second time; the registry then holds the same answer with a later `lastUpdate`.

use std::sync::Arc;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::sol_types::SolCall;
use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use super::settlement::LOCK_TTL;
use super::{chain_err, Payments};
use crate::chain::contracts::ValidationRegistry;
use crate::error::{Error, Rejected, Result};
use crate::jobs::consumers::EventHandler;
use crate::record::{JobRecord, JobStatus};
use crate::store::JobEvent;

/// What a final job posts to the validation registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// 100 (VALID) or 0.
    pub response: u8,
    /// The job's result URL.
    pub uri: String,
    /// The deciding attestation's EIP-712 digest.
    pub hash: B256,
    /// `notary.tier-<n>`.
    pub tag: String,
}

/// The answer a final job gives (`None`: no verdict to post, e.g. an infrastructure failure).
pub fn answer(record: &JobRecord, public_url: &str) -> Option<Answer> {
    let outcome = record.outcome.as_ref()?;
    let verdict = outcome.result?;
    let attestation = outcome.attestation.as_ref()?;
    let tier = record
        .jury_state
        .as_ref()
        .and_then(|s| s.current())
        .map_or(record.trust_tier(), |round| round.tier);
    Some(Answer {
        response: if verdict == notary_protocol::Verdict::Valid {
            100
        } else {
            0
        },
        uri: format!("{public_url}/jobs/{}/result", record.id()),
        hash: B256::from(attestation.fields.signing_hash(&record.spec.domain).0),
        tag: format!("notary.tier-{tier}"),
    })
}

impl Payments {
    /// The validation registry and this notary's public URL, when it is a validator.
    fn validator(&self) -> Option<(Address, &str)> {
        Some((
            self.config.validation_registry?,
            self.config.public_url.as_deref()?,
        ))
    }

    /// Checks a job's `erc8004RequestHash` at acceptance: the request exists and names this
    /// notary's chain key. `Ok(Err(_))` is the client's mistake (400); `Err` the chain's.
    pub async fn check_validation_request(
        &self,
        request: B256,
    ) -> Result<std::result::Result<(), Rejected>> {
        let invalid =
            |message: String, params: serde_json::Value| Rejected::Invalid { message, params };
        let Some((registry, _)) = self.validator() else {
            return Ok(Err(invalid(
                "this notary answers no ERC-8004 validation registry (--validation-registry)"
                    .into(),
                json!({"field": "erc8004RequestHash"}),
            )));
        };
        let contract = ValidationRegistry::new(registry, self.chain.provider());
        let status = match contract.getValidationStatus(request).call().await {
            Ok(status) => status,
            Err(e)
                if e.as_decoded_error::<ValidationRegistry::UnknownRequest>()
                    .is_some() =>
            {
                return Ok(Err(invalid(
                    format!("no validation request {request} in the registry {registry}"),
                    json!({"field": "erc8004RequestHash", "registry": registry}),
                )))
            }
            Err(e) => return Err(chain_err(e)),
        };
        let me = self.config.chain_key.0.address();
        if status.validatorAddress != me {
            return Ok(Err(invalid(
                format!(
                    "validation request {request} names the validator {}, not this notary ({me})",
                    status.validatorAddress
                ),
                json!({"field": "erc8004RequestHash", "validator": status.validatorAddress, "notary": me}),
            )));
        }
        Ok(Ok(()))
    }

    /// Posts a final job's verdict to the validation registry once (see the module docs).
    pub async fn post_validation(&self, record: &JobRecord) -> Result<()> {
        let (Some(request), Some((registry, public_url))) =
            (record.validation_request, self.validator())
        else {
            return Ok(());
        };
        let Some(answer) = answer(record, public_url) else {
            tracing::warn!(job_id = %record.id(), "no verdict to post to the validation registry");
            return Ok(());
        };
        let id = record.id();
        let owner = Uuid::new_v4().to_string();
        if !self.ledger.lock_settling(id, &owner, LOCK_TTL).await? {
            return Err(Error::Store(format!(
                "job {id} is being settled; its validation answer waits"
            )));
        }
        let result = self.post_locked(registry, request, &answer).await;
        self.unlock(id, &owner).await;
        let hash = result?;
        tracing::info!(job_id = %id, request = %request, response = answer.response, tx = ?hash, "validation answer posted");
        Ok(())
    }

    /// Sends the answer unless the registry already holds it; the transaction hash if sent.
    async fn post_locked(
        &self,
        registry: Address,
        request: B256,
        answer: &Answer,
    ) -> Result<Option<B256>> {
        let contract = ValidationRegistry::new(registry, self.chain.provider());
        let status = contract
            .getValidationStatus(request)
            .call()
            .await
            .map_err(chain_err)?;
        if status.lastUpdate != U256::ZERO
            && status.response == answer.response
            && status.responseHash == answer.hash
            && status.tag == answer.tag
        {
            return Ok(None);
        }
        let call = ValidationRegistry::validationResponseCall {
            requestHash: request,
            response: answer.response,
            responseURI: answer.uri.clone(),
            responseHash: answer.hash,
            tag: answer.tag.clone(),
        };
        let receipt = self
            .chain
            .transact(Some(registry), U256::ZERO, Bytes::from(call.abi_encode()))
            .await
            .map_err(chain_err)?;
        Ok(Some(receipt.transaction_hash))
    }
}

/// The `validation` event consumer: posts each final job's verdict to the ERC-8004 registry
/// when the job names a validation request.
pub struct ValidationConsumer(pub Arc<Payments>);

#[async_trait]
impl EventHandler for ValidationConsumer {
    fn name(&self) -> &'static str {
        "erc8004-validation"
    }

    async fn handle(&self, event: &JobEvent) -> Result<()> {
        let Some(record) = self.0.store.get(event.job_id).await? else {
            return Ok(());
        };
        if record.validation_request.is_none() {
            return Ok(());
        }
        if record.status() == JobStatus::Running {
            return Err(Error::Store(format!(
                "job {} has a final event but no outcome yet",
                event.job_id
            )));
        }
        self.0.post_validation(&record).await
    }
}
