//! What recovering a signer costs (issue 23): `cargo run --release -p notary-protocol --example
//! recovery_cost`. Three ways over the same 2,000 signatures, three rounds: `k256`'s full
//! recovery (`VerifyingKey::recover_from_prehash`, which re-verifies the signature against the
//! key it recovered), `k256` without that re-verification (what `recover_signer` did before),
//! and `recover_signer` itself (hex decoding, libsecp256k1's recovery, the address); then
//! signing, through `k256` and through libsecp256k1 (`WorkerKey::sign_hash`).

use std::hint::black_box;
use std::time::Instant;

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use notary_protocol::digest::Digest32;

/// `k256`'s recovery without the closing re-verification: `Q = r⁻¹(sR − zG)`.
fn k256_without_reverification(
    prehash: &[u8; 32],
    sig: &Signature,
    recid: RecoveryId,
) -> Option<VerifyingKey> {
    use k256::elliptic_curve::ops::{Invert, LinearCombination, Reduce};
    use k256::elliptic_curve::point::DecompressPoint;
    use k256::elliptic_curve::PrimeField;
    use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, U256};
    let (r, s) = sig.split_scalars();
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*prehash));
    let big_r: Option<AffinePoint> =
        AffinePoint::decompress(&r.to_repr(), u8::from(recid.is_y_odd()).into()).into();
    let r_inv = *<k256::NonZeroScalar as Invert>::invert(&r);
    let q = ProjectivePoint::lincomb(
        &ProjectivePoint::GENERATOR,
        &-(r_inv * z),
        &ProjectivePoint::from(big_r?),
        &(r_inv * *s),
    );
    VerifyingKey::from_affine(q.to_affine()).ok()
}

/// Microseconds per call of `f` over `items`.
fn per_call<T>(items: &[T], f: impl Fn(&T)) -> f64 {
    let started = Instant::now();
    for item in items {
        f(item);
    }
    started.elapsed().as_secs_f64() * 1e6 / items.len() as f64
}

fn main() {
    let key = SigningKey::from_slice(&[7u8; 32]).expect("a valid key");
    let signed: Vec<_> = (0..2000u32)
        .map(|i| {
            let mut hash = [0u8; 32];
            hash[..4].copy_from_slice(&i.to_le_bytes());
            let (sig, recid) = key.sign_prehash_recoverable(&hash).expect("signs");
            let mut bytes = sig.to_bytes().to_vec();
            bytes.push(recid.to_byte() + 27);
            (hash, sig, recid, format!("0x{}", hex::encode(bytes)))
        })
        .collect();
    for round in 1..=3 {
        let full = per_call(&signed, |(hash, sig, recid, _)| {
            black_box(VerifyingKey::recover_from_prehash(hash, sig, *recid).expect("recovers"));
        });
        let without = per_call(&signed, |(hash, sig, recid, _)| {
            black_box(k256_without_reverification(hash, sig, *recid).expect("recovers"));
        });
        let ours = per_call(&signed, |(hash, _, _, text)| {
            black_box(notary_protocol::recover_signer(&Digest32(*hash), text).expect("recovers"));
        });
        let worker = notary_protocol::WorkerKey::from_hex(&hex::encode([7u8; 32])).expect("key");
        let sign_k256 = per_call(&signed, |(hash, _, _, _)| {
            black_box(worker.sign_hash_k256(&Digest32(*hash)).expect("signs"));
        });
        let sign_ours = per_call(&signed, |(hash, _, _, _)| {
            black_box(worker.sign_hash(&Digest32(*hash)).expect("signs"));
        });
        println!(
            "round {round}: k256 full {full:.1} us, k256 without re-verification {without:.1} us, \
             recover_signer (libsecp256k1) {ours:.1} us per signature; signing: k256 \
             {sign_k256:.1} us, sign_hash (libsecp256k1) {sign_ours:.1} us"
        );
    }
}
