//! Actor-signed requests: how a worker (provider or verifier) proves that an HTTP request is
//! its own, in any language with a secp256k1 library (source document 000's second header
//! family).
//!
//! Three headers travel with the request:
//!
//! | header | value |
//! |---|---|
//! | `x-notary-actor` | the worker's address, `0x` + 40 hex |
//! | `x-notary-timestamp` | unix seconds, decimal |
//! | `x-notary-signature` | `0x` + the 65-byte EIP-191 `personal_sign` signature (r ‖ s ‖ v) |
//!
//! The signature is over the UTF-8 text (see [`signing_text`]):
//!
//! ```text
//! notary-actor:v1\n<METHOD>\n<path with query>\n<timestamp>\n<sha256 hex of the body>
//! ```
//!
//! `METHOD` is upper case, the path is exactly as sent (with the query string, if any, after
//! its `?`), the body hash is lowercase hex without `0x` (the hash of the empty string for a
//! request without a body). `personal_sign` hashes `"\x19Ethereum Signed Message:\n" + len +
//! text` with keccak256 (EIP-191, version `0x45`), so wallets and `eth_account`'s
//! `encode_defunct` sign the same digest.

use alloy_primitives::{eip191_hash_message, Address};

use crate::attestation::{recover_signer, WorkerKey};
use crate::digest::{sha256, Digest32};
use crate::error::{Error, Result};

/// Header naming the acting worker's address.
pub const ACTOR_HEADER: &str = "x-notary-actor";
/// Header carrying the signing time, unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-notary-timestamp";
/// Header carrying the EIP-191 signature.
pub const SIGNATURE_HEADER: &str = "x-notary-signature";
/// The first line of the signed text (the scheme's version).
pub const SCHEME: &str = "notary-actor:v1";

/// The text an actor signs for one request.
pub fn signing_text(method: &str, path_and_query: &str, timestamp: u64, body: &[u8]) -> String {
    format!(
        "{SCHEME}\n{}\n{path_and_query}\n{timestamp}\n{}",
        method.to_ascii_uppercase(),
        sha256(body).to_hex()
    )
}

/// The digest that is signed: EIP-191 `personal_sign` of [`signing_text`].
pub fn signing_hash(method: &str, path_and_query: &str, timestamp: u64, body: &[u8]) -> Digest32 {
    Digest32(eip191_hash_message(signing_text(method, path_and_query, timestamp, body)).0)
}

/// The three header values of a signed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorHeaders {
    /// `x-notary-actor`: `0x` + 40 lowercase hex.
    pub actor: String,
    /// `x-notary-timestamp`.
    pub timestamp: String,
    /// `x-notary-signature`.
    pub signature: String,
}

impl ActorHeaders {
    /// The headers as (name, value) pairs.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (ACTOR_HEADER, &self.actor),
            (TIMESTAMP_HEADER, &self.timestamp),
            (SIGNATURE_HEADER, &self.signature),
        ]
    }
}

/// Signs a request as `key`'s address at `timestamp` (unix seconds).
pub fn sign_request(
    key: &WorkerKey,
    method: &str,
    path_and_query: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<ActorHeaders> {
    let signature = key.sign_hash(&signing_hash(method, path_and_query, timestamp, body))?;
    Ok(ActorHeaders {
        actor: format!("{:#x}", key.address()),
        timestamp: timestamp.to_string(),
        signature,
    })
}

/// Checks that `signature` over this request recovers to `actor`; returns the actor.
pub fn verify_request(
    actor: Address,
    signature: &str,
    method: &str,
    path_and_query: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<Address> {
    let signer = recover_signer(
        &signing_hash(method, path_and_query, timestamp, body),
        signature,
    )?;
    if signer != actor {
        return Err(Error::Signature(format!(
            "signed by {signer:#x}, not by the actor {actor:#x}"
        )));
    }
    Ok(actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed key, so the worked example of the protocol page can be recomputed.
    const KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

    #[test]
    fn text_has_the_documented_shape() {
        let text = signing_text("post", "/jobs/x/attest?a=1", 1_700_000_000, b"{}");
        assert_eq!(
            text,
            "notary-actor:v1\nPOST\n/jobs/x/attest?a=1\n1700000000\n\
             44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn signed_request_verifies_and_nothing_else_does() {
        let key = WorkerKey::from_hex(KEY).unwrap();
        let h = sign_request(
            &key,
            "GET",
            "/assignments?waitSeconds=5",
            1_700_000_000,
            b"",
        )
        .unwrap();
        let actor: Address = h.actor.parse().unwrap();
        assert_eq!(actor, key.address());
        let ok =
            |m: &str, p: &str, t: u64, b: &[u8]| verify_request(actor, &h.signature, m, p, t, b);
        ok("GET", "/assignments?waitSeconds=5", 1_700_000_000, b"").unwrap();
        ok("get", "/assignments?waitSeconds=5", 1_700_000_000, b"").unwrap();
        assert!(ok("POST", "/assignments?waitSeconds=5", 1_700_000_000, b"").is_err());
        assert!(ok("GET", "/assignments?waitSeconds=6", 1_700_000_000, b"").is_err());
        assert!(ok("GET", "/assignments?waitSeconds=5", 1_700_000_001, b"").is_err());
        assert!(ok("GET", "/assignments?waitSeconds=5", 1_700_000_000, b"x").is_err());
        let other = WorkerKey::generate().address();
        assert!(verify_request(
            other,
            &h.signature,
            "GET",
            "/assignments?waitSeconds=5",
            1_700_000_000,
            b""
        )
        .is_err());
    }

    /// The worked example of `docs/worker-protocol.md`: a reader with any secp256k1 library
    /// (e.g. Python's `eth_account`: `Account.sign_message(encode_defunct(text=…), KEY)`)
    /// gets these exact values (RFC 6979 nonces make the signature deterministic).
    #[test]
    fn worked_example_of_the_protocol_page() {
        let key = WorkerKey::from_hex(KEY).unwrap();
        let body = br#"{"configHash":"0x1111111111111111111111111111111111111111111111111111111111111111","engine":"cranelift"}"#;
        let (path, at) = ("/providers/register", 1_765_050_000);
        assert_eq!(
            signing_text("POST", path, at, body),
            "notary-actor:v1\nPOST\n/providers/register\n1765050000\n\
             838a19496af9d634f9f4ad6894cbfdd9cad65dca2e00f5d8b491fa9458b05a06"
        );
        assert_eq!(
            signing_hash("POST", path, at, body).to_hex(),
            "376794c84ec91a84589ceff2faf4e19c2630a2a037d62fac1304f46d76f0b996"
        );
        let h = sign_request(&key, "POST", path, at, body).unwrap();
        assert_eq!(h.actor, "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23");
        assert_eq!(
            h.signature,
            "0x782810782d95a679edd6be3f2fa9312af5d796358ee6a827112fad48482664ff\
             7fd1e0fc1640c11eddf306005d976919b6355f03361ee7c2584588107226955d1b"
        );
    }

    /// The digest is EIP-191's: the prefix, the decimal length, the text.
    #[test]
    fn digest_is_personal_sign() {
        let text = signing_text("GET", "/", 1, b"");
        let mut prefixed = format!("\x19Ethereum Signed Message:\n{}", text.len()).into_bytes();
        prefixed.extend_from_slice(text.as_bytes());
        assert_eq!(
            signing_hash("GET", "/", 1, b"").0,
            alloy_primitives::keccak256(&prefixed).0
        );
    }
}
