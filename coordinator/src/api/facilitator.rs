//! x402 facilitator routes (source document 000), so other x402 servers can verify and settle
//! EIP-3009 payments through Notary: `GET /facilitator/supported`, `POST /facilitator/verify`,
//! `POST /facilitator/settle`, in the x402 facilitator shapes (`{x402Version, paymentPayload,
//! paymentRequirements}` in; `{isValid, invalidReason, payer}` and `{success, errorReason,
//! transaction, network, payer}` out). Only the `exact` scheme on this coordinator's chain, with
//! the configured `--token`, is supported: settlement gas is paid by the chain key, so the
//! coordinator does not settle arbitrary contracts for anyone who asks.

use std::sync::Arc;

use alloy::primitives::{Address, U256};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::openapi::ErrorBody;
use super::AppState;
use crate::chain::contracts::TestUSDC;
use crate::payments::x402::{self, CheckedAuthorization, TokenDomain};
use crate::payments::Payments;
use crate::record::now_ms;

fn payments(state: &AppState) -> &Arc<Payments> {
    state
        .payments
        .as_ref()
        .expect("facilitator routes are mounted only with payments on")
}

/// `GET /facilitator/supported`.
#[utoipa::path(get, path = "/facilitator/supported", tag = "facilitator",
    responses(
        (status = 200, description = "x402 facilitator: the supported kinds (x402Version, scheme exact, network)", body = Object),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn supported(State(state): State<Arc<AppState>>) -> Json<Supported> {
    let p = payments(&state);
    let network = format!("eip155:{}", p.chain.chain_id());
    let kinds = p
        .token
        .iter()
        .map(|d| Kind {
            x402_version: 2,
            scheme: "exact",
            network: network.clone(),
            extra: KindExtra { asset: d.token },
        })
        .collect();
    Json(Supported {
        kinds,
        extensions: Vec::new(),
        signers: std::collections::BTreeMap::from([(
            "eip155:*",
            p.chain.sender().into_iter().collect(),
        )]),
    })
}

/// `GET /facilitator/supported` (x402 facilitator API).
#[derive(Serialize)]
pub struct Supported {
    kinds: Vec<Kind>,
    extensions: Vec<String>,
    signers: std::collections::BTreeMap<&'static str, Vec<Address>>,
}

/// One supported payment kind.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kind {
    x402_version: u8,
    scheme: &'static str,
    network: String,
    extra: KindExtra,
}

#[derive(Serialize)]
struct KindExtra {
    asset: Address,
}

/// `POST /facilitator/verify` (x402 facilitator API).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    is_valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    invalid_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invalid_message: Option<String>,
    payer: Option<Address>,
}

/// `POST /facilitator/settle` (x402 facilitator API).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settled {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    payer: Option<Address>,
    /// The settling transaction ("" when not settled).
    transaction: String,
    network: String,
}

/// Checks a request's payload against its requirements; `Err((reason, message, payer))`.
async fn check(
    p: &Payments,
    body: &Value,
) -> Result<(CheckedAuthorization, Address), (String, String, Option<Address>)> {
    let req = &body["paymentRequirements"];
    let payload = &body["paymentPayload"];
    let fail = |r: &str, m: String| (r.to_string(), m, None);
    let network = format!("eip155:{}", p.chain.chain_id());
    if req["scheme"] != "exact" || req["network"] != json!(network) {
        return Err(fail(
            "unsupported_scheme",
            format!("only scheme exact on {network} is supported"),
        ));
    }
    let parse = |v: &Value| v.as_str().and_then(|s| s.parse::<Address>().ok());
    let (Some(token), Some(pay_to)) = (parse(&req["asset"]), parse(&req["payTo"])) else {
        return Err(fail(
            "invalid_payment_requirements",
            "asset and payTo must be addresses".into(),
        ));
    };
    if p.token.as_ref().map(|d| d.token) != Some(token) {
        return Err(fail(
            "unsupported_asset",
            "this facilitator settles only its configured token".into(),
        ));
    }
    let amount = req["amount"]
        .as_str()
        .and_then(|a| a.parse::<U256>().ok())
        .ok_or_else(|| {
            fail(
                "invalid_payment_requirements",
                "amount must be a decimal string".into(),
            )
        })?;
    let (Some(name), Some(version)) = (
        req["extra"]["name"].as_str(),
        req["extra"]["version"].as_str(),
    ) else {
        return Err(fail(
            "invalid_payment_requirements",
            "extra.name and extra.version (the token's EIP-712 domain) are required".into(),
        ));
    };
    let domain = TokenDomain {
        name: name.into(),
        version: version.into(),
        chain_id: p.chain.chain_id(),
        token,
    };
    let checked = x402::verify_authorization(payload, &domain, amount, pay_to, now_ms() / 1000)
        .map_err(|(r, m)| fail(r, m))?;
    let from = checked.auth.from;
    let t = TestUSDC::new(token, p.chain.provider());
    let used = t
        .authorizationState(from, checked.auth.nonce)
        .call()
        .await
        .map_err(|e| {
            fail(
                "invalid_payment_requirements",
                format!("asset is not an EIP-3009 token: {e}"),
            )
        })?;
    if used {
        return Err((
            "nonce_already_used".into(),
            "the authorization's nonce was already used".into(),
            Some(from),
        ));
    }
    let balance = t
        .balanceOf(from)
        .call()
        .await
        .map_err(|e| fail("invalid_payment_requirements", e.to_string()))?;
    if balance < checked.value {
        return Err((
            "insufficient_funds".into(),
            "the payer's balance is below the amount".into(),
            Some(from),
        ));
    }
    Ok((checked, token))
}

fn body_or_400(body: Result<Json<Value>, JsonRejection>) -> Result<Value, ApiError> {
    body.map(|Json(v)| v).map_err(|e| ApiError::BadRequest {
        message: format!("the body must be JSON: {e}"),
        params: json!({}),
    })
}

/// `POST /facilitator/verify`.
#[utoipa::path(post, path = "/facilitator/verify", tag = "facilitator",
    request_body(content = Object, content_type = "application/json", description = "{paymentPayload, paymentRequirements}"),
    responses(
        (status = 200, description = "{isValid, invalidReason?, payer}", body = Object),
        (status = 400, description = "Bad Request: not JSON", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn verify(
    State(state): State<Arc<AppState>>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Verified>, ApiError> {
    let body = body_or_400(body)?;
    let p = payments(&state);
    Ok(Json(match check(p, &body).await {
        Ok((checked, _)) => Verified {
            is_valid: true,
            invalid_reason: None,
            invalid_message: None,
            payer: Some(checked.auth.from),
        },
        Err((reason, message, payer)) => Verified {
            is_valid: false,
            invalid_reason: Some(reason),
            invalid_message: Some(message),
            payer,
        },
    }))
}

/// `POST /facilitator/settle`.
#[utoipa::path(post, path = "/facilitator/settle", tag = "facilitator",
    request_body(content = Object, content_type = "application/json", description = "{paymentPayload, paymentRequirements}"),
    responses(
        (status = 200, description = "{success, errorReason?, transaction, network, payer}", body = Object),
        (status = 400, description = "Bad Request: not JSON", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn settle(
    State(state): State<Arc<AppState>>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Settled>, ApiError> {
    let body = body_or_400(body)?;
    let p = payments(&state);
    let network = format!("eip155:{}", p.chain.chain_id());
    let failed = |reason: String, message: String, payer: Option<Address>| Settled {
        success: false,
        error_reason: Some(reason),
        error_message: Some(message),
        payer,
        transaction: String::new(),
        network: network.clone(),
    };
    let (checked, token) = match check(p, &body).await {
        Ok(ok) => ok,
        Err((reason, message, payer)) => return Ok(Json(failed(reason, message, payer))),
    };
    Ok(Json(
        match p.settle_authorization_of(token, &checked).await? {
            Ok(payment) => Settled {
                success: true,
                error_reason: None,
                error_message: None,
                payer: Some(payment.payer),
                transaction: format!("{:#x}", payment.tx_hash),
                network: network.clone(),
            },
            Err(f) => failed(
                f.reason().to_string(),
                f.to_string(),
                Some(checked.auth.from),
            ),
        },
    ))
}
