//! x402 v2, scheme `exact` with EIP-3009 (source document 000's headers).
//!
//! The 402 carries `PAYMENT-REQUIRED`: base64 (standard alphabet) of `{x402Version: 2,
//! resource, accepts: [{scheme: "exact", network: "eip155:<chainId>", amount, asset: token,
//! payTo, maxTimeoutSeconds, extra: {name, version}}]}`, where `extra` is the token's EIP-712
//! domain. A client answers with `PAYMENT-SIGNATURE`: base64 of `{x402Version, payload:
//! {authorization: {from, to, value, validAfter, validBefore, nonce}, signature}, accepted}`.
//! The coordinator checks it offline ([`verify_authorization`]: signature, amount, recipient,
//! validity window, unused nonce), then settles it on chain itself by calling the token's
//! `transferWithAuthorization`, and answers with `PAYMENT-RESPONSE` (base64 of `{success,
//! transaction, network, payer}`).

use alloy::primitives::{Address, Bytes, FixedBytes, B256, U256};
use alloy::sol_types::{eip712_domain, SolStruct};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How long a signed authorization may stay valid past now.
pub const MAX_TIMEOUT_SECONDS: u64 = 300;

alloy::sol! {
    /// EIP-3009's signed struct.
    struct TransferWithAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }
}

/// The EIP-712 domain x402 clients sign in (the token's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenDomain {
    /// `name()` of the token (USDC: "USDC" on Base Sepolia).
    pub name: String,
    /// EIP-712 version (USDC: "2").
    pub version: String,
    /// Chain id.
    pub chain_id: u64,
    /// The token.
    pub token: Address,
}

/// The v2 requirements offered in `PAYMENT-REQUIRED`.
pub fn requirements(d: &TokenDomain, amount: U256, pay_to: Address) -> Value {
    json!({
        "scheme": "exact",
        "network": format!("eip155:{}", d.chain_id),
        "amount": amount.to_string(),
        "asset": d.token.to_checksum(None),
        "payTo": pay_to.to_checksum(None),
        "maxTimeoutSeconds": MAX_TIMEOUT_SECONDS,
        "extra": {"name": d.name, "version": d.version},
    })
}

/// The `PAYMENT-REQUIRED` header value.
pub fn payment_required_header(accepts: &Value, resource: &str, error: Option<&str>) -> String {
    let mut body = json!({
        "x402Version": 2,
        "resource": {"url": resource, "description": "Notary verification", "mimeType": "application/json"},
        "accepts": [accepts],
    });
    if let Some(e) = error {
        body["error"] = json!(e);
    }
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

/// The `PAYMENT-RESPONSE` header value.
pub fn payment_response_header(tx: B256, chain_id: u64, payer: Address) -> String {
    let body = json!({
        "success": true,
        "transaction": tx,
        "network": format!("eip155:{chain_id}"),
        "payer": payer.to_checksum(None),
    });
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

/// An EIP-3009 authorization as x402 sends it (numbers as decimal strings).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// The payer.
    pub from: Address,
    /// The recipient (`payTo`).
    pub to: Address,
    /// Token units.
    pub value: String,
    /// Unix seconds; valid strictly after.
    pub valid_after: String,
    /// Unix seconds; valid strictly before.
    pub valid_before: String,
    /// 32 random bytes.
    pub nonce: B256,
}

/// A decoded, checked authorization, ready to settle.
#[derive(Clone, Debug)]
pub struct CheckedAuthorization {
    /// The fields.
    pub auth: Authorization,
    /// 65-byte signature.
    pub signature: Bytes,
    /// Value as a number.
    pub value: U256,
    /// validAfter.
    pub valid_after: U256,
    /// validBefore.
    pub valid_before: U256,
}

/// Decodes `PAYMENT-SIGNATURE` (base64 JSON; base64url tolerated).
pub fn decode_header(text: &str) -> Result<Value, String> {
    let t = text.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))
        })
        .map_err(|_| "PAYMENT-SIGNATURE is not base64".to_string())?;
    serde_json::from_slice(&bytes)
        .map_err(|_| "PAYMENT-SIGNATURE is not base64 of JSON".to_string())
}

/// Checks an authorization offline: the scheme and network, the recipient, the amount, the
/// validity window against `now` (unix s), and that the signature recovers to `from` in the
/// token's domain. (The nonce's freshness is checked by the caller, in the payment ledger and on chain.)
pub fn verify_authorization(
    payload: &Value,
    d: &TokenDomain,
    amount: U256,
    pay_to: Address,
    now: u64,
) -> Result<CheckedAuthorization, (&'static str, String)> {
    if payload["x402Version"].as_u64() != Some(2) {
        return Err(("unsupported_version", "x402Version must be 2".into()));
    }
    let accepted = &payload["accepted"];
    if !accepted.is_null() {
        if accepted["scheme"] != "exact" {
            return Err((
                "unsupported_scheme",
                "only the exact scheme is accepted".into(),
            ));
        }
        if accepted["network"] != json!(format!("eip155:{}", d.chain_id)) {
            return Err((
                "wrong_network",
                format!("network must be eip155:{}", d.chain_id),
            ));
        }
        let asset = accepted["asset"]
            .as_str()
            .and_then(|a| a.parse::<Address>().ok());
        if asset != Some(d.token) {
            return Err(("wrong_asset", format!("asset must be {}", d.token)));
        }
    }
    let auth: Authorization = serde_json::from_value(payload["payload"]["authorization"].clone())
        .map_err(|e| ("malformed", format!("payload.authorization: {e}")))?;
    let signature: Bytes = payload["payload"]["signature"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .filter(|b: &Bytes| b.len() == 65)
        .ok_or((
            "malformed",
            "payload.signature must be 65 bytes of hex".to_string(),
        ))?;
    let num = |s: &str, field: &str| {
        s.parse::<U256>().map_err(|_| {
            (
                "malformed",
                format!("authorization.{field} is not a decimal integer"),
            )
        })
    };
    let value = num(&auth.value, "value")?;
    let valid_after = num(&auth.valid_after, "validAfter")?;
    let valid_before = num(&auth.valid_before, "validBefore")?;
    if auth.to != pay_to {
        return Err((
            "wrong_recipient",
            format!("the authorization pays {}, not {pay_to}", auth.to),
        ));
    }
    if value < amount {
        return Err((
            "wrong_amount",
            format!("the authorization pays {value}; the price is {amount}"),
        ));
    }
    let now_u = U256::from(now);
    if valid_after >= now_u {
        return Err(("not_yet_valid", "the authorization is not valid yet".into()));
    }
    // Settlement takes a few seconds: an authorization about to expire would fail on chain.
    if valid_before <= now_u + U256::from(6) {
        return Err(("expired", "the authorization has expired".into()));
    }
    let msg = TransferWithAuthorization {
        from: auth.from,
        to: auth.to,
        value,
        validAfter: valid_after,
        validBefore: valid_before,
        nonce: auth.nonce,
    };
    let domain = eip712_domain! {
        name: d.name.clone(),
        version: d.version.clone(),
        chain_id: d.chain_id,
        verifying_contract: d.token,
    };
    let digest = msg.eip712_signing_hash(&domain);
    let signer = notary_protocol::recover_signer(
        &notary_protocol::Digest32(digest.0),
        &format!("0x{}", alloy::hex::encode(&signature)),
    )
    .map_err(|e| {
        (
            "invalid_signature",
            format!("the signature does not verify: {e}"),
        )
    })?;
    if signer != auth.from {
        return Err((
            "invalid_signature",
            format!("signed by {signer}, not by the payer {}", auth.from),
        ));
    }
    Ok(CheckedAuthorization {
        auth,
        signature,
        value,
        valid_after,
        valid_before,
    })
}

/// Splits a 65-byte signature into `(v, r, s)`.
pub fn split_signature(sig: &Bytes) -> (u8, FixedBytes<32>, FixedBytes<32>) {
    let v = if sig[64] < 27 { sig[64] + 27 } else { sig[64] };
    (
        v,
        FixedBytes::from_slice(&sig[..32]),
        FixedBytes::from_slice(&sig[32..64]),
    )
}
