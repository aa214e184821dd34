//! Admission checks: what is accepted, and the exact message for each refusal.

use notary_worker::sandbox::{
    validate_module, wat_to_wasm, ValidationError, ValidationLimits, WASI_MODULE,
};
use sha2::{Digest, Sha256};

use crate::support::*;

fn check(text: &str) -> Result<notary_worker::sandbox::ModuleInfo, ValidationError> {
    validate_module(&wat_to_wasm(text).unwrap(), &ValidationLimits::default())
}

fn refusal(text: &str) -> String {
    check(text).expect_err("module must be refused").to_string()
}

#[test]
fn accepts_a_minimal_command_and_reports_it() {
    let bytes = wat_to_wasm(HELLO).unwrap();
    let info = validate_module(&bytes, &ValidationLimits::default()).unwrap();
    assert_eq!(info.size, bytes.len());
    assert_eq!(info.sha256, <[u8; 32]>::from(Sha256::digest(&bytes)));
    assert_eq!(info.imports, vec!["fd_write".to_string()]);
    assert_eq!(info.initial_memory_bytes, Some(65_536));

    let info = check(r#"(module (func (export "_start")))"#).unwrap();
    assert!(info.imports.is_empty());
    assert_eq!(info.initial_memory_bytes, None);
}

#[test]
fn accepts_the_test_guests_and_simd() {
    for guest in [
        ECHO,
        INFINITE_LOOP,
        SLEEP_ONE_HOUR,
        EXIT_3,
        RECURSE,
        RANDOM_32,
    ] {
        check(guest).unwrap();
    }
    check(
        r#"(module (func (export "_start") (drop (i32x4.add (v128.const i64x2 1 2) (v128.const i64x2 3 4)))))"#,
    )
    .unwrap();
}

#[test]
fn accepts_the_javascript_runtime_if_present() {
    let Some(runtime) = js_runtime() else {
        eprintln!("skipping: {} not built yet", js_runtime_path().display());
        return;
    };
    let started = std::time::Instant::now();
    let info = validate_module(&runtime, &ValidationLimits::default()).unwrap();
    eprintln!(
        "MEASURE validate_module on the {} byte JS runtime: {:?}; imports {:?}",
        info.size,
        started.elapsed(),
        info.imports
    );
}

#[test]
fn refuses_imports_outside_wasi() {
    assert_eq!(
        refusal(r#"(module (import "env" "foo" (func)) (func (export "_start")))"#),
        r#"import "env"."foo" is not allowed: only wasi_snapshot_preview1 functions are"#
    );
}

#[test]
fn refuses_sockets() {
    assert_eq!(
        refusal(
            r#"(module
                 (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
                 (func (export "_start")))"#
        ),
        r#"import "wasi_snapshot_preview1"."sock_accept" is not allowed: sockets are not available in the sandbox (no network)"#
    );
}

#[test]
fn refuses_unknown_wasi_names_and_wrong_signatures() {
    assert_eq!(
        refusal(
            r#"(module (import "wasi_snapshot_preview1" "fd_explode" (func)) (func (export "_start")))"#
        ),
        r#"import "wasi_snapshot_preview1"."fd_explode" is not allowed: wasi_snapshot_preview1 has no function named "fd_explode""#
    );
    assert_eq!(
        refusal(
            r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (func (export "_start")))"#
        ),
        r#"import "wasi_snapshot_preview1"."fd_write" is not allowed: its type is [i32] -> [] but WASI defines [i32 i32 i32 i32] -> [i32]"#
    );
}

#[test]
fn refuses_non_function_imports() {
    assert_eq!(
        refusal(
            r#"(module (import "wasi_snapshot_preview1" "memory" (memory 1)) (func (export "_start")))"#
        ),
        r#"import "wasi_snapshot_preview1"."memory" is not allowed: only functions may be imported; this is a memory (the module must define its own)"#
    );
    assert!(
        refusal(r#"(module (import "env" "memory" (memory 1)) (func (export "_start")))"#)
            .starts_with(r#"import "env"."memory" is not allowed"#)
    );
    assert!(refusal(
        r#"(module (import "wasi_snapshot_preview1" "g" (global i32)) (func (export "_start")))"#
    )
    .ends_with("this is a global"));
}

#[test]
fn refuses_shared_memory_and_atomics() {
    assert_eq!(
        refusal(r#"(module (memory 1 1 shared) (func (export "_start")))"#),
        "shared memory is not allowed: threads are disabled in the determinism profile"
    );
    // An atomic instruction on an ordinary memory: caught by full validation.
    let message = refusal(
        r#"(module (memory 1) (func (export "_start") (drop (i32.atomic.load (i32.const 0)))))"#,
    );
    assert!(
        message.starts_with("invalid module at offset 0x"),
        "{message}"
    );
    assert!(
        message.contains("threads support is not enabled"),
        "{message}"
    );
}

#[test]
fn refuses_memory64_and_two_memories() {
    assert_eq!(
        refusal(r#"(module (memory i64 1) (func (export "_start")))"#),
        "64-bit memory is not allowed: memory64 is disabled in the determinism profile"
    );
    assert_eq!(
        refusal(r#"(module (memory 1) (memory 1) (func (export "_start")))"#),
        "module defines 2 or more memories; at most 1 is allowed (multi-memory is disabled)"
    );
}

#[test]
fn refuses_relaxed_simd() {
    let message = refusal(
        r#"(module (func (export "_start")
             (drop (i32x4.relaxed_trunc_f32x4_s (v128.const i64x2 0 0)))))"#,
    );
    assert!(
        message.contains("relaxed SIMD support is not enabled"),
        "{message}"
    );
}

#[test]
fn refuses_wasi_imports_without_a_memory_export() {
    assert_eq!(
        refusal(
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                 (memory 1) (func (export "_start")))"#
        ),
        r#"module imports WASI functions but does not export its memory as "memory""#
    );
}

#[test]
fn refuses_a_missing_or_wrong_start() {
    assert_eq!(
        refusal(r#"(module (func (export "main")))"#),
        r#"module must export a function named "_start" (a WASI command)"#
    );
    assert_eq!(
        refusal(r#"(module (func (export "_start") (param i32)))"#),
        r#"export "_start" must have type [] -> [], found [i32] -> []"#
    );
    assert_eq!(
        refusal(r#"(module (memory (export "_start") 1))"#),
        r#"export "_start" must be a function, found a memory"#
    );
}

#[test]
fn refuses_garbage_with_an_offset() {
    let err =
        validate_module(b"\0asm\x01\0\0\0\x01\xff", &ValidationLimits::default()).unwrap_err();
    assert!(matches!(err, ValidationError::Malformed { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("malformed module at offset 0x"),
        "{err}"
    );

    let err = validate_module(b"hello", &ValidationLimits::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("malformed module at offset 0x0: magic header not detected"),
        "{err}"
    );
}

#[test]
fn refuses_components() {
    let err = validate_module(b"\0asm\x0d\0\x01\0", &ValidationLimits::default()).unwrap_err();
    assert_eq!(err, ValidationError::Component);
}

#[test]
fn refuses_a_module_over_the_size_limit() {
    let bytes = wat_to_wasm(HELLO).unwrap();
    let limits = ValidationLimits {
        max_module_bytes: 10,
        ..ValidationLimits::default()
    };
    assert_eq!(
        validate_module(&bytes, &limits).unwrap_err().to_string(),
        format!("module is {} bytes; the limit is 10 bytes", bytes.len())
    );
}

#[test]
fn refuses_huge_initial_memory_and_tables() {
    assert_eq!(
        refusal(r#"(module (memory 5000) (func (export "_start")))"#),
        "initial memory is 327680000 bytes (5000 pages); the limit is 268435456 bytes"
    );
    assert_eq!(
        refusal(r#"(module (table 100000 funcref) (func (export "_start")))"#),
        "table initial size is 100000 elements; the limit is 65536"
    );
    assert_eq!(
        refusal(r#"(module (table 1 funcref) (table 1 funcref) (func (export "_start")))"#),
        "module defines 2 or more tables; at most 1 is allowed"
    );
}

#[test]
fn wat_errors_are_reported() {
    let err = wat_to_wasm("(module (func").unwrap_err();
    assert!(
        err.to_string().starts_with("invalid WebAssembly text:"),
        "{err}"
    );
    assert_eq!(WASI_MODULE, "wasi_snapshot_preview1");
}
