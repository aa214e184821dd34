//! A job's jury as the API shows it (`jury` of the job view): the pool and order anyone can
//! recompute the jurors from, and each round. A round's answers are sealed until it closes:
//! while it is open the view shows who has submitted, never what.

use notary_protocol::{RuntimeInfo, SignedAttestation, WorkerReport};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::jury::{Escalation, Replaced, Round, RoundOutcome};
use crate::record::JobRecord;

/// `jury` of a job with a trust tier above 1.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JuryView {
    /// The eligible workers at acceptance, ascending (checksummed): `poolHash` is
    /// `keccak256` of their 20-byte addresses in this order, and the order of the jury is
    /// ascending `keccak256(jurySeed ‖ address)`.
    pub pool: Vec<String>,
    /// What a split jury does.
    pub escalation: Escalation,
    /// Highest tier of an automatic escalation.
    pub max_tier: u8,
    /// Oldest first.
    pub rounds: Vec<RoundView>,
}

/// One round of a jury.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoundView {
    /// Its size.
    pub tier: u8,
    /// Seated jurors, in the order called (checksummed).
    pub members: Vec<String>,
    /// Workers called and passed over or replaced, with why.
    pub replaced: Vec<Replaced>,
    /// Members that have delivered (what they answered stays sealed until the round closes).
    pub submitted: Vec<String>,
    /// The verdict's jurors, once closed.
    pub agreeing: Vec<String>,
    /// Jurors that answered otherwise, once closed.
    pub dissenting: Vec<String>,
    /// `unanimous`, `majority` or `no_majority`, once closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RoundOutcome>,
    /// Every member's signed attestation, once closed (seat order).
    pub attestations: Vec<AttestationView>,
}

/// A worker's attestation as shown: the signed fields, the signature, and the full EIP-712
/// document (`eth_signTypedData_v4`) anyone can verify it with.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttestationView {
    /// The worker (checksummed address).
    pub worker: String,
    /// 65-byte secp256k1 signature, hex.
    pub signature: String,
    /// The EIP-712 signing hash.
    pub signing_hash: String,
    /// The signed fields.
    #[schema(value_type = Object)]
    pub fields: Value,
    /// The runtime behind `fields.runtimeId`.
    #[schema(value_type = Option<Object>)]
    pub runtime: Option<Value>,
    /// sha256 of the module that ran.
    pub module_hash: Option<String>,
    /// The typed-data document.
    #[schema(value_type = Object)]
    pub typed_data: Value,
}

impl AttestationView {
    /// The view of `att` of a job of `record`.
    pub fn of(
        record: &JobRecord,
        att: &SignedAttestation,
        runtime: Option<&RuntimeInfo>,
        module_hash: Option<notary_protocol::Digest32>,
    ) -> AttestationView {
        let domain = &record.spec.domain;
        AttestationView {
            worker: att.worker.to_checksum(None),
            signature: att.signature.clone(),
            signing_hash: format!("0x{}", att.fields.signing_hash(domain).to_hex()),
            fields: serde_json::to_value(att.fields).unwrap_or(Value::Null),
            runtime: runtime.and_then(|r| serde_json::to_value(r).ok()),
            module_hash: module_hash.map(|h| h.to_hex()),
            typed_data: att.fields.typed_data(domain),
        }
    }

    /// The view of a juror's report.
    fn of_report(record: &JobRecord, report: &WorkerReport) -> AttestationView {
        AttestationView::of(
            record,
            &report.attestation,
            Some(&report.runtime),
            Some(report.module_hash),
        )
    }
}

impl JuryView {
    /// The jury of `record`, if it has one.
    pub fn of(record: &JobRecord) -> Option<JuryView> {
        let plan = record.jury.as_ref()?;
        let rounds = record
            .jury_state
            .as_ref()
            .map(|s| s.rounds.iter().map(|r| round(record, r)).collect())
            .unwrap_or_default();
        Some(JuryView {
            pool: plan.pool.iter().map(|a| a.to_checksum(None)).collect(),
            escalation: plan.escalation,
            max_tier: plan.max_tier,
            rounds,
        })
    }
}

fn round(record: &JobRecord, r: &Round) -> RoundView {
    let names = |v: &[notary_protocol::Address]| v.iter().map(|a| a.to_checksum(None)).collect();
    let submitted: Vec<_> = r
        .members
        .iter()
        .filter(|m| r.results.contains_key(*m))
        .copied()
        .collect();
    let mut view = RoundView {
        tier: r.tier,
        members: names(&r.members),
        replaced: r.replaced.clone(),
        submitted: names(&submitted),
        agreeing: Vec::new(),
        dissenting: Vec::new(),
        outcome: None,
        attestations: Vec::new(),
    };
    if let Some(closed) = &r.closed {
        view.agreeing = names(&closed.agreeing);
        view.dissenting = names(&closed.dissenting);
        view.outcome = Some(closed.outcome);
        view.attestations = submitted
            .iter()
            .filter_map(|m| r.results.get(m))
            .map(|report| AttestationView::of_report(record, report))
            .collect();
    }
    view
}
