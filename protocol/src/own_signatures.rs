//! Attestation signatures this process made itself, so that the same process checking them
//! (a coordinator with in-process worker slots) need not recover the signer: recovering a
//! secp256k1 signature costs several times what signing does, on every job.
//!
//! Sound because an entry exists only for a (hash, signature) pair this process produced with
//! the recorded key: recovering that exact pair yields that key's address, so a verifier that
//! finds the pair may use the address as if it had recovered it. Anything else (another
//! process's report, a replayed or altered one) is not found and is recovered as always.
//!
//! Off until [`remember_own_signatures`] is called (a fleet-only worker would only fill it).
//! Bounded: an entry is taken at most once, and the memo is emptied when it reaches
//! [`CAPACITY`] (its entries are then recovered the slow way: correctness never depends on it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use alloy_primitives::Address;

use crate::digest::Digest32;

/// Most signatures remembered at once.
pub const CAPACITY: usize = 8192;

static ENABLED: AtomicBool = AtomicBool::new(false);
static MEMO: LazyLock<Mutex<HashMap<String, (Digest32, Address)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// From now on, attestations this process signs are remembered for its own verification.
pub fn remember_own_signatures() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Records that `address` signed `hash` as `signature` (no-op unless enabled).
pub(crate) fn record(hash: &Digest32, signature: &str, address: Address) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let mut memo = MEMO.lock().unwrap_or_else(PoisonError::into_inner);
    if memo.len() >= CAPACITY {
        memo.clear();
    }
    memo.insert(signature.to_string(), (*hash, address));
}

/// The signer of `signature` over `hash` if this process made exactly that signature; the
/// entry is used up.
pub(crate) fn take(hash: &Digest32, signature: &str) -> Option<Address> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let mut memo = MEMO.lock().unwrap_or_else(PoisonError::into_inner);
    match memo.get(signature) {
        Some((signed, address)) if signed == hash => {
            let address = *address;
            memo.remove(signature);
            Some(address)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::WorkerKey;

    #[test]
    fn only_the_exact_pair_signed_here_is_found_and_only_once() {
        remember_own_signatures();
        let key = WorkerKey::generate();
        let hash = Digest32([9; 32]);
        let signature = key.sign_hash(&hash).unwrap();
        record(&hash, &signature, key.address());
        assert_eq!(take(&Digest32([8; 32]), &signature), None, "another hash");
        assert_eq!(take(&hash, "0xdead"), None, "another signature");
        assert_eq!(take(&hash, &signature), Some(key.address()));
        assert_eq!(take(&hash, &signature), None, "used up");
    }
}
