//! Signatures of a delivery, two ways, so receivers written for either can check them.
//!
//! - `x-notary-signature: sha256=<hex>`: HMAC-SHA256 of the raw body keyed with the secret's
//!   UTF-8 bytes exactly as registered: source document 002's check
//!   (`createHmac('sha256', SECRET).update(body)`), under our name.
//! - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`):
//!   HMAC-SHA256 of `id.timestamp.body`. The key of a `whsec_` secret is its base64-decoded
//!   bytes, as that specification defines it (and its libraries do with `new Webhook(secret)`);
//!   any other secret is used as its raw bytes (`new Webhook(secret, {format: "raw"})`).
//!
//! Secrets are at least [`MIN_SECRET_BYTES`] bytes of key: an HMAC key anyone could guess would
//! let anyone forge deliveries.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Fewest key bytes a secret may have (Standard Webhooks: 24 to 64).
pub const MIN_SECRET_BYTES: usize = 24;
/// Most bytes a secret may have (a bound on what we store and hash, not a security limit).
pub const MAX_SECRET_BYTES: usize = 256;
/// The Standard Webhooks secret prefix.
pub const WHSEC: &str = "whsec_";

/// Why a secret is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Fewer than [`MIN_SECRET_BYTES`] bytes of key.
    #[error("secret must be at least {MIN_SECRET_BYTES} bytes (a whsec_ secret: {MIN_SECRET_BYTES} bytes once base64-decoded)")]
    TooShort,
    /// More than [`MAX_SECRET_BYTES`].
    #[error("secret must be at most {MAX_SECRET_BYTES} bytes")]
    TooLong,
    /// A `whsec_` secret whose rest is not base64.
    #[error("a whsec_ secret must be base64 after the prefix")]
    NotBase64,
}

/// Checks a secret as registered.
pub fn check_secret(secret: &str) -> Result<(), SecretError> {
    if secret.len() > MAX_SECRET_BYTES {
        return Err(SecretError::TooLong);
    }
    if secret.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort);
    }
    if let Some(encoded) = secret.strip_prefix(WHSEC) {
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if key.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort);
        }
    }
    Ok(())
}

/// The Standard Webhooks key of a secret: the decoded bytes of a `whsec_` secret, else the
/// secret's bytes.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(WHSEC)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn notary_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn standard_signature(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether `given` is `secret`, in time independent of where they differ (both are hashed
/// first, so the comparison's length leaks nothing either).
pub fn same_secret(given: &str, secret: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(secret.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks specification.
        let key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let sig = standard_signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn notary_signature_is_hex_hmac_of_the_body() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            notary_signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn secrets_are_checked() {
        assert_eq!(check_secret("short"), Err(SecretError::TooShort));
        assert!(check_secret(&"x".repeat(24)).is_ok());
        // 24 characters, but only 12 bytes of key once decoded.
        assert_eq!(
            check_secret("whsec_MfKQ9r8GKYqrTwjU"),
            Err(SecretError::TooShort)
        );
        assert_eq!(
            check_secret("whsec_not base64 at all!!!!!!!!!!"),
            Err(SecretError::NotBase64)
        );
        assert!(check_secret(&format!("whsec_{}", STANDARD.encode([7u8; 32]))).is_ok());
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
    }
}
