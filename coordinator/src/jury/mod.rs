//! Juries (issue 11, source document 000): the rules, as pure functions.
//!
//! A job of trust tier n is to be run by n distinct workers that cannot see each other's
//! answers; ⌊n/2⌋+1 agreeing jurors make a verdict, and a split jury escalates to a larger,
//! fresh one. This module holds the data and the rules anyone must be able to recompute from a
//! job's view; the jury's life (seating jurors as targeted queue tasks, sealed results,
//! replacements, escalation) is a completion policy of the job service ([`crate::jobs::jury`]).
//!
//! - [`select`]: who sits.
//! - [`verdict`]: when jurors agree and what a round decides.
//! - [`plan`]: what a client asks (`trustTier`, `escalation`, `maxTier`) and the plan fixed at
//!   acceptance (seed, pool).
//! - [`state`]: the rounds as stored.
//!
//! # The selection rule
//!
//! At acceptance the coordinator fixes a random 32-byte `jurySeed` and the *pool*: the allowed
//! workers that are alive and not suspended, in ascending address order, with
//! `poolHash = keccak256(address₁ ‖ address₂ ‖ …)` (20 bytes each). The *order* of the pool is
//! ascending `keccak256(jurySeed ‖ address)`. Round 1 seats the first n of the order; a juror
//! that does not deliver is replaced by the next worker of the order not yet called on this
//! job; an escalated round seats the next workers of the order that no earlier round called, so
//! a fresh jury never includes an earlier juror. A worker that cannot be called when its turn
//! comes (gone from the fleet since acceptance) is passed over and listed among the round's
//! `replaced`; so each round's members and replaced workers, in the order called, are exactly
//! the order's next workers, which lets anyone check a jury from the job's view.
//!
//! Tier 1 is not a jury: one worker of the shared queue decides, as before juries existed.
//!
//! # The verdict rule
//!
//! Two jurors agree when their attested `outputHash`, `result` and `fuelUsed` are equal. A
//! round's verdict is the answer of at least ⌊n/2⌋+1 of its n seats: *unanimous* when every
//! seat delivered it, *majority* otherwise; *no majority* when no answer has that many.

pub mod plan;
pub mod select;
pub mod state;
pub mod verdict;

pub use self::plan::{Escalation, JuryPlan, JuryRequest};
pub use self::state::{Closed, JuryState, Replaced, Round};
pub use self::verdict::RoundOutcome;

/// The trust tiers: how many jurors a round has. Each escalation goes one step up.
pub const TIERS: [u8; 4] = [1, 3, 5, 7];

/// The highest tier.
pub const MAX_TIER: u8 = 7;

/// Whether `tier` is one of [`TIERS`].
pub fn is_tier(tier: u8) -> bool {
    TIERS.contains(&tier)
}

/// The tier after `tier`, if any.
pub fn next_tier(tier: u8) -> Option<u8> {
    TIERS.iter().copied().find(|t| *t > tier)
}

/// Agreeing jurors a round of `tier` needs for a verdict: ⌊n/2⌋+1.
pub fn majority(tier: u8) -> usize {
    tier as usize / 2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_step_up_and_need_a_majority() {
        assert_eq!(
            TIERS.map(next_tier),
            [Some(3), Some(5), Some(7), None],
            "1 -> 3 -> 5 -> 7"
        );
        assert_eq!(TIERS.map(majority), [1, 2, 3, 4]);
        assert!(is_tier(5) && !is_tier(2) && !is_tier(9));
    }
}
