//! `POST /quote` (source document 000): a non-binding price for a task before paying.
//!
//! The body is a `POST /verify` body, validated the same way. The price is the base price plus
//! a fuel-based part (`--price-wei-per-gigafuel`, 0 by default) from a dry run capped at
//! [`QUOTE_FUEL_CAP`] fuel and [`QUOTE_TIMEOUT_MS`] of wall clock on the in-process executor;
//! without in-process workers there is no dry run and the quote is by module (the base price).
//! The dry run's output is discarded: a quote never reveals a result. A `trustTier` above 1
//! multiplies the price by the jury's seats (each juror runs the job); the answer names the
//! tier, the seats and the price per seat.

use std::sync::Arc;

use alloy::primitives::U256;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use notary_protocol::Verdict;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::openapi::{ErrorBody, VerifyRequest};
use super::verify::accept;
use super::AppState;
use crate::record::now_ms;

/// Most fuel a quote's dry run may burn (a tenth of the default job budget).
pub const QUOTE_FUEL_CAP: u64 = 1_000_000_000;
/// Wall-clock cap of a quote's dry run.
pub const QUOTE_TIMEOUT_MS: u64 = 2_000;
/// How long a quote is valid.
pub const QUOTE_VALIDITY_SECS: u64 = 300;

/// `POST /quote`.
#[utoipa::path(post, path = "/quote", tag = "payments",
    request_body(content = VerifyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "A non-binding price (base plus a fuel part from a capped dry run) and its validity", body = QuoteView),
        (status = 400, description = "Bad Request: invalid body, field or module", body = ErrorBody),
        (status = 413, description = "Payload Too Large", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn quote(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<QuoteView>, ApiError> {
    let p = state
        .payments
        .as_ref()
        .expect("quote is mounted only with payments on");
    let mut record = accept(&state, &headers, body).await?;
    let budget = record.spec.fuel;
    record.spec.fuel = budget.min(QUOTE_FUEL_CAP);
    record.spec.timeout_ms = record.spec.timeout_ms.min(QUOTE_TIMEOUT_MS);
    let (method, fuel, capped) = match &p.quoter {
        Some(executor) => {
            let payload = serde_json::to_string(&record.spec).map_err(crate::error::Error::from)?;
            match executor.execute(&payload, 0).await {
                Some(report) => {
                    let f = &report.attestation.fields;
                    let capped = f.fuel_used >= record.spec.fuel
                        || matches!(f.result, Verdict::Timeout | Verdict::Failed);
                    // A run cut short is priced at the job's whole budget: it may use all of it.
                    let fuel = if capped { budget } else { f.fuel_used };
                    ("dry-run", Some(fuel), capped)
                }
                None => ("module", None, false),
            }
        }
        None => ("module", None, false),
    };
    let base = p.config.price_wei;
    let fuel_part = fuel.map_or(U256::ZERO, |f| {
        U256::from(f) * p.config.price_wei_per_gigafuel / U256::from(1_000_000_000u64)
    });
    let now = now_ms() / 1000;
    let seats = record.jury.as_ref().map_or(1, |j| j.tier);
    let per_seat = base + fuel_part;
    Ok(Json(QuoteView {
        scheme: "exact",
        network: p.network(),
        asset: format!("{:#x}", alloy::primitives::Address::ZERO),
        amount: (per_seat * U256::from(seats)).to_string(),
        trust_tier: seats,
        seats,
        per_seat: per_seat.to_string(),
        base_price_wei: base.to_string(),
        fuel_price_wei: fuel_part.to_string(),
        price_wei_per_gigafuel: p.config.price_wei_per_gigafuel.to_string(),
        estimated_fuel: fuel,
        fuel_capped: capped,
        fuel_budget: budget,
        method,
        binding: false,
        quoted_at: now,
        valid_until: now + QUOTE_VALIDITY_SECS,
    }))
}

/// A non-binding price (amounts in wei, as decimal strings).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    /// The x402 scheme the job would be paid with: `exact`.
    pub scheme: &'static str,
    /// The network: `base`, `base-sepolia`, else `eip155:<chain id>`.
    pub network: String,
    /// The asset priced in: the zero address (the price is in wei of the payment token).
    pub asset: String,
    /// The whole price: the price per seat times the seats.
    pub amount: String,
    /// The job's trust tier.
    pub trust_tier: u8,
    /// Workers paid to run it (the tier: one per juror).
    pub seats: u8,
    /// What one seat costs: base plus fuel part.
    pub per_seat: String,
    /// The base price of a job.
    pub base_price_wei: String,
    /// The fuel-based part.
    pub fuel_price_wei: String,
    /// The price per 10^9 fuel.
    pub price_wei_per_gigafuel: String,
    /// The dry run's fuel (the budget when the run was cut short); absent without a dry run.
    pub estimated_fuel: Option<u64>,
    /// Whether the dry run was cut short (priced at the whole budget).
    pub fuel_capped: bool,
    /// The job's fuel budget.
    pub fuel_budget: u64,
    /// `dry-run` or `module` (no dry run: the base price).
    pub method: &'static str,
    /// Always false: a quote is not an offer.
    pub binding: bool,
    /// When (unix seconds).
    pub quoted_at: u64,
    /// Valid until (unix seconds).
    pub valid_until: u64,
}
