//! A jury's life as the store keeps it: its rounds, the sealed results of each, and whether
//! the job waits for an escalation. Changed only by the jury policy (`crate::jobs::jury`), by
//! compare-and-set on [`JuryState::version`].

use std::collections::BTreeMap;

use notary_protocol::{Address, SignedAttestation, WorkerReport};
use serde::{Deserialize, Serialize};

use super::verdict::{tally, Answer, RoundOutcome};

/// A worker called on a round that does not sit on it (any more), and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replaced {
    /// The worker.
    #[schema(value_type = String)]
    pub worker: Address,
    /// Why it was passed over or replaced.
    pub reason: String,
}

/// One round of a jury.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Round {
    /// Its size.
    pub tier: u8,
    /// The seated jurors, in the order they were called.
    pub members: Vec<Address>,
    /// Workers called and passed over (not eligible when their turn came) or replaced.
    #[serde(default)]
    pub replaced: Vec<Replaced>,
    /// The members' accepted reports, sealed until the round closes.
    #[serde(default)]
    pub results: BTreeMap<Address, WorkerReport>,
    /// Set when every member delivered.
    #[serde(default)]
    pub closed: Option<Closed>,
}

/// What a closed round decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Closed {
    /// Unanimous, majority or no majority.
    pub outcome: RoundOutcome,
    /// The jurors of the verdict, in seat order.
    pub agreeing: Vec<Address>,
    /// The jurors that answered otherwise, in seat order.
    pub dissenting: Vec<Address>,
    /// When (unix ms).
    pub at_ms: u64,
}

impl Round {
    /// A new round of `tier` seating `members`; `passed` were called and not eligible.
    pub fn new(tier: u8, members: Vec<Address>, passed: Vec<Replaced>) -> Round {
        Round {
            tier,
            members,
            replaced: passed,
            results: BTreeMap::new(),
            closed: None,
        }
    }

    /// Every worker this round called: its members, then those passed over or replaced.
    pub fn called(&self) -> impl Iterator<Item = &Address> {
        self.members
            .iter()
            .chain(self.replaced.iter().map(|r| &r.worker))
    }

    /// Members that have not delivered.
    pub fn outstanding(&self) -> Vec<Address> {
        self.members
            .iter()
            .filter(|m| !self.results.contains_key(*m))
            .copied()
            .collect()
    }

    /// Whether every member delivered.
    pub fn complete(&self) -> bool {
        !self.members.is_empty() && self.outstanding().is_empty()
    }

    /// Closes the round with its tally at `now_ms`.
    pub fn close(&mut self, now_ms: u64) -> &Closed {
        let answers: BTreeMap<Address, Answer> = self
            .results
            .iter()
            .map(|(w, r)| (*w, Answer::of(r)))
            .collect();
        let t = tally(self.tier, &self.members, &answers);
        self.closed.insert(Closed {
            outcome: t.outcome,
            agreeing: t.agreeing,
            dissenting: t.dissenting,
            at_ms: now_ms,
        })
    }

    /// The agreeing jurors' attestations, in seat order, once closed.
    pub fn agreeing_attestations(&self) -> Vec<SignedAttestation> {
        self.closed
            .iter()
            .flat_map(|c| c.agreeing.iter())
            .filter_map(|a| self.results.get(a))
            .map(|r| r.attestation.clone())
            .collect()
    }

    /// The report of the round's verdict (its first agreeing juror's), once closed.
    pub fn verdict(&self) -> Option<&WorkerReport> {
        let first = self.closed.as_ref()?.agreeing.first()?;
        self.results.get(first)
    }
}

/// A jury's rounds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JuryState {
    /// Oldest first; the last is the current one.
    pub rounds: Vec<Round>,
    /// The last round closed split and the job waits for an escalation.
    #[serde(default)]
    pub escalated: bool,
    /// Bumped by every change (compare-and-set).
    #[serde(default)]
    pub version: u64,
}

impl JuryState {
    /// The current round.
    pub fn current(&self) -> Option<&Round> {
        self.rounds.last()
    }

    /// The current round, to change.
    pub fn current_mut(&mut self) -> Option<&mut Round> {
        self.rounds.last_mut()
    }

    /// Every worker called on this job so far, in the order called.
    pub fn called(&self) -> Vec<Address> {
        self.rounds
            .iter()
            .flat_map(|r| r.called().copied())
            .collect()
    }

    /// The latest round with a verdict (a majority), and its verdict's report.
    pub fn verdict(&self) -> Option<(&Round, &WorkerReport)> {
        self.rounds
            .iter()
            .rev()
            .find_map(|r| r.verdict().map(|v| (r, v)))
    }
}
