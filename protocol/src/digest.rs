//! 32-byte digests and their one text form.
//!
//! Hashes are written as 64 lowercase hex characters without a `0x` prefix in the HTTP API (as
//! source document 002 shows `expectedHash`), and parsing accepts either case and an optional
//! `0x`, because users paste hashes from many tools.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// A 32-byte digest (sha256 of code, input or output; or an EIP-712 value).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest32(pub [u8; 32]);

/// sha256 of `data`.
pub fn sha256(data: &[u8]) -> Digest32 {
    Digest32(Sha256::digest(data).into())
}

impl Digest32 {
    /// The all-zero digest, used where a value is absent (e.g. the output of a failed run).
    pub const ZERO: Digest32 = Digest32([0; 32]);

    /// Parses 64 hex characters, either case, with or without `0x`.
    pub fn from_hex(text: &str) -> Result<Self> {
        let t = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        if t.len() != 64 {
            return Err(Error::Hex(format!(
                "expected 64 hex characters, got {}",
                t.len()
            )));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(t, &mut out).map_err(|e| Error::Hex(e.to_string()))?;
        Ok(Digest32(out))
    }

    /// Lowercase hex without prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest32({})", self.to_hex())
    }
}

impl Serialize for Digest32 {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest32::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_accepts_prefix_and_case() {
        let d = sha256(b"hello world\n");
        assert_eq!(
            d.to_hex(),
            "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
        );
        assert_eq!(
            Digest32::from_hex(&format!("0x{}", d.to_hex().to_uppercase())).unwrap(),
            d
        );
        assert!(Digest32::from_hex("abc").is_err());
        assert!(Digest32::from_hex(&"zz".repeat(32)).is_err());
    }
}
