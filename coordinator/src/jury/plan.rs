//! What a client asks of a jury, and the plan the coordinator fixes at acceptance.

use notary_protocol::{Address, Digest32};
use serde::{Deserialize, Serialize};

use super::MAX_TIER;

/// What a split jury does (`escalation` of a request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    /// The job waits as `escalated` for `POST /jobs/:jobId/escalate`.
    #[default]
    Manual,
    /// A fresh, larger jury is seated at once, up to `maxTier`.
    Auto,
}

impl Escalation {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            Escalation::Manual => "manual",
            Escalation::Auto => "auto",
        }
    }
}

/// What a client asks of a job's jury (`trustTier`, `escalation`, `maxTier`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JuryRequest {
    /// 1, 3, 5 or 7.
    pub tier: u8,
    /// What a split jury does.
    pub escalation: Escalation,
    /// Highest tier an automatic escalation may reach.
    pub max_tier: u8,
}

impl Default for JuryRequest {
    fn default() -> Self {
        JuryRequest {
            tier: 1,
            escalation: Escalation::Manual,
            max_tier: MAX_TIER,
        }
    }
}

/// A job's jury as fixed at acceptance (before any payment): who may sit, in which order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JuryPlan {
    /// The first round's size.
    pub tier: u8,
    /// The random seed of the order (`jurySeed`).
    pub seed: Digest32,
    /// The eligible workers at acceptance, ascending.
    pub pool: Vec<Address>,
    /// `keccak256` of the pool's addresses (`poolHash`).
    pub pool_hash: Digest32,
    /// What a split jury does.
    pub escalation: Escalation,
    /// Highest tier of an automatic escalation.
    pub max_tier: u8,
}
