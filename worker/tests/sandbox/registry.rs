//! Jobs that name a registered module by hash: the executor reads the bytes from the registry
//! in a real Redis (the keys the coordinators write) and refuses what it cannot trust.

use std::sync::Arc;

use notary_protocol::{
    keys, sha256, AttestationDomain, Digest32, JobSpec, ProgramSpec, TaskType, Verdict, WorkerKey,
};
use notary_queue::test_utils::RedisServer;
use notary_worker::{JobExecutor, RedisModuleSource};
use uuid::Uuid;

use crate::support::*;

fn job(hash: Digest32) -> String {
    let expected = sha256(b"hello world\n");
    serde_json::to_string(&JobSpec {
        job_id: Uuid::new_v4(),
        task_type: TaskType::CodeExecution,
        program: ProgramSpec::Module { hash },
        code_hash: hash,
        input: None,
        input_hash: sha256(b""),
        expected_hash: expected,
        fuel: 1_000_000,
        timeout_ms: 10_000,
        domain: AttestationDomain::default(),
        enqueued_at_ms: 0,
        stream: false,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_modules_are_read_from_redis_and_checked() {
    let redis = RedisServer::start();
    let prefix = "reg:";
    let hello = wasm(HELLO);
    let hello_hash = sha256(&hello);
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("HSET")
        .arg(keys::module(prefix, &hello_hash.to_hex()))
        .arg("bytes")
        .arg(&hello[..])
        .query_async(&mut conn)
        .await
        .unwrap();
    // Bytes stored under a hash they do not have.
    let forged = sha256(b"forged");
    let _: () = redis::cmd("HSET")
        .arg(keys::module(prefix, &forged.to_hex()))
        .arg("bytes")
        .arg(&hello[..])
        .query_async(&mut conn)
        .await
        .unwrap();

    let source = RedisModuleSource::new_lazy(&redis.url(), prefix).unwrap();
    let executor =
        JobExecutor::new(shared(), WorkerKey::generate()).with_module_source(Arc::new(source));

    let report = executor.execute(&job(hello_hash), 1).await.unwrap();
    assert_eq!(
        report.attestation.fields.result,
        Verdict::Valid,
        "{report:?}"
    );
    assert_eq!(report.module_hash, hello_hash);
    // The second run is served from the byte cache and the compiled-module cache.
    let report = executor.execute(&job(hello_hash), 1).await.unwrap();
    assert_eq!(report.attestation.fields.result, Verdict::Valid);

    for (hash, needle) in [
        (sha256(b"nothing"), "is not in the registry"),
        (forged, "do not hash to it"),
    ] {
        let report = executor.execute(&job(hash), 1).await.unwrap();
        assert_eq!(report.attestation.fields.result, Verdict::Failed);
        let message = report.error_message.unwrap();
        assert!(message.contains(needle), "{message}");
    }

    let without = JobExecutor::new(shared(), WorkerKey::generate());
    let report = without.execute(&job(hello_hash), 1).await.unwrap();
    assert_eq!(report.attestation.fields.result, Verdict::Failed);
    assert!(report
        .error_message
        .unwrap()
        .contains("this worker has no module registry"));
}
