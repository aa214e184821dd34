//! EIP-712 attestations: what a worker signs about a job's result.
//!
//! The typed data is
//!
//! ```text
//! Attestation(bytes32 jobId,bytes32 codeHash,bytes32 inputHash,bytes32 outputHash,
//!             bytes32 expectedHash,uint64 fuelUsed,uint8 result,bytes32 runtimeId)
//! ```
//!
//! in the domain `{name: "Notary", version: "1", chainId, verifyingContract}`. The signature is
//! the 65-byte Ethereum form `r || s || v` with `v` in {27, 28} and a low `s`, so the registry
//! contract can check it with `ecrecover` and anyone can check it off chain with any EIP-712
//! library. `jobId` is the job's UUID in the first 16 bytes, zero-padded (Solidity's
//! `bytes32(bytes16(uuid))`). `expectedHash` is signed too: the verdict means nothing without
//! the hash it was compared with.

use std::fmt;

use alloy_primitives::{keccak256, Address, B256};
use alloy_sol_types::{Eip712Domain, SolStruct};
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::digest::Digest32;
use crate::{Error, Result};

/// The registry contract's ABI as far as attestations go: the EIP-712 struct and the read
/// functions anyone uses to check a record (`notary-worker reverify --registry`).
pub mod sol {
    alloy_sol_types::sol! {
        /// The EIP-712 struct, exactly as the registry contract declares it.
        struct Attestation {
            bytes32 jobId;
            bytes32 codeHash;
            bytes32 inputHash;
            bytes32 outputHash;
            bytes32 expectedHash;
            uint64 fuelUsed;
            uint8 result;
            bytes32 runtimeId;
        }

        /// The record id of a job (zero when it has none).
        function recordOfJob(bytes32 jobId) external view returns (bytes32);

        /// A record by id.
        function getRecord(bytes32 recordId) external view returns (
            Attestation attestation, address[] signers, uint64 recordedAt, bool revoked);
    }
}

/// The outcome a worker attests to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// The output's sha256 equals the expected hash.
    Valid,
    /// The program ran to completion but its output hash differs.
    Invalid,
    /// A guest fault: trap, out of fuel, non-zero exit, output over the limit.
    Error,
    /// The wall-clock limit ended the run (infrastructure-class, refundable).
    Timeout,
    /// The worker could not run the job at all (sandbox start failure): not a result, but a
    /// signed report of an infrastructure failure.
    Failed,
}

impl Verdict {
    /// The `uint8` code in the typed data.
    pub fn code(self) -> u8 {
        match self {
            Verdict::Valid => 1,
            Verdict::Invalid => 2,
            Verdict::Error => 3,
            Verdict::Timeout => 4,
            Verdict::Failed => 255,
        }
    }

    /// Inverse of [`Verdict::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Verdict::Valid,
            2 => Verdict::Invalid,
            3 => Verdict::Error,
            4 => Verdict::Timeout,
            255 => Verdict::Failed,
            _ => return None,
        })
    }

    /// The API's `result` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "VALID",
            Verdict::Invalid => "INVALID",
            Verdict::Error => "ERROR",
            Verdict::Timeout => "TIMEOUT",
            Verdict::Failed => "FAILED",
        }
    }
}

/// The signing domain. Coordinators put it in every job so that workers need no chain
/// configuration of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestationDomain {
    /// EIP-155 chain id (84532 is Base Sepolia).
    pub chain_id: u64,
    /// The registry contract (zero address when results are not written on chain).
    pub verifying_contract: Address,
}

impl Default for AttestationDomain {
    fn default() -> Self {
        AttestationDomain {
            chain_id: 84532,
            verifying_contract: Address::ZERO,
        }
    }
}

impl AttestationDomain {
    /// The alloy EIP-712 domain.
    pub fn eip712(&self) -> Eip712Domain {
        alloy_sol_types::eip712_domain! {
            name: "Notary",
            version: "1",
            chain_id: self.chain_id,
            verifying_contract: self.verifying_contract,
        }
    }
}

/// The signed fields of an attestation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attestation {
    /// The job's id.
    pub job_id: Uuid,
    /// sha256 of the program.
    pub code_hash: Digest32,
    /// sha256 of the canonical input.
    pub input_hash: Digest32,
    /// sha256 of stdout (zero when the guest produced no verdict-bearing output).
    pub output_hash: Digest32,
    /// The hash the client expected.
    pub expected_hash: Digest32,
    /// Fuel the run consumed.
    pub fuel_used: u64,
    /// The verdict.
    pub result: Verdict,
    /// Identifies the exact runtime: wasmtime version, engine configuration, JS runtime.
    pub runtime_id: Digest32,
}

impl Attestation {
    /// `jobId` as the typed data carries it.
    pub fn job_id_word(&self) -> B256 {
        let mut word = [0u8; 32];
        word[..16].copy_from_slice(self.job_id.as_bytes());
        B256::from(word)
    }

    fn sol(&self) -> sol::Attestation {
        sol::Attestation {
            jobId: self.job_id_word(),
            codeHash: B256::from(self.code_hash.0),
            inputHash: B256::from(self.input_hash.0),
            outputHash: B256::from(self.output_hash.0),
            expectedHash: B256::from(self.expected_hash.0),
            fuelUsed: self.fuel_used,
            result: self.result.code(),
            runtimeId: B256::from(self.runtime_id.0),
        }
    }

    /// The EIP-712 struct hash.
    pub fn struct_hash(&self) -> Digest32 {
        Digest32(self.sol().eip712_hash_struct().0)
    }

    /// The digest that is signed: `keccak256(0x1901 || domainSeparator || structHash)`.
    pub fn signing_hash(&self, domain: &AttestationDomain) -> Digest32 {
        Digest32(self.sol().eip712_signing_hash(&domain.eip712()).0)
    }

    /// The EIP-712 type string (what the contract must declare).
    pub fn type_string() -> String {
        sol::Attestation::eip712_encode_type().into_owned()
    }

    /// The full `eth_signTypedData_v4` document (types, primary type, domain, message), so a
    /// client can check the signature with any EIP-712 library (e.g. ethers'
    /// `verifyTypedData(domain, types, message, signature)`).
    pub fn typed_data(&self, domain: &AttestationDomain) -> serde_json::Value {
        let word = |d: &Digest32| format!("0x{}", d.to_hex());
        serde_json::json!({
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Attestation": [
                    {"name": "jobId", "type": "bytes32"},
                    {"name": "codeHash", "type": "bytes32"},
                    {"name": "inputHash", "type": "bytes32"},
                    {"name": "outputHash", "type": "bytes32"},
                    {"name": "expectedHash", "type": "bytes32"},
                    {"name": "fuelUsed", "type": "uint64"},
                    {"name": "result", "type": "uint8"},
                    {"name": "runtimeId", "type": "bytes32"},
                ],
            },
            "primaryType": "Attestation",
            "domain": {
                "name": "Notary",
                "version": "1",
                "chainId": domain.chain_id,
                "verifyingContract": domain.verifying_contract.to_checksum(None),
            },
            "message": {
                "jobId": format!("{}", self.job_id_word()),
                "codeHash": word(&self.code_hash),
                "inputHash": word(&self.input_hash),
                "outputHash": word(&self.output_hash),
                "expectedHash": word(&self.expected_hash),
                "fuelUsed": self.fuel_used.to_string(),
                "result": self.result.code(),
                "runtimeId": word(&self.runtime_id),
            },
        })
    }
}

/// An attestation with its signature and the address that claims to have signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedAttestation {
    /// The signed fields.
    pub fields: Attestation,
    /// The worker's address (checked against the recovered signer).
    pub worker: Address,
    /// `0x`-prefixed 65-byte signature `r || s || v`.
    pub signature: String,
}

impl SignedAttestation {
    /// Recovers the signer and checks it is `worker`; returns the address.
    pub fn verify(&self, domain: &AttestationDomain) -> Result<Address> {
        let hash = self.fields.signing_hash(domain);
        let signer = match crate::own_signatures::take(&hash, &self.signature) {
            Some(signer) => signer,
            None => recover_signer(&hash, &self.signature)?,
        };
        if signer != self.worker {
            return Err(Error::Signature(format!(
                "signed by {signer}, but the report claims worker {}",
                self.worker
            )));
        }
        Ok(signer)
    }
}

/// A worker's secp256k1 identity.
#[derive(Clone)]
pub struct WorkerKey {
    /// The secret, in libsecp256k1's form (it signs: see [`WorkerKey::sign_hash`]).
    secret: secp256k1::SecretKey,
    address: Address,
}

impl Drop for WorkerKey {
    fn drop(&mut self) {
        // libsecp256k1's key does not clear itself (k256's `SigningKey` would).
        self.secret.non_secure_erase();
    }
}

impl fmt::Debug for WorkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("WorkerKey")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl WorkerKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::random(
            &mut k256::elliptic_curve::rand_core::OsRng,
        ))
    }

    /// From 32 secret bytes in hex (with or without `0x`, surrounding whitespace ignored), the
    /// format of key files and of Ethereum tooling.
    pub fn from_hex(text: &str) -> Result<Self> {
        let t = text.trim();
        let t = t.strip_prefix("0x").unwrap_or(t);
        let bytes = hex::decode(t).map_err(|e| Error::Key(e.to_string()))?;
        let key = SigningKey::from_slice(&bytes).map_err(|e| Error::Key(e.to_string()))?;
        Ok(Self::from_signing_key(key))
    }

    /// Keeps `key`'s secret for libsecp256k1 and its address; `key` itself (zeroized when
    /// dropped) is not kept.
    fn from_signing_key(key: SigningKey) -> Self {
        let address = address_of(key.verifying_key());
        let secret = secp256k1::SecretKey::from_byte_array(key.to_bytes().into())
            .expect("a k256 signing key is a valid secp256k1 secret");
        WorkerKey { secret, address }
    }

    /// The secret as `0x` hex, for writing a key file.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.secret.secret_bytes()))
    }

    /// The Ethereum address of this key.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs a prehashed digest, giving the 65-byte Ethereum signature as `0x` hex.
    ///
    /// Through libsecp256k1 (RFC 6979 nonces and low `s`, as `k256` with EIP-2 normalisation:
    /// the same signature, tested): every job's attestation is signed, and `k256`'s signing was
    /// about 6 % of a saturated fleet's CPU (issue 23; `examples/recovery_cost.rs` measures
    /// both).
    pub fn sign_hash(&self, hash: &Digest32) -> Result<String> {
        static SIGNER: std::sync::LazyLock<secp256k1::Secp256k1<secp256k1::SignOnly>> =
            std::sync::LazyLock::new(secp256k1::Secp256k1::signing_only);
        let message = secp256k1::Message::from_digest(hash.0);
        let (id, compact) = SIGNER
            .sign_ecdsa_recoverable(message, &self.secret)
            .serialize_compact();
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&compact);
        out[64] = 27 + u8::from(i32::from(id) == 1);
        Ok(format!("0x{}", hex::encode(out)))
    }

    /// [`WorkerKey::sign_hash`] through `k256` (the card's crate): what it replaced, kept to
    /// check that both give the same signature and to measure them side by side.
    pub fn sign_hash_k256(&self, hash: &Digest32) -> Result<String> {
        let key = SigningKey::from_bytes(&self.secret.secret_bytes().into())
            .map_err(|e| Error::Key(e.to_string()))?;
        let (sig, recid) = key
            .sign_prehash_recoverable(hash.as_bytes())
            .map_err(|e| Error::Signature(e.to_string()))?;
        // Normalise to low-s (EIP-2); flipping s flips the recovery parity.
        let (sig, recid) = match sig.normalize_s() {
            Some(low) => (
                low,
                RecoveryId::new(!recid.is_y_odd(), recid.is_x_reduced()),
            ),
            None => (sig, recid),
        };
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + u8::from(recid.is_y_odd());
        Ok(format!("0x{}", hex::encode(out)))
    }

    /// Signs an attestation in a domain.
    pub fn sign(
        &self,
        fields: Attestation,
        domain: &AttestationDomain,
    ) -> Result<SignedAttestation> {
        let hash = fields.signing_hash(domain);
        let signature = self.sign_hash(&hash)?;
        crate::own_signatures::record(&hash, &signature, self.address);
        Ok(SignedAttestation {
            fields,
            worker: self.address,
            signature,
        })
    }
}

/// Recovers the address that produced `signature` (65-byte hex, `v` 27/28 or 0/1) over `hash`.
pub fn recover_signer(hash: &Digest32, signature: &str) -> Result<Address> {
    let t = signature.strip_prefix("0x").unwrap_or(signature);
    let bytes = hex::decode(t).map_err(|e| Error::Signature(e.to_string()))?;
    if bytes.len() != 65 {
        return Err(Error::Signature(format!(
            "expected 65 bytes, got {}",
            bytes.len()
        )));
    }
    let v = match bytes[64] {
        27 | 28 => bytes[64] - 27,
        0 | 1 => bytes[64],
        other => return Err(Error::Signature(format!("bad recovery byte {other}"))),
    };
    let sig = Signature::from_slice(&bytes[..64]).map_err(|e| Error::Signature(e.to_string()))?;
    if sig.normalize_s().is_some() {
        return Err(Error::Signature(
            "high s value (not EIP-2 canonical)".into(),
        ));
    }
    let recid =
        RecoveryId::from_byte(v).ok_or_else(|| Error::Signature("bad recovery id".into()))?;
    let key = recover_key(hash, &sig, recid)
        .ok_or_else(|| Error::Signature("the signature recovers to no key".into()))?;
    Ok(address_of_uncompressed(&key))
}

/// The public key `signature` over `prehash` recovers to, through libsecp256k1 (the
/// `secp256k1` crate): the fleet coordinator recovers every worker's signature, and `k256`'s
/// constant-time recovery was the largest single entry of a saturated fleet's profile (issue
/// 23), first with the `ecdsa` crate's closing re-verification (cannot fail for a key
/// recovered that way), then, without it, still about 9 % of the machine. Nothing secret is
/// involved, so libsecp256k1's variable-time arithmetic and precomputed tables are sound here.
/// The caller has refused a high `s` and accepts only recovery ids 0 and 1 (an `R` whose x is
/// `r` itself), as `k256` does. Answers the key's uncompressed SEC1 encoding (`04 || x || y`),
/// which is what the address hashes: no round trip through a `k256` key.
fn recover_key(prehash: &Digest32, sig: &Signature, recid: RecoveryId) -> Option<[u8; 65]> {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId as Id};
    static VERIFIER: std::sync::LazyLock<secp256k1::Secp256k1<secp256k1::VerifyOnly>> =
        std::sync::LazyLock::new(secp256k1::Secp256k1::verification_only);
    if recid.is_x_reduced() {
        return None;
    }
    let id = Id::try_from(i32::from(recid.is_y_odd())).ok()?;
    let sig = RecoverableSignature::from_compact(&sig.to_bytes(), id).ok()?;
    let message = secp256k1::Message::from_digest(prehash.0);
    let key = VERIFIER.recover_ecdsa(message, &sig).ok()?;
    Some(key.serialize_uncompressed())
}

fn address_of(key: &VerifyingKey) -> Address {
    address_of_uncompressed(key.to_encoded_point(false).as_bytes())
}

/// The Ethereum address of a key in uncompressed SEC1 form: the last 20 bytes of the keccak256
/// of `x || y` (the leading `04` left out).
fn address_of_uncompressed(point: &[u8]) -> Address {
    let hash = keccak256(&point[1..]);
    Address::from_slice(&hash[12..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recovery through libsecp256k1 finds exactly the key (or the error) the `ecdsa`
    /// crate's full recovery finds: for real signatures of random keys and hashes, and
    /// for random bytes posing as signatures.
    #[test]
    fn recovery_agrees_with_the_full_ecdsa_recovery() {
        use k256::elliptic_curve::rand_core::{OsRng, RngCore};
        let mut rng = OsRng;
        for round in 0..300 {
            let mut hash = [0u8; 32];
            rng.fill_bytes(&mut hash);
            let hash = Digest32(hash);
            let (sig, recid) = if round % 3 == 2 {
                let mut bytes = [0u8; 64];
                rng.fill_bytes(&mut bytes);
                match Signature::from_slice(&bytes) {
                    // The caller refuses a high s first (k256 verifies low-s signatures only).
                    Ok(sig) if sig.normalize_s().is_none() => {
                        (sig, RecoveryId::from_byte((round % 2) as u8).unwrap())
                    }
                    _ => continue,
                }
            } else {
                let key = SigningKey::random(&mut rng);
                key.sign_prehash_recoverable(hash.as_bytes()).unwrap()
            };
            let full = VerifyingKey::recover_from_prehash(hash.as_bytes(), &sig, recid)
                .ok()
                .map(|key| key.to_encoded_point(false).as_bytes().to_vec());
            let ours = recover_key(&hash, &sig, recid).map(|point| point.to_vec());
            assert_eq!(ours, full, "round {round}");
            if round % 3 != 2 {
                assert!(full.is_some());
            }
        }
    }

    /// libsecp256k1's signature is `k256`'s (RFC 6979, low `s`), byte for byte, and recovers
    /// to the key's address.
    #[test]
    fn signing_agrees_with_k256() {
        use k256::elliptic_curve::rand_core::{OsRng, RngCore};
        for _ in 0..200 {
            let key = WorkerKey::generate();
            let mut hash = [0u8; 32];
            OsRng.fill_bytes(&mut hash);
            let hash = Digest32(hash);
            let ours = key.sign_hash(&hash).unwrap();
            assert_eq!(ours, key.sign_hash_k256(&hash).unwrap());
            assert_eq!(recover_signer(&hash, &ours).unwrap(), key.address());
            // A key file holds the same key.
            let again = WorkerKey::from_hex(&key.to_hex()).unwrap();
            assert_eq!(again.address(), key.address());
            assert_eq!(again.sign_hash(&hash).unwrap(), ours);
        }
    }

    #[test]
    fn verdict_codes_round_trip() {
        for v in [
            Verdict::Valid,
            Verdict::Invalid,
            Verdict::Error,
            Verdict::Timeout,
            Verdict::Failed,
        ] {
            assert_eq!(Verdict::from_code(v.code()), Some(v));
        }
        assert_eq!(Verdict::from_code(0), None);
        assert_eq!(
            serde_json::to_string(&Verdict::Timeout).unwrap(),
            "\"TIMEOUT\""
        );
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let k = WorkerKey::generate();
        let hex = k.to_hex();
        assert!(!format!("{k:?}").contains(&hex[2..]));
    }
}
