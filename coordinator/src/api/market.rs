//! The marketplace job flow (issue 13, document 000): prepare, fund the escrow, confirm.
//!
//! - `POST /jobs/prepare` with a `/verify` body (`trustTier`, `escalation` too): without
//!   `PAYMENT-SIGNATURE`, `402` with `PAYMENT-REQUIRED` (x402 v2; `payTo` is the escrow). With a
//!   valid signature (an EIP-3009 authorization from the payer to the escrow for the price),
//!   `200` with the prepared job: `prepareId`, the price, `jurySeed` and `poolHash` (fixed now),
//!   the escrow and the exact calls that fund it, and an expiry. Nothing runs yet; the
//!   signature is the payer's commitment (the deposit must come from that address), it is not
//!   spent.
//! - `POST /jobs {"prepareId", "transactionHash"}`: the transaction must have funded that
//!   `prepareId` in the escrow (its `Funded` event) with the price, from the payer, be mined
//!   with the configured confirmations before the expiry and never used before, and the deposit
//!   must still be held. Then the job starts: `202` with the job. Failures are `402 Payment
//!   Failed` with the reason, as `/verify`'s.
//!
//! Settlement (release to the seats that decided, or refund) is the settlement consumer's
//! ([`crate::payments::settlement`]).

use std::sync::Arc;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolEvent};
use axum::body::Bytes as Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
use super::openapi::{ErrorBody, VerifyRequest};
use super::verify::{accept, start};
use super::view::JobView;
use super::AppState;
use crate::chain::contracts::{NotaryEscrow, TestUSDC};
use crate::payments::ledger::Consumed;
use crate::payments::settlement::prepare_id;
use crate::payments::{x402, Payment, PaymentRequirements, Payments, PendingJob, ESCROW_SCHEME};
use crate::record::now_ms;

/// One call to make.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    /// The contract.
    pub to: String,
    /// Calldata, `0x` hex.
    pub data: String,
}

/// How to fund a prepared job.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Funding {
    /// First `approve(escrow, amount)` on the token...
    pub approve: Call,
    /// ...then `fund(prepareId, amount)` on the escrow.
    pub fund: Call,
    /// Or, in one signature: `fundWithAuthorization` with an EIP-3009
    /// `ReceiveWithAuthorization` to the escrow whose nonce is this `prepareId`.
    pub authorization_nonce: String,
}

/// `200` of `POST /jobs/prepare`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreparedJob {
    /// The deposit's id in the escrow (the job id as the registry keys it).
    pub prepare_id: String,
    /// The job's id once confirmed.
    pub job_id: Uuid,
    /// `prepared`.
    pub status: &'static str,
    /// The job's trust tier.
    pub trust_tier: u8,
    /// The price (token units, decimal).
    pub amount: String,
    /// The token.
    pub asset: String,
    /// The escrow to fund.
    pub escrow: String,
    /// Who must fund it (the signature's payer).
    pub payer: String,
    /// The jury's seed (trust tier above 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jury_seed: Option<String>,
    /// `keccak256` of the jury's pool (trust tier above 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_hash: Option<String>,
    /// The calls that fund it.
    pub funding: Funding,
    /// Unix seconds: a funding mined later does not count.
    pub expires_at: u64,
}

struct Market<'a> {
    p: &'a Arc<Payments>,
    escrow: Address,
    token: x402::TokenDomain,
}

fn market(state: &AppState) -> Result<Market<'_>, ApiError> {
    let not_here = || {
        ApiError::NotFound(
            "the marketplace flow is off on this coordinator (it needs --escrow and --token)"
                .into(),
        )
    };
    let p = state.payments.as_ref().ok_or_else(not_here)?;
    match (p.config.escrow, &p.token) {
        (Some(escrow), Some(token)) => Ok(Market {
            p,
            escrow,
            token: token.clone(),
        }),
        _ => Err(not_here()),
    }
}

fn failed(reason: &'static str, message: String, prepare: Option<B256>) -> Response {
    let body = json!({
        "error": "Payment Failed",
        "message": message,
        "params": {"reason": reason},
        "reason": reason,
        "prepareId": prepare.map(|p| p.to_string()),
    });
    (StatusCode::PAYMENT_REQUIRED, Json(body)).into_response()
}

/// `POST /jobs/prepare`.
#[utoipa::path(post, path = "/jobs/prepare", tag = "payments",
    request_body(content = VerifyRequest, content_type = "application/json"),
    params(("PAYMENT-SIGNATURE" = Option<String>, Header, description = "x402 v2 exact scheme: base64 JSON of an EIP-3009 authorization from the payer to the escrow for the price")),
    responses(
        (status = 200, description = "Prepared: fund the escrow, then confirm with POST /jobs", body = PreparedJob),
        (status = 400, description = "Bad Request: invalid body, field or module", body = ErrorBody),
        (status = 402, description = "Payment Required (PAYMENT-REQUIRED header), or Payment Failed with its reason", body = Object),
        (status = 404, description = "Not Found: the marketplace flow is off", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: too few eligible workers for the trust tier, or a backend is away", body = ErrorBody),
    ))]
pub async fn prepare(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Body, BytesRejection>,
) -> Result<Response, ApiError> {
    let m = market(&state)?;
    let record = accept(&state, &headers, body).await?;
    let seats = record.trust_tier();
    let amount = m.p.token_price(seats);
    let Some(signature) = super::payments::header_str(&headers, "payment-signature") else {
        let accepts = x402::requirements(&m.token, amount, m.escrow);
        let value = x402::payment_required_header(&accepts, "/jobs/prepare", None);
        let body = json!({
            "error": "Payment Required",
            "message": "sign an x402 exact authorization to the escrow for the price (PAYMENT-SIGNATURE) to prepare this job",
            "trustTier": seats,
            "paymentRequirements": accepts,
        });
        let mut resp = (StatusCode::PAYMENT_REQUIRED, Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert("payment-required", v);
        }
        return Ok(resp);
    };
    let now = now_ms() / 1000;
    let checked = match x402::decode_header(signature).and_then(|payload| {
        x402::verify_authorization(&payload, &m.token, amount, m.escrow, now)
            .map_err(|(_, message)| message)
    }) {
        Ok(c) => c,
        Err(message) => return Ok(failed("invalid_signature", message, None)),
    };
    let id = record.id();
    let prepare = prepare_id(id);
    let expires_at = now + m.p.config.window.as_secs();
    let requirements = PaymentRequirements {
        scheme: ESCROW_SCHEME.into(),
        network: m.p.network(),
        amount: amount.to_string(),
        asset: m.token.token,
        pay_to: m.escrow,
        expiry: expires_at,
    };
    m.p.put_pending(&PendingJob {
        record: record.clone(),
        requirements,
        payer: Some(checked.auth.from),
    })
    .await?;
    tracing::info!(job_id = %id, payer = %checked.auth.from, %amount, "marketplace job prepared");
    let approve = TestUSDC::approveCall {
        spender: m.escrow,
        value: amount,
    };
    let fund = NotaryEscrow::fundCall {
        prepareId: prepare,
        amount,
    };
    let view = JobView::from(&record);
    Ok(Json(PreparedJob {
        prepare_id: prepare.to_string(),
        job_id: id,
        status: "prepared",
        trust_tier: seats,
        amount: amount.to_string(),
        asset: m.token.token.to_checksum(None),
        escrow: m.escrow.to_checksum(None),
        payer: checked.auth.from.to_checksum(None),
        jury_seed: view.jury_seed,
        pool_hash: view.pool_hash,
        funding: Funding {
            approve: Call {
                to: m.token.token.to_checksum(None),
                data: Bytes::from(approve.abi_encode()).to_string(),
            },
            fund: Call {
                to: m.escrow.to_checksum(None),
                data: Bytes::from(fund.abi_encode()).to_string(),
            },
            authorization_nonce: prepare.to_string(),
        },
        expires_at,
    })
    .into_response())
}

/// `POST /jobs` body.
#[derive(serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // the handler reads the body strictly by hand; this describes it
pub struct ConfirmJob {
    /// `prepareId` of `POST /jobs/prepare`.
    prepare_id: String,
    /// The transaction that funded it.
    transaction_hash: String,
}

/// `POST /jobs`.
#[utoipa::path(post, path = "/jobs", tag = "payments",
    request_body(content = ConfirmJob, content_type = "application/json"),
    responses(
        (status = 202, description = "Funded and started (or started already): poll /verify/{jobId}", body = JobView),
        (status = 400, description = "Bad Request: `params.field` names the bad field", body = ErrorBody),
        (status = 402, description = "Payment Failed: `reason` not_found, reverted, not_funded, wrong_amount, wrong_payer, not_confirmed, expired, already_used or not_held", body = Object),
        (status = 404, description = "Not Found: no such prepared job (unknown or expired), or the flow is off", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: the chain or a backend is away", body = ErrorBody),
    ))]
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    body: Result<Body, BytesRejection>,
) -> Result<Response, ApiError> {
    // Detached: a client that hangs up must not leave a deposit consumed but its job unstarted.
    tokio::spawn(confirm_detached(state, body))
        .await
        .map_err(|e| ApiError::Internal {
            code: "Internal Error",
            message: format!("the confirmation failed: {e}"),
            body: None,
        })?
}

async fn confirm_detached(
    state: Arc<AppState>,
    body: Result<Body, BytesRejection>,
) -> Result<Response, ApiError> {
    let m = market(&state)?;
    let body = super::json::body(body, 4096)?;
    let fields = super::json::object(&body)?;
    super::json::only(&fields, &["prepareId", "transactionHash"])?;
    let word = |name: &str| -> Result<B256, ApiError> {
        match fields.get(name) {
            Some(Value::String(t)) => crate::payments::parse_hash(t),
            _ => None,
        }
        .ok_or_else(|| ApiError::field(name, format!("{name} must be 0x and 64 hex digits")))
    };
    let prepare = word("prepareId")?;
    let tx_hash = word("transactionHash")?;
    if prepare[16..] != [0u8; 16] {
        return Err(ApiError::field(
            "prepareId",
            "prepareId is not one POST /jobs/prepare gave",
        ));
    }
    let id = Uuid::from_slice(&prepare[..16]).expect("16 bytes");
    let Some(pending) = m.p.pending(id).await? else {
        // Confirmed before (a retry): the job as it is.
        if let (Some(record), Some(_)) = (state.jobs.get(id).await?, m.p.job_payment(id).await?) {
            return Ok((StatusCode::ACCEPTED, Json(JobView::from(&record))).into_response());
        }
        return Err(ApiError::NotFound(format!(
            "no prepared job {prepare} (unknown, or its expiry passed)"
        )));
    };
    let price: U256 = pending.requirements.amount.parse().unwrap_or_default();
    let chain = &m.p.chain;
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "the chain could not be asked");
        ApiError::Unavailable("the chain could not be asked; retry later".into())
    };
    let Some(receipt) = chain
        .provider()
        .get_transaction_receipt(tx_hash)
        .await
        .map_err(|e| unavailable(&e))?
    else {
        return Ok(failed(
            "not_found",
            format!(
                "transaction {tx_hash} is not mined on chain {}",
                chain.chain_id()
            ),
            Some(prepare),
        ));
    };
    if !receipt.status() {
        return Ok(failed(
            "reverted",
            "the transaction reverted".into(),
            Some(prepare),
        ));
    }
    let funded = receipt.inner.logs().iter().find_map(|log| {
        if log.address() != m.escrow {
            return None;
        }
        let event = NotaryEscrow::Funded::decode_log(&log.inner).ok()?;
        (event.prepareId == prepare).then_some((event.payer, event.amount))
    });
    let Some((payer, amount)) = funded else {
        return Ok(failed(
            "not_funded",
            format!(
                "the transaction does not fund {prepare} in the escrow {}",
                m.escrow
            ),
            Some(prepare),
        ));
    };
    if amount != price {
        return Ok(failed(
            "wrong_amount",
            format!("the deposit is {amount}; the price is {price}"),
            Some(prepare),
        ));
    }
    if let Some(expected) = pending.payer {
        if payer != expected {
            return Ok(failed(
                "wrong_payer",
                format!(
                    "the deposit comes from {payer}, not the payer who prepared it ({expected})"
                ),
                Some(prepare),
            ));
        }
    }
    let block = receipt.block_number.unwrap_or_default();
    let head = chain
        .provider()
        .get_block_number()
        .await
        .map_err(|e| unavailable(&e))?;
    let have = head.saturating_sub(block) + 1;
    if have < m.p.config.confirmations {
        return Ok(failed(
            "not_confirmed",
            format!(
                "the transaction has {have} of {} confirmations; retry later",
                m.p.config.confirmations
            ),
            Some(prepare),
        ));
    }
    let mined_at = chain
        .provider()
        .get_block_by_number(block.into())
        .await
        .map_err(|e| unavailable(&e))?
        .map(|b| b.header.timestamp)
        .unwrap_or(u64::MAX);
    if mined_at > pending.requirements.expiry {
        return Ok(failed(
            "expired",
            format!(
                "the deposit was mined after the expiry ({})",
                pending.requirements.expiry
            ),
            Some(prepare),
        ));
    }
    let held = NotaryEscrow::new(m.escrow, chain.provider())
        .deposits(prepare)
        .call()
        .await
        .map_err(|e| unavailable(&e))?;
    if held.state != 1 {
        return Ok(failed(
            "not_held",
            "the escrow no longer holds this deposit (refunded or reclaimed)".into(),
            Some(prepare),
        ));
    }
    let payment = Payment {
        scheme: ESCROW_SCHEME.into(),
        tx_hash,
        payer,
        amount,
        verified_at_ms: now_ms(),
        asset: m.token.token,
    };
    // The per-payer limit of `/verify` holds here too; the deposit stays unused meanwhile, so
    // the same confirmation can be retried once one of the payer's jobs has ended.
    if !m.p.take_payer_slot(payer, id).await? {
        tracing::info!(job_id = %id, %payer, "payer at its concurrency limit");
        return Ok(super::payments::payer_limited(m.p, payer));
    }
    match m
        .p
        .consume(id, &payment, &Payments::used_tx(tx_hash))
        .await?
    {
        Consumed::Done => {}
        Consumed::AlreadyPaid => {
            if let Some(record) = state.jobs.get(id).await? {
                return Ok((StatusCode::ACCEPTED, Json(JobView::from(&record))).into_response());
            }
        }
        Consumed::UsedBy(other) => {
            m.p.release_payer_slot(payer, id).await?;
            return Ok(failed(
                "already_used",
                format!("this transaction was already used for job {other}"),
                Some(prepare),
            ));
        }
    }
    tracing::info!(job_id = %id, %payer, tx = %tx_hash, "marketplace job funded; starting it");
    let mut headers = HeaderMap::new();
    headers.insert("prefer", HeaderValue::from_static("respond-async"));
    let payer_key = format!("{payer:#x}");
    let record = start(&state, pending.record, &headers, Some(&payer_key), true).await?;
    Ok((StatusCode::ACCEPTED, Json(JobView::from(&record))).into_response())
}
