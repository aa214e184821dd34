//! The job mix: which program job *i* runs and the hash its output must have.
//!
//! Both programs print a fixed line, so the expected sha256 is computed here once from the
//! exact stdout rather than asked of a reference run; a test checks that `node` prints exactly
//! that. Job *i*'s program depends only on *i*, so two runs with the same mix and job count
//! submit the same jobs, and the service and the node baseline see the same sequence.

use std::fmt;

use sha2::{Digest, Sha256};

/// The job mix chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mix {
    /// Every job prints `hello world`: measures the per-job overhead.
    Hello,
    /// Every job runs a CPU-bound loop of 10^6 iterations, then prints its sum.
    Cpu,
    /// Four hello jobs, then one CPU job, repeating (80/20 by job index).
    Mixed,
}

impl Mix {
    /// The program job `index` runs.
    pub fn program_for(self, index: u64) -> ProgramKind {
        match self {
            Mix::Hello => ProgramKind::Hello,
            Mix::Cpu => ProgramKind::Cpu,
            Mix::Mixed if index % 5 == 4 => ProgramKind::Cpu,
            Mix::Mixed => ProgramKind::Hello,
        }
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mix::Hello => "hello",
            Mix::Cpu => "cpu",
            Mix::Mixed => "mixed",
        })
    }
}

/// One of the fixed programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramKind {
    /// `console.log("hello world")`.
    Hello,
    /// A loop summing `i % 7` for i in 1..=10^6 (2999998), printed.
    Cpu,
}

impl ProgramKind {
    /// The JavaScript source.
    pub fn code(self) -> &'static str {
        match self {
            ProgramKind::Hello => r#"console.log("hello world")"#,
            ProgramKind::Cpu => {
                r#"let sum = 0; for (let i = 1; i <= 1000000; i++) { sum += i % 7; } console.log("sum " + sum);"#
            }
        }
    }

    /// The exact stdout the program prints (`console.log` adds the newline).
    pub fn expected_stdout(self) -> &'static str {
        match self {
            ProgramKind::Hello => "hello world\n",
            ProgramKind::Cpu => "sum 2999998\n",
        }
    }
}

/// A program with everything a target needs precomputed, so the client spends as little CPU
/// per job as possible (it shares the machine with the server it measures).
#[derive(Clone, Debug)]
pub struct Program {
    /// Which program.
    pub kind: ProgramKind,
    /// Lowercase hex sha256 of [`ProgramKind::expected_stdout`].
    pub expected_hash: String,
    /// The serialized `POST /verify` body.
    pub request_body: String,
}

impl Program {
    fn new(kind: ProgramKind, trust_tier: u8) -> Self {
        let expected_hash = sha256_hex(kind.expected_stdout().as_bytes());
        let mut body = serde_json::json!({
            "taskType": "code-execution",
            "code": kind.code(),
            "expectedHash": expected_hash,
        });
        // Tier 1 is the default; the field is sent only for a jury.
        if trust_tier > 1 {
            body["trustTier"] = trust_tier.into();
        }
        let request_body = body.to_string();
        Program {
            kind,
            expected_hash,
            request_body,
        }
    }
}

/// The programs of a mix, ready to submit.
#[derive(Debug)]
pub struct Workload {
    mix: Mix,
    hello: Program,
    cpu: Program,
}

impl Workload {
    /// Prepares both programs for `mix`.
    pub fn new(mix: Mix) -> Self {
        Self::with_trust_tier(mix, 1)
    }

    /// The mix with every job asking for a jury of `trust_tier` workers (1: no jury).
    pub fn with_trust_tier(mix: Mix, trust_tier: u8) -> Self {
        Workload {
            mix,
            hello: Program::new(ProgramKind::Hello, trust_tier),
            cpu: Program::new(ProgramKind::Cpu, trust_tier),
        }
    }

    /// The program of job `index`.
    pub fn job(&self, index: u64) -> &Program {
        match self.mix.program_for(index) {
            ProgramKind::Hello => &self.hello,
            ProgramKind::Cpu => &self.cpu,
        }
    }
}

/// Lowercase hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_hash_is_the_documented_one() {
        assert_eq!(
            Program::new(ProgramKind::Hello, 1).expected_hash,
            "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
        );
    }

    #[test]
    fn cpu_program_prints_the_sum_it_claims() {
        let sum: u64 = (1..=1_000_000u64).map(|i| i % 7).sum();
        assert_eq!(ProgramKind::Cpu.expected_stdout(), format!("sum {sum}\n"));
    }

    #[test]
    fn mixed_is_80_20_and_deterministic() {
        let cpu = (0..1000)
            .filter(|&i| Mix::Mixed.program_for(i) == ProgramKind::Cpu)
            .count();
        assert_eq!(cpu, 200);
        assert_eq!(Mix::Mixed.program_for(4), ProgramKind::Cpu);
        assert_eq!(Mix::Mixed.program_for(5), ProgramKind::Hello);
    }

    #[test]
    fn request_body_has_the_api_fields() {
        let program = Program::new(ProgramKind::Cpu, 3);
        let body: serde_json::Value = serde_json::from_str(&program.request_body).unwrap();
        assert_eq!(body["taskType"], "code-execution");
        assert_eq!(body["code"], ProgramKind::Cpu.code());
        assert_eq!(body["expectedHash"], program.expected_hash.as_str());
        assert_eq!(body["trustTier"], 3);
        let tier_one: serde_json::Value =
            serde_json::from_str(&Program::new(ProgramKind::Cpu, 1).request_body).unwrap();
        assert!(tier_one.get("trustTier").is_none());
    }
}
