//! The `--fault` test aid: an executor that lies signs attestations that verify (the signature
//! recovers its address, the job's hashes are right) but differ from an honest executor's.

use base64::Engine as _;
use notary_protocol::{
    sha256, AttestationDomain, JobSpec, ProgramSpec, TaskType, Verdict, WorkerKey, WorkerReport,
};
use notary_worker::execute::Fault;
use notary_worker::JobExecutor;
use uuid::Uuid;

use crate::support::*;

/// A job running the inline HELLO module, expecting its real output.
fn hello_job(fuel: u64) -> JobSpec {
    let module = wasm(HELLO);
    JobSpec {
        job_id: Uuid::new_v4(),
        task_type: TaskType::CodeExecution,
        program: ProgramSpec::Wasm {
            module: base64::engine::general_purpose::STANDARD.encode(&module),
        },
        code_hash: sha256(&module),
        input: None,
        input_hash: sha256(b""),
        expected_hash: sha256(b"hello world\n"),
        fuel,
        timeout_ms: 10_000,
        domain: AttestationDomain::default(),
        enqueued_at_ms: 0,
        stream: false,
    }
}

async fn run(executor: &JobExecutor, spec: &JobSpec) -> WorkerReport {
    let report = executor
        .execute(&serde_json::to_string(spec).unwrap(), 1)
        .await
        .unwrap();
    // Whatever it claims, the attestation is genuinely signed by this worker over this job.
    let signer = report.attestation.verify(&spec.domain).unwrap();
    assert_eq!(signer, executor.address());
    let f = &report.attestation.fields;
    assert_eq!(f.job_id, spec.job_id);
    assert_eq!(f.code_hash, spec.code_hash);
    assert_eq!(f.input_hash, spec.input_hash);
    assert_eq!(f.expected_hash, spec.expected_hash);
    assert_eq!(f.runtime_id, report.runtime.id());
    assert!(f.fuel_used <= spec.fuel);
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_executor_signs_valid_attestations_of_wrong_results() {
    let honest = JobExecutor::new(shared(), WorkerKey::generate());
    let wrong_output =
        JobExecutor::new(shared(), WorkerKey::generate()).with_fault(Fault::WrongOutput);
    let wrong_fuel = JobExecutor::new(shared(), WorkerKey::generate()).with_fault(Fault::WrongFuel);
    assert_eq!(honest.fault(), None);
    let spec = hello_job(1_000_000);

    let truth = run(&honest, &spec).await;
    let t = &truth.attestation.fields;
    assert_eq!(t.result, Verdict::Valid);
    assert_eq!(t.output_hash, sha256(b"hello world\n"));
    assert_eq!(truth.output_preview, "hello world\n");

    // wrong-output: the output hash of "hello world\n\n", consistently: the preview shows that
    // output and the verdict follows from it (so no coordinator consistency check trips).
    let lie = run(&wrong_output, &spec).await;
    let l = &lie.attestation.fields;
    assert_ne!(l.output_hash, t.output_hash);
    assert_eq!(l.output_hash, sha256(b"hello world\n\n"));
    assert_eq!(lie.output_preview, "hello world\n\n");
    assert_eq!(l.result, Verdict::Invalid);
    assert_eq!(l.fuel_used, t.fuel_used);
    assert_eq!(l.runtime_id, t.runtime_id);
    // Deterministic: the same lie every time.
    let again = run(&wrong_output, &spec).await;
    assert_eq!(again.attestation.fields.output_hash, l.output_hash);

    // wrong-fuel: the real output, one more fuel unit.
    let lie = run(&wrong_fuel, &spec).await;
    let l = &lie.attestation.fields;
    assert_eq!(l.output_hash, t.output_hash);
    assert_eq!(l.result, Verdict::Valid);
    assert_eq!(l.fuel_used, t.fuel_used + 1);
    assert_eq!(lie.output_preview, truth.output_preview);

    // A run that uses its whole budget is claimed one unit short, staying within the budget.
    let starved = hello_job(t.fuel_used);
    let truth = run(&honest, &starved).await;
    assert_eq!(truth.attestation.fields.fuel_used, starved.fuel);
    let lie = run(&wrong_fuel, &starved).await;
    assert_eq!(lie.attestation.fields.fuel_used, starved.fuel - 1);
}
