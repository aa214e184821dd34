//! Who sits on a jury: the seeded order of the pool (see the rule in [`super`]).

use alloy::primitives::keccak256;
use notary_protocol::Address;

/// The pool as the plan stores it: distinct addresses, ascending.
pub fn pool_of(workers: impl IntoIterator<Item = Address>) -> Vec<Address> {
    let mut pool: Vec<Address> = workers.into_iter().collect();
    pool.sort();
    pool.dedup();
    pool
}

/// `keccak256(address₁ ‖ address₂ ‖ …)` of an ascending pool.
pub fn pool_hash(pool: &[Address]) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(pool.len() * 20);
    for a in pool {
        bytes.extend_from_slice(a.as_slice());
    }
    keccak256(&bytes).0
}

/// A worker's place in the order of `seed`: `keccak256(seed ‖ address)`.
pub fn rank(seed: &[u8; 32], worker: &Address) -> [u8; 32] {
    let mut bytes = [0u8; 52];
    bytes[..32].copy_from_slice(seed);
    bytes[32..].copy_from_slice(worker.as_slice());
    keccak256(bytes).0
}

/// The pool in the order of `seed` (ascending rank).
pub fn order(seed: &[u8; 32], pool: &[Address]) -> Vec<Address> {
    let mut ranked: Vec<([u8; 32], Address)> = pool.iter().map(|a| (rank(seed, a), *a)).collect();
    ranked.sort();
    ranked.into_iter().map(|(_, a)| a).collect()
}

/// The workers of the order not yet called, in order.
pub fn uncalled(seed: &[u8; 32], pool: &[Address], called: &[Address]) -> Vec<Address> {
    order(seed, pool)
        .into_iter()
        .filter(|a| !called.contains(a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        Address::from([n; 20])
    }

    #[test]
    fn the_order_depends_on_the_seed_only() {
        let pool = pool_of([addr(3), addr(1), addr(2), addr(1)]);
        assert_eq!(pool, vec![addr(1), addr(2), addr(3)]);
        let a = order(&[7; 32], &pool);
        let b = order(&[7; 32], &[addr(3), addr(2), addr(1)]);
        assert_eq!(a, b, "input order does not matter");
        let seeds: std::collections::HashSet<Vec<Address>> =
            (0..32u8).map(|s| order(&[s; 32], &pool)).collect();
        assert!(seeds.len() > 1, "different seeds give different orders");
        let rest = uncalled(&[7; 32], &pool, &a[..1]);
        assert_eq!(rest, a[1..].to_vec());
    }

    #[test]
    fn the_pool_hash_commits_to_every_member() {
        let pool = pool_of([addr(1), addr(2)]);
        assert_ne!(pool_hash(&pool), pool_hash(&pool[..1]));
        let mut manual = Vec::new();
        manual.extend_from_slice(&[1; 20]);
        manual.extend_from_slice(&[2; 20]);
        assert_eq!(pool_hash(&pool), keccak256(&manual).0);
    }
}
