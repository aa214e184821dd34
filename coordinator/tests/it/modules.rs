//! The module registry and the examples: pack, publish over real HTTP, verify by
//! `moduleHash` against the examples' known hash; `GET /info`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use notary_pack::{build_package, PackOptions};
use notary_protocol::{ModulePackage, WorkerKey};
use notary_queue::test_utils::RedisServer;
use notary_worker::sandbox::ValidationLimits;
use serde_json::{json, Value};

use crate::support::*;

/// sha256 of `bytes=46 lines=0 fnv1a64=d9f6cd965523e403\n`, what every example prints for
/// `guest-sdk/examples/input.json` (the Rust example's native test pins the same value).
pub const EXAMPLE_HASH: &str = "9fd9750faba5a820af65da42c718e6cbf06985d4a0fe56ed6f9746b983a111e1";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn example_input() -> Value {
    serde_json::from_slice(&std::fs::read(repo().join("guest-sdk/examples/input.json")).unwrap())
        .unwrap()
}

/// Packs an example as `fnv-<its directory>` (the examples are one program in several
/// languages: each needs a name of its own, since a `name@version` belongs to one module).
pub fn pack(file: &str) -> ModulePackage {
    let dir = Path::new(file)
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|d| d.to_str())
        .unwrap_or("x");
    let options = PackOptions {
        name: Some(format!("fnv-{dir}")),
        description: format!("FNV-1a of the input ({file})"),
        ..PackOptions::default()
    };
    build_package(&repo().join(file), &options, &ValidationLimits::default()).unwrap()
}

async fn verify_by_hash(c: &Coordinator, hash: &str) -> Value {
    let (status, body) = c
        .verify(json!({
            "taskType": "code-execution",
            "moduleHash": hash,
            "inputData": example_input(),
            "expectedHash": EXAMPLE_HASH,
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_packs_publishes_and_verifies_by_module_hash() {
    let c = Coordinator::embedded(1).await;
    // Fuel is pinned too (wasmtime 48.0.8, this profile): the same job costs the same fuel on
    // every worker. JavaScript starts from the runtime's pre-initialized snapshot (QuickJS and
    // its library, TextEncoder's included, already loaded): it pays for reading and running.
    for (file, language, fuel) in [
        ("guest-sdk/examples/js/fnv.js", "javascript", 714_430),
        ("guest-sdk/examples/c/fnv.wasm", "wasm", 6_132),
        ("guest-sdk/examples/assemblyscript/fnv.wasm", "wasm", 22_803),
    ] {
        let package = pack(file);
        let hash = notary_pack::publish(&c.url, &package).await.unwrap();
        assert_eq!(hash, package.manifest.sha256, "{file}");

        // Publishing the same package again is a no-op with the same hash.
        let (status, again) = c
            .post("/modules", serde_json::to_value(&package).unwrap(), &[])
            .await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["moduleHash"], hash.to_hex());
        assert_eq!(again["created"], false);
        assert_eq!(notary_pack::publish(&c.url, &package).await.unwrap(), hash);

        let body = verify_by_hash(&c, &hash.to_hex()).await;
        assert_eq!(body["result"], "VALID", "{file}: {body}");
        assert_eq!(body["actualHash"], EXAMPLE_HASH);
        assert_eq!(body["moduleHash"], hash.to_hex());
        assert_eq!(body["language"], language);
        assert_eq!(
            body["codeHash"],
            hash.to_hex(),
            "the code hash is the module's"
        );
        assert_eq!(
            body["output"],
            "bytes=46 lines=0 fnv1a64=d9f6cd965523e403\n"
        );
        assert_eq!(body["fuelUsed"], fuel, "{file}");

        let (status, shown) = c.get(&format!("/modules/{hash}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            shown["manifest"],
            serde_json::to_value(&package.manifest).unwrap()
        );
    }

    let (status, list) = c.get("/modules").await;
    assert_eq!(status, 200);
    assert_eq!(list["modules"].as_array().unwrap().len(), 3, "{list}");

    let (status, info) = c.get("/info").await;
    assert_eq!(status, 200);
    let containers = info["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 3, "{info}");
    assert_eq!(containers[0]["id"], "fnv-js@0.1.0");
    assert_eq!(containers[0]["external"], true);
    assert_eq!(
        containers[0]["image"],
        pack("guest-sdk/examples/js/fnv.js")
            .manifest
            .sha256
            .to_hex()
    );
    assert!(containers[0]["description"]
        .as_str()
        .unwrap()
        .contains("FNV-1a"));
    assert_eq!(info["pending"], json!({"offchain": 0, "onchain": 0}));
    c.shutdown().await;
}

/// The `notary-pack` binary end to end: build, publish (prints the hash), verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notary_pack_cli_builds_and_publishes() {
    let c = Coordinator::embedded(1).await;
    let bin = worker_bin().with_file_name("notary-pack");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fnv-as.notary.json");
    let built = Command::new(&bin)
        .arg("build")
        .arg(repo().join("guest-sdk/examples/assemblyscript/fnv.wasm"))
        .args([
            "--out",
            out.to_str().unwrap(),
            "--name",
            "fnv-as",
            "--source-language",
            "assemblyscript",
        ])
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let hash = String::from_utf8(built.stdout).unwrap().trim().to_string();
    let url = c.url.clone();
    let out2 = out.clone();
    let published = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(["publish", "--url", &url, out2.to_str().unwrap()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(published.status.success(), "{published:?}");
    assert_eq!(String::from_utf8(published.stdout).unwrap().trim(), hash);
    let body = verify_by_hash(&c, &hash).await;
    assert_eq!(body["result"], "VALID", "{body}");
    let (_, shown) = c.get(&format!("/modules/{hash}")).await;
    assert_eq!(shown["manifest"]["name"], "fnv-as");
    assert_eq!(shown["manifest"]["sourceLanguage"], "assemblyscript");
    c.shutdown().await;
}

/// In a fleet the registry is in Redis: a module published on one coordinator runs through
/// another, on a `notary-worker` process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_coordinators_share_the_registry() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let a = Coordinator::start(config.clone()).await;
    let b = Coordinator::start(config).await;
    let _worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &key);

    let package = pack("guest-sdk/examples/c/fnv.wasm");
    let hash = notary_pack::publish(&a.url, &package).await.unwrap();
    let (status, again) = b
        .post("/modules", serde_json::to_value(&package).unwrap(), &[])
        .await;
    assert_eq!((status, again["created"].clone()), (200, json!(false)));
    let body = verify_by_hash(&b, &hash.to_hex()).await;
    assert_eq!(body["result"], "VALID", "{body}");
    let (_, info) = a.get("/info").await;
    assert_eq!(info["containers"][0]["image"], hash.to_hex());
    a.shutdown().await;
    b.shutdown().await;
}

fn package_of(wat: &str) -> Value {
    let bytes = wat::parse_str(wat).unwrap();
    let hash = sha256_hex(&bytes);
    json!({
        "manifest": {"name": "m", "version": "1", "sha256": hash, "language": "wasm", "size": bytes.len()},
        "module": base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_refuses_bad_packages_precisely() {
    let mut config = test_config(None, 1, vec![]);
    config.max_module_bytes = 20_000;
    let c = Coordinator::start(config).await;

    let cases: Vec<(Value, u16, &str)> = vec![
        (
            package_of(
                r#"(module (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))"#,
            ),
            400,
            r#"import "wasi_snapshot_preview1"."sock_accept" is not allowed"#,
        ),
        (
            package_of(r#"(module (memory 1 1 shared) (func (export "_start")))"#),
            400,
            "shared memory is not allowed",
        ),
        (
            package_of(
                r#"(module (memory 1) (func (export "_start") (drop (i32.atomic.load (i32.const 0)))))"#,
            ),
            400,
            "threads support is not enabled",
        ),
        (
            serde_json::to_value(pack("guest-sdk/examples/c/fnv.wasm")).unwrap(),
            413,
            "the limit is 20000 bytes",
        ),
        (
            json!({"manifest": {"name": "m", "version": "1", "sha256": sha256_hex(b"\0asm\x01\0\0\0\x05"), "language": "wasm", "size": 9},
                   "module": base64::engine::general_purpose::STANDARD.encode(b"\0asm\x01\0\0\0\x05")}),
            400,
            "malformed module at offset",
        ),
        (
            {
                let mut p = package_of(r#"(module (func (export "_start")))"#);
                p["manifest"]["sha256"] = json!("00".repeat(32));
                p
            },
            400,
            "the module bytes hash to",
        ),
        (
            {
                let mut p = package_of(r#"(module (func (export "_start")))"#);
                p["manifest"]["name"] = json!("no spaces please");
                p
            },
            400,
            "manifest.name",
        ),
        (json!({"manifest": {}}), 400, "not a module package"),
    ];
    // A JavaScript module travels inside each job: inline code's 100 KB limit applies.
    let mut config = test_config(None, 1, vec![]);
    config.max_module_bytes = 1 << 20;
    let big = Coordinator::start(config).await;
    let source = format!("console.log({:?});", "x".repeat(100 * 1024));
    let js = json!({
        "manifest": {"name": "big", "version": "1", "sha256": sha256_hex(source.as_bytes()),
                     "language": "javascript", "size": source.len()},
        "module": base64::engine::general_purpose::STANDARD.encode(source.as_bytes()),
    });
    let (got, body) = big.post("/modules", js, &[]).await;
    assert_eq!(got, 413, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("a javascript module is"),
        "{body}"
    );
    big.shutdown().await;
    for (package, status, needle) in cases {
        let (got, body) = c.post("/modules", package, &[]).await;
        assert_eq!(got, status, "{needle}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{needle}: {body}"
        );
    }
    // A body past the package limit is refused before it is read whole (connection: close,
    // as the server closes a connection whose body it did not read).
    let resp = client()
        .post(format!("{}/modules", c.url))
        .header("content-type", "application/json")
        .header("connection", "close")
        .body(vec![b' '; 200_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("package exceeds"),
        "{body}"
    );

    let (status, body) = c.get("/modules/xyz").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = c.get(&format!("/modules/{}", "ab".repeat(32))).await;
    assert_eq!((status, body["error"].clone()), (404, json!("Not Found")));
    let (status, body) = c
        .verify(json!({"taskType": "code-execution", "moduleHash": "ab".repeat(32), "expectedHash": HELLO_HASH}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no module with hash"),
        "{body}"
    );
    let (_, list) = c.get("/modules").await;
    assert_eq!(list["modules"], json!([]));
    c.shutdown().await;
}

/// Waits for a job submitted with `Prefer: respond-async`.
pub async fn submit_and_wait(c: &Coordinator, body: Value) -> Value {
    let (status, resp) = c
        .post("/verify", body, &[("prefer", "respond-async")])
        .await;
    assert_eq!(status, 202, "{resp}");
    c.wait_final(resp["jobId"].as_str().unwrap(), Duration::from_secs(120))
        .await
}

/// A package larger than `POST /verify`'s 1 MB body limit (the 1 MB QuickJS runtime, 1.4 MB in
/// base64) is within the registry's own limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_above_the_verify_body_limit_is_accepted() {
    let c = Coordinator::embedded(1).await;
    let package = pack("guest-sdk/js-runtime/notary-js.wasm");
    assert!(package.module.len() > 1024 * 1024);
    let hash = notary_pack::publish(&c.url, &package).await.unwrap();
    let (status, shown) = c.get(&format!("/modules/{hash}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["manifest"]["size"], package.manifest.size);
    c.shutdown().await;
}

/// A job for a registered wasm module carries the module's hash, not its bytes: the worker
/// reads them from the registry. A registered JavaScript module travels as source.
#[tokio::test]
async fn a_job_names_a_registered_wasm_module_by_hash_only() {
    use notary_coordinator::api::request::{parse_verify_request, JobDefaults};
    use notary_coordinator::db::{Db, Durability};
    use notary_coordinator::modules::{
        admit_package, ModuleStore, Put, RegisteredModule, SqliteModules,
    };
    use notary_protocol::{AttestationDomain, ProgramSpec};

    let db = std::sync::Arc::new(Db::open(None, Durability::Process).unwrap());
    let modules = SqliteModules::open(db).await.unwrap();
    let limits = ValidationLimits::default();
    let mut hashes = Vec::new();
    for file in [
        "guest-sdk/examples/c/fnv.wasm",
        "guest-sdk/examples/js/fnv.js",
    ] {
        let mut package = pack(file);
        package.manifest.fuel = Some(5_000);
        let body = serde_json::to_vec(&package).unwrap();
        let (manifest, bytes) = admit_package(&body, &limits, 1_000_000).unwrap();
        hashes.push(manifest.sha256);
        let registered = RegisteredModule {
            manifest,
            published_at_ms: 0,
        };
        assert_eq!(
            modules.put(&registered, &bytes).await.unwrap(),
            Put::Created
        );
        assert_eq!(
            modules.put(&registered, &bytes).await.unwrap(),
            Put::Exists,
            "idempotent"
        );
    }
    let defaults = JobDefaults {
        fuel: 1_000_000,
        domain: AttestationDomain::default(),
        limits: &limits,
        modules: &modules,
        webhooks: None,
    };
    let job = |hash: String| {
        serde_json::to_vec(&json!({"taskType": "code-execution", "moduleHash": hash, "expectedHash": EXAMPLE_HASH}))
            .unwrap()
    };
    let record = parse_verify_request(&job(hashes[0].to_hex()), &defaults)
        .await
        .unwrap()
        .record;
    assert_eq!(record.spec.program, ProgramSpec::Module { hash: hashes[0] });
    assert_eq!(
        record.spec.fuel, 5_000,
        "the manifest's fuel budget applies"
    );
    assert_eq!(record.spec.code_hash, hashes[0]);
    assert!(serde_json::to_string(&record.spec).unwrap().len() < 1024);

    let record = parse_verify_request(&job(hashes[1].to_hex()), &defaults)
        .await
        .unwrap()
        .record;
    let ProgramSpec::Javascript { source } = &record.spec.program else {
        panic!("a JavaScript module runs as source");
    };
    assert!(source.contains("fnv1a64"));
}

/// `GET /info` counts jobs waiting for a worker as pending off-chain jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_counts_pending_jobs() {
    let redis = RedisServer::start();
    let c = Coordinator::start(test_config(Some(redis.url()), 0, vec![])).await;
    for _ in 0..3 {
        let (status, body) = c
            .post("/verify", hello(HELLO_HASH), &[("prefer", "respond-async")])
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let (status, info) = c.get("/info").await;
    assert_eq!(status, 200);
    assert_eq!(
        info,
        json!({"containers": [], "pending": {"offchain": 3, "onchain": 0}})
    );
    c.shutdown().await;
}

/// Issue 22: a `name@version` belongs to the first module published under it. Other bytes
/// under it get 409 naming the owner; `/info` keeps one container per id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_and_version_belong_to_their_first_module() {
    let c = Coordinator::embedded(1).await;
    let first = package_of(r#"(module (memory (export "memory") 1) (func (export "_start")))"#);
    let (status, body) = c.post("/modules", first.clone(), &[]).await;
    assert_eq!(status, 201, "{body}");
    let owner = body["moduleHash"].clone();

    let other = package_of(
        r#"(module (memory (export "memory") 1) (func (export "_start") (drop (i32.const 1))))"#,
    );
    let (status, body) = c.post("/modules", other.clone(), &[]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "Conflict");
    assert_eq!(body["params"]["moduleHash"], owner, "{body}");
    assert_eq!(body["params"]["name"], "m");
    let (status, _) = c
        .get(&format!(
            "/modules/{}",
            other["manifest"]["sha256"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 404, "nothing stored");

    // The owner may publish again (a no-op); the other bytes are welcome as a new version.
    let (status, _) = c.post("/modules", first, &[]).await;
    assert_eq!(status, 200);
    let mut renamed = other;
    renamed["manifest"]["version"] = json!("2");
    let (status, body) = c.post("/modules", renamed, &[]).await;
    assert_eq!(status, 201, "{body}");

    let (_, info) = c.get("/info").await;
    let ids: Vec<&str> = info["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["m@1", "m@2"]);
    c.shutdown().await;
}
