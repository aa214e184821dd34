//! Golden vectors and property tests for the wire encodings that signatures cover.

use notary_protocol::canonical::to_canonical_string;
use notary_protocol::{
    recover_signer, sha256, Address, Attestation, AttestationDomain, Digest32, Verdict, WorkerKey,
};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// Hardhat's first dev account: a public test key, never used for anything real.
const TEST_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn golden_attestation() -> Attestation {
    Attestation {
        job_id: Uuid::parse_str("550e8400-e29b-41d4-a716-446655440000").unwrap(),
        code_hash: sha256(b"console.log(\"hello world\")"),
        input_hash: sha256(b""),
        output_hash: Digest32::from_hex(
            "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
        )
        .unwrap(),
        expected_hash: Digest32::from_hex(
            "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
        )
        .unwrap(),
        fuel_used: 1_629_013,
        result: Verdict::Valid,
        runtime_id: sha256(b"runtime"),
    }
}

fn golden_domain() -> AttestationDomain {
    AttestationDomain {
        chain_id: 84532,
        verifying_contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            .parse()
            .unwrap(),
    }
}

#[test]
fn test_key_has_the_well_known_address() {
    let key = WorkerKey::from_hex(TEST_KEY).unwrap();
    assert_eq!(
        key.address(),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse::<Address>()
            .unwrap()
    );
}

#[test]
fn type_string_is_what_the_contract_declares() {
    assert_eq!(
        Attestation::type_string(),
        "Attestation(bytes32 jobId,bytes32 codeHash,bytes32 inputHash,bytes32 outputHash,bytes32 expectedHash,uint64 fuelUsed,uint8 result,bytes32 runtimeId)"
    );
}

/// Pins the whole signature scheme. The signing hash was checked independently with ethers.js
/// (`TypedDataEncoder.hash`), the signature with `ethers.verifyTypedData`. If this test fails,
/// every attestation already on chain stops verifying: do not "fix" the constants.
#[test]
fn golden_signature_vector() {
    let key = WorkerKey::from_hex(TEST_KEY).unwrap();
    let fields = golden_attestation();
    let domain = golden_domain();
    let hash = fields.signing_hash(&domain);
    assert_eq!(hash.to_hex(), GOLDEN_SIGNING_HASH);
    let signed = key.sign(fields, &domain).unwrap();
    assert_eq!(signed.signature, GOLDEN_SIGNATURE);
    assert_eq!(signed.verify(&domain).unwrap(), key.address());
}

const GOLDEN_SIGNING_HASH: &str =
    "f8cd1017f0a257e6ad3912b8556d31a63d27254b3cee3167deb33f86ede93de4";
const GOLDEN_SIGNATURE: &str = "0x18f5ab0115c8a50724f4abfeba97a775d29680c441d8211550d96b0e33e8eae972a6c20e3e0943d4823859f393c0d13c4683b2c97a6f2fa1e2568d37a31400581c";

#[test]
fn tampering_with_any_field_changes_the_signer() {
    let key = WorkerKey::generate();
    let domain = golden_domain();
    let signed = key.sign(golden_attestation(), &domain).unwrap();
    let mut tampered = signed.clone();
    tampered.fields.fuel_used += 1;
    assert!(tampered.verify(&domain).is_err());
    let mut other_domain = domain;
    other_domain.chain_id = 1;
    assert!(signed.verify(&other_domain).is_err());
}

#[test]
fn high_s_and_malformed_signatures_are_refused() {
    let hash = sha256(b"x");
    assert!(recover_signer(&hash, "0x1234").is_err());
    assert!(recover_signer(&hash, &format!("0x{}", "00".repeat(65))).is_err());
    // s = n - 1 (high)
    let high_s = format!(
        "0x{}{}1b",
        "11".repeat(32),
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"
    );
    assert!(recover_signer(&hash, &high_s).is_err());
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Canonical JSON is a fixed point: parsing it back and canonicalizing again gives the same
    /// bytes, so the input hash a client computes from our documented form is stable.
    #[test]
    fn canonical_json_is_idempotent(v in arb_json()) {
        let once = to_canonical_string(&v).unwrap();
        let reparsed: Value = serde_json::from_str(&once).unwrap();
        prop_assert_eq!(to_canonical_string(&reparsed).unwrap(), once);
    }

    /// Whitespace and member order never change the canonical form.
    #[test]
    fn canonical_json_ignores_formatting(v in arb_json()) {
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let reparsed: Value = serde_json::from_str(&pretty).unwrap();
        prop_assert_eq!(to_canonical_string(&reparsed).unwrap(), to_canonical_string(&v).unwrap());
    }

    /// Every attestation a key signs recovers to that key, and the JSON form round-trips.
    #[test]
    fn sign_recover_round_trip(fuel in any::<u64>(), code in any::<[u8; 32]>(), out in any::<[u8; 32]>(), verdict in 0usize..5, chain in 1u64..1_000_000) {
        let key = WorkerKey::from_hex(TEST_KEY).unwrap();
        let verdicts = [Verdict::Valid, Verdict::Invalid, Verdict::Error, Verdict::Timeout, Verdict::Failed];
        let fields = Attestation { fuel_used: fuel, code_hash: Digest32(code), output_hash: Digest32(out), result: verdicts[verdict], ..golden_attestation() };
        let domain = AttestationDomain { chain_id: chain, ..golden_domain() };
        let signed = key.sign(fields, &domain).unwrap();
        prop_assert_eq!(signed.verify(&domain).unwrap(), key.address());
        let json = serde_json::to_string(&signed).unwrap();
        let back: notary_protocol::SignedAttestation = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, signed);
    }
}
