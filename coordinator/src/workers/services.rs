//! Provider services (issue 12, document 000): after registering, a provider says what it
//! serves, one service per module (`moduleHash`) or per language (`javascript`, `wasm`), each
//! with its price. Jury selection then seats a provider that declared services only for jobs
//! one of them covers; a provider that declared none serves every job (as the allow list's
//! workers do).
//!
//! A service's id follows from what it serves (`module:<hex>` or `language:<name>`), so
//! declaring the same thing again replaces its price instead of adding a twin.

use notary_protocol::{Digest32, JobSpec, ProgramSpec};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The languages a service may name: `javascript` (QuickJS programs) and `wasm` (modules,
/// inline or registered; `wat` is queued as a module).
pub const SERVICE_LANGUAGES: [&str; 2] = ["javascript", "wasm"];

/// What a service covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceTarget {
    /// Jobs whose code hash is this module's sha256.
    Module(Digest32),
    /// Jobs in this language (one of [`SERVICE_LANGUAGES`]).
    Language(String),
}

impl ServiceTarget {
    /// The service id this target gets.
    pub fn id(&self) -> String {
        match self {
            ServiceTarget::Module(hash) => format!("module:{hash}"),
            ServiceTarget::Language(language) => format!("language:{language}"),
        }
    }
}

/// One declared service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `module:<hex>` or `language:<name>`: name it to delete it.
    pub service_id: String,
    /// The module it serves (hex), for a module service.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub module_hash: Option<Digest32>,
    /// The language it serves, for a language service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Its price per job in the payment token's base units (a decimal string).
    pub price: String,
    /// First declared, unix ms.
    pub created_at_ms: u64,
    /// Last declared, unix ms.
    pub updated_at_ms: u64,
}

impl Service {
    /// A new service declared at `at_ms`.
    pub fn new(target: ServiceTarget, price: String, at_ms: u64) -> Service {
        let (module_hash, language) = match &target {
            ServiceTarget::Module(hash) => (Some(*hash), None),
            ServiceTarget::Language(language) => (None, Some(language.clone())),
        };
        Service {
            service_id: target.id(),
            module_hash,
            language,
            price,
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
        }
    }

    /// Whether it covers `job`.
    pub fn serves(&self, job: &JobSpec) -> bool {
        if self.module_hash == Some(job.code_hash) {
            return true;
        }
        matches!(
            (self.language.as_deref(), &job.program),
            (Some("javascript"), ProgramSpec::Javascript { .. })
                | (
                    Some("wasm"),
                    ProgramSpec::Wasm { .. } | ProgramSpec::Module { .. }
                )
        )
    }
}

/// Whether a provider with `services` may sit on `job`'s jury: it declared none (it serves
/// everything), or one of them covers the job.
pub fn serves_job(services: &[Service], job: &JobSpec) -> bool {
    services.is_empty() || services.iter().any(|s| s.serves(job))
}
