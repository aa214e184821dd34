//! When jurors agree, and what a round decides (the rule is in [`super`]).

use std::collections::BTreeMap;

use notary_protocol::{Address, Digest32, WorkerReport};
use serde::{Deserialize, Serialize};

use super::majority;

/// What a closed round decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundOutcome {
    /// Every seat gave the same answer.
    Unanimous,
    /// A majority agreed, someone dissented (or a seat stayed empty).
    Majority,
    /// No answer had a majority.
    NoMajority,
}

impl RoundOutcome {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundOutcome::Unanimous => "unanimous",
            RoundOutcome::Majority => "majority",
            RoundOutcome::NoMajority => "no_majority",
        }
    }
}

/// What jurors must agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Answer {
    /// sha256 of stdout.
    pub output_hash: Digest32,
    /// The verdict's code.
    pub result: u8,
    /// Fuel consumed.
    pub fuel_used: u64,
}

impl Answer {
    /// The answer a report attests.
    pub fn of(report: &WorkerReport) -> Answer {
        let f = &report.attestation.fields;
        Answer {
            output_hash: f.output_hash,
            result: f.result.code(),
            fuel_used: f.fuel_used,
        }
    }
}

/// A round's tally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Unanimous, majority or no majority.
    pub outcome: RoundOutcome,
    /// The jurors of the verdict, in seat order (empty without a majority).
    pub agreeing: Vec<Address>,
    /// Jurors that delivered another answer than the verdict, in seat order (empty without a
    /// majority).
    pub dissenting: Vec<Address>,
}

/// Tallies a round of `tier` seats whose `members` (in seat order) delivered `answers` (a
/// member missing from it delivered nothing). The largest group of agreeing jurors decides if
/// it has a majority of the seats; a tie between groups goes to the group whose first juror sat
/// first, so every coordinator computes the same tally.
pub fn tally(tier: u8, members: &[Address], answers: &BTreeMap<Address, Answer>) -> Tally {
    let mut groups: BTreeMap<Answer, Vec<Address>> = BTreeMap::new();
    for member in members {
        if let Some(answer) = answers.get(member) {
            groups.entry(*answer).or_default().push(*member);
        }
    }
    let seat = |a: &Address| members.iter().position(|m| m == a).unwrap_or(usize::MAX);
    let best = groups
        .values()
        .max_by(|a, b| a.len().cmp(&b.len()).then(seat(&b[0]).cmp(&seat(&a[0]))));
    match best {
        Some(group) if group.len() >= majority(tier) => Tally {
            outcome: if group.len() == tier as usize {
                RoundOutcome::Unanimous
            } else {
                RoundOutcome::Majority
            },
            agreeing: group.clone(),
            dissenting: members
                .iter()
                .filter(|m| answers.contains_key(*m) && !group.contains(m))
                .copied()
                .collect(),
        },
        _ => Tally {
            outcome: RoundOutcome::NoMajority,
            agreeing: Vec::new(),
            dissenting: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn juror(n: u8) -> Address {
        Address::from([n; 20])
    }

    fn answer(output: u8, fuel: u64) -> Answer {
        Answer {
            output_hash: Digest32([output; 32]),
            result: 1,
            fuel_used: fuel,
        }
    }

    fn round(answers: &[(u8, Answer)]) -> BTreeMap<Address, Answer> {
        answers.iter().map(|(j, a)| (juror(*j), *a)).collect()
    }

    #[test]
    fn agreement_is_output_result_and_fuel() {
        let members = [juror(1), juror(2), juror(3)];
        let t = tally(
            3,
            &members,
            &round(&[
                (1, answer(7, 100)),
                (2, answer(7, 100)),
                (3, answer(7, 100)),
            ]),
        );
        assert_eq!(t.outcome, RoundOutcome::Unanimous);
        assert_eq!(t.agreeing, members.to_vec());
        assert!(t.dissenting.is_empty());

        // Same output, other fuel: a dissent (fuel is part of what is signed).
        let t = tally(
            3,
            &members,
            &round(&[
                (1, answer(7, 100)),
                (2, answer(7, 101)),
                (3, answer(7, 100)),
            ]),
        );
        assert_eq!(t.outcome, RoundOutcome::Majority);
        assert_eq!(t.agreeing, vec![juror(1), juror(3)]);
        assert_eq!(t.dissenting, vec![juror(2)]);

        // Same output and fuel, other result code.
        let mut invalid = answer(7, 100);
        invalid.result = 2;
        let t = tally(
            3,
            &members,
            &round(&[(1, invalid), (2, answer(7, 100)), (3, answer(7, 100))]),
        );
        assert_eq!(t.dissenting, vec![juror(1)]);
    }

    #[test]
    fn splits_missing_seats_and_ties() {
        let members = [juror(1), juror(2), juror(3)];
        // Three different answers: no majority, nobody named.
        let t = tally(
            3,
            &members,
            &round(&[(1, answer(1, 1)), (2, answer(2, 1)), (3, answer(3, 1))]),
        );
        assert_eq!(t.outcome, RoundOutcome::NoMajority);
        assert!(t.agreeing.is_empty() && t.dissenting.is_empty());
        // A seat that delivered nothing: two agreeing make a majority, never unanimity.
        let t = tally(3, &members, &round(&[(1, answer(1, 1)), (3, answer(1, 1))]));
        assert_eq!(t.outcome, RoundOutcome::Majority);
        assert!(t.dissenting.is_empty());
        // One answer of three: no majority.
        let t = tally(3, &members, &round(&[(2, answer(1, 1))]));
        assert_eq!(t.outcome, RoundOutcome::NoMajority);
        // Tier 5, a 2-2-1 split: no majority (3 needed), whatever the seat order.
        let five = [juror(1), juror(2), juror(3), juror(4), juror(5)];
        let split = round(&[
            (1, answer(1, 1)),
            (2, answer(2, 1)),
            (3, answer(1, 1)),
            (4, answer(2, 1)),
            (5, answer(3, 1)),
        ]);
        assert_eq!(tally(5, &five, &split).outcome, RoundOutcome::NoMajority);
        // Tier 5, 3-2: the three decide, the two dissent, in seat order.
        let t = tally(
            5,
            &five,
            &round(&[
                (1, answer(2, 1)),
                (2, answer(1, 1)),
                (3, answer(1, 1)),
                (4, answer(2, 1)),
                (5, answer(1, 1)),
            ]),
        );
        assert_eq!(t.agreeing, vec![juror(2), juror(3), juror(5)]);
        assert_eq!(t.dissenting, vec![juror(1), juror(4)]);
    }
}
