//! The compiled-module cache: memory hits, disk hits across sandboxes, bad artifacts.

use std::sync::Arc;
use std::time::Instant;

use notary_worker::sandbox::{GuestStatus, Sandbox, SandboxConfig};

use crate::support::*;

fn cached_config(dir: &std::path::Path) -> (SandboxConfig, &'static str) {
    let mut config = test_config();
    config.module_cache_dir = Some(dir.to_path_buf());
    match js_runtime() {
        Some(runtime) => {
            config.js_runtime_wasm = runtime;
            (config, "QuickJS runtime")
        }
        None => (config, "echo stand-in runtime"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sandbox_loads_from_disk_without_compiling() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("modules");
    let (config, runtime) = cached_config(&root);
    let hello = wasm(HELLO);

    let started = Instant::now();
    let first = Sandbox::new(config.clone()).unwrap();
    let cold = started.elapsed();
    let stats = first.cache_stats();
    assert_eq!(
        (stats.compiled, stats.disk_hits, stats.disk_writes),
        (1, 0, 1)
    );
    assert_eq!(run(&first, &hello).await.stdout, b"hello world\n");
    let stats = first.cache_stats();
    assert_eq!((stats.compiled, stats.disk_writes), (2, 2));
    drop(first);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        let engine_dir = std::fs::read_dir(&root)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(mode(&engine_dir), 0o700);
        assert_eq!(std::fs::read_dir(&engine_dir).unwrap().count(), 2);
    }

    let started = Instant::now();
    let second = Sandbox::new(config).unwrap();
    let warm = started.elapsed();
    let stats = second.cache_stats();
    assert_eq!(
        (stats.compiled, stats.disk_hits),
        (0, 1),
        "runtime came from disk"
    );
    let out = run(&second, &hello).await;
    assert_eq!(out.status, GuestStatus::Exited(0));
    assert_eq!(out.stdout, b"hello world\n");
    run(&second, &hello).await;
    let stats = second.cache_stats();
    assert_eq!(
        (stats.compiled, stats.disk_hits, stats.memory_hits),
        (0, 2, 1)
    );

    eprintln!(
        "MEASURE Sandbox::new with {runtime}: {cold:?} compiling, {warm:?} from the disk cache"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_artifact_is_replaced() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = test_config();
    config.module_cache_dir = Some(temp.path().to_path_buf());
    drop(Sandbox::new(config.clone()).unwrap());

    // Corrupt every artifact (as if written by another engine build).
    let engine_dir = std::fs::read_dir(temp.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for file in std::fs::read_dir(&engine_dir).unwrap() {
        std::fs::write(file.unwrap().path(), b"not a compiled module").unwrap();
    }

    let sandbox = Sandbox::new(config.clone()).unwrap();
    let stats = sandbox.cache_stats();
    assert_eq!(
        (stats.disk_errors, stats.compiled, stats.disk_writes),
        (1, 1, 1)
    );
    let out = sandbox.run(js_request("x")).await.unwrap();
    assert_eq!(out.status, GuestStatus::Exited(0));

    // And the replacement is good.
    let again = Sandbox::new(config).unwrap();
    assert_eq!(again.cache_stats().disk_hits, 1);
}

fn js_request(source: &str) -> notary_worker::sandbox::RunRequest {
    notary_worker::sandbox::RunRequest {
        program: notary_worker::sandbox::Program::JavaScript {
            source: source.to_string(),
        },
        input: Vec::new(),
        fuel: 1_000_000_000,
        timeout: std::time::Duration::from_secs(10),
        seed: [0; 32],
        stdout_tap: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_cache_is_bounded() {
    let sandbox = Sandbox::new(test_config()).unwrap();
    // 257 distinct modules plus the runtime: two over the 256-entry bound.
    for i in 0..257 {
        let module: Arc<[u8]> = wasm(&format!(
            r#"(module (global i32 (i32.const {i})) (func (export "_start")))"#
        ));
        assert_eq!(run(&sandbox, &module).await.status, GuestStatus::Exited(0));
    }
    let stats = sandbox.cache_stats();
    assert_eq!(stats.compiled, 258);
    assert_eq!(stats.evictions, 2);
}
