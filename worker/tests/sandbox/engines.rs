//! Juries across engines (issue 11): a jury may mix Cranelift (native code) and Pulley
//! (wasmtime's interpreter) workers only if both give the same output and the same fuel. This
//! runs the JavaScript comparison corpus, the example guests and the inline guests on both and
//! compares status, stdout hash and fuel, job by job.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use notary_worker::sandbox::{EngineKind, Program, RunRequest, Sandbox, SandboxConfig};
use sha2::{Digest, Sha256};

use crate::support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sandbox(engine: EngineKind) -> Sandbox {
    let mut config = SandboxConfig::new(js_runtime().expect("the JavaScript runtime is built"));
    config.engine = engine;
    config.max_concurrent_instances = 2;
    Sandbox::new(config).expect("sandbox builds")
}

/// Every job of the corpus: a name and a request.
fn corpus() -> Vec<(String, RunRequest)> {
    let mut jobs = Vec::new();
    let request = |program: Program, input: Vec<u8>| RunRequest {
        program,
        input,
        fuel: 10_000_000_000,
        timeout: Duration::from_secs(120),
        seed: [7; 32],
        stdout_tap: None,
    };
    let programs = repo().join("guest-sdk/js-runtime/tests/programs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&programs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .collect();
    files.sort();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let input = std::fs::read(file.with_extension("input.json")).unwrap_or_default();
        jobs.push((
            file.file_name().unwrap().to_string_lossy().into_owned(),
            request(Program::JavaScript { source }, input),
        ));
    }
    let example_input = std::fs::read(repo().join("guest-sdk/examples/input.json")).unwrap();
    for module in [
        "guest-sdk/examples/c/fnv.wasm",
        "guest-sdk/examples/assemblyscript/fnv.wasm",
    ] {
        let bytes = std::fs::read(repo().join(module)).unwrap();
        jobs.push((
            module.to_string(),
            request(
                Program::Wasm {
                    module: Arc::from(bytes),
                },
                example_input.clone(),
            ),
        ));
    }
    jobs.push((
        "guest-sdk/examples/js/fnv.js".into(),
        request(
            Program::JavaScript {
                source: std::fs::read_to_string(repo().join("guest-sdk/examples/js/fnv.js"))
                    .unwrap(),
            },
            example_input,
        ),
    ));
    for (name, wat) in [
        ("HELLO", HELLO),
        ("INFINITE_LOOP (out of fuel)", INFINITE_LOOP),
        ("EXIT_3", EXIT_3),
        ("UNREACHABLE", UNREACHABLE),
        ("SLEEP_FOREVER (out of fuel)", SLEEP_FOREVER),
    ] {
        let mut req = request(Program::Wasm { module: wasm(wat) }, Vec::new());
        req.fuel = 50_000_000;
        jobs.push((name.to_string(), req));
    }
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cranelift_and_pulley_agree_on_output_and_fuel() {
    let (native, interpreted) = (sandbox(EngineKind::Cranelift), sandbox(EngineKind::Pulley));
    assert_ne!(
        native.runtime_id().id,
        interpreted.runtime_id().id,
        "different engines never share a runtime id"
    );
    let (mut native_time, mut interpreted_time) = (Duration::ZERO, Duration::ZERO);
    let mut differ = Vec::new();
    let jobs = corpus();
    for (name, req) in &jobs {
        let started = Instant::now();
        let a = native.run(req.clone()).await.unwrap();
        native_time += started.elapsed();
        let started = Instant::now();
        let b = interpreted.run(req.clone()).await.unwrap();
        interpreted_time += started.elapsed();
        let summary = |o: &notary_worker::sandbox::RunOutcome| {
            (
                format!("{:?}", o.status),
                hex::encode(Sha256::digest(&o.stdout)),
                o.fuel_used,
            )
        };
        if summary(&a) != summary(&b) {
            differ.push(format!(
                "{name}: cranelift {:?} vs pulley {:?}",
                summary(&a),
                summary(&b)
            ));
        }
    }
    eprintln!(
        "MEASURE engines: {} jobs, cranelift {native_time:?}, pulley {interpreted_time:?} ({:.1}x)",
        jobs.len(),
        interpreted_time.as_secs_f64() / native_time.as_secs_f64().max(1e-9)
    );
    assert!(differ.is_empty(), "engines differ:\n{}", differ.join("\n"));
}
