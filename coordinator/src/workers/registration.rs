//! Registration (issue 12, document 000): a worker of the open fleet names its role, its
//! runtime (the `configHash`, which is the runtime id its attestations carry) and its engine,
//! by a request signed with its own key. The worker book keeps the registration; approval
//! decides whether it may sit on juries.

use notary_protocol::{Address, Digest32};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a worker registers as (document 000: providers run jobs and submit their output,
/// verifiers re-run them and attest). One key may hold both roles.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Registered through `POST /providers/register`.
    Provider,
    /// Registered through `POST /verifiers/register`.
    Verifier,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Verifier => "verifier",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "provider" => Some(Role::Provider),
            "verifier" => Some(Role::Verifier),
            _ => None,
        }
    }
}

/// The engines a worker may run guests on (`notary-worker --engine`).
pub const ENGINES: [&str; 2] = ["cranelift", "pulley"];

/// Whether new registrations may sit on juries at once (`--worker-approval`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    /// Every registered worker is approved when it registers.
    Open,
    /// A registered worker waits for `notary-coordinator workers approve 0x…`.
    #[default]
    Manual,
}

/// One registration request, as checked by the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The worker's address (the request's signer).
    pub address: Address,
    /// The role it registers for.
    pub role: Role,
    /// Its runtime id.
    pub config_hash: Digest32,
    /// `cranelift` or `pulley`.
    pub engine: String,
    /// Free text, for operators.
    pub description: Option<String>,
}

/// A registered worker as the book keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// The roles it registered for, ascending.
    pub roles: Vec<Role>,
    /// Its runtime id (`0x` hex): its attestations must carry it.
    #[schema(value_type = String)]
    pub config_hash: Digest32,
    /// `cranelift` or `pulley`.
    pub engine: String,
    /// Free text from the registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it may sit on juries (approval open, or approved by an operator).
    pub approved: bool,
    /// First registration, unix ms.
    pub registered_at_ms: u64,
    /// Last registration, unix ms.
    pub updated_at_ms: u64,
}
