//! `notary-pack build` through the shared validator: every example and the JavaScript
//! runtime are accepted; each kind of forbidden module is refused with a message that names
//! what is wrong.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use notary_pack::{build_package, read_package, write_package, PackError, PackOptions};
use notary_profile::ValidationLimits;
use notary_protocol::{sha256, ModuleLanguage};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pack(path: &Path) -> Result<notary_protocol::ModulePackage, PackError> {
    build_package(path, &PackOptions::default(), &ValidationLimits::default())
}

fn refusal(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    match pack(&path) {
        Err(e @ PackError::Rejected { .. }) => e.to_string(),
        other => panic!("{name} must be rejected by the validator, got {other:?}"),
    }
}

#[test]
fn accepts_the_js_runtime_and_every_example() {
    let runtime = pack(&repo().join("guest-sdk/js-runtime/notary-js.wasm")).unwrap();
    assert_eq!(runtime.manifest.language, ModuleLanguage::Wasm);
    let pinned =
        std::fs::read_to_string(repo().join("guest-sdk/js-runtime/notary-js.wasm.sha256")).unwrap();
    assert!(pinned.starts_with(&runtime.manifest.sha256.to_hex()));

    for (file, language) in [
        ("guest-sdk/examples/js/fnv.js", ModuleLanguage::Javascript),
        ("guest-sdk/examples/c/fnv.wasm", ModuleLanguage::Wasm),
        (
            "guest-sdk/examples/assemblyscript/fnv.wasm",
            ModuleLanguage::Wasm,
        ),
    ] {
        let package = pack(&repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(package.manifest.language, language, "{file}");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&package.module)
            .unwrap();
        assert_eq!(package.manifest.sha256, sha256(&bytes));
        assert_eq!(package.manifest.size, bytes.len() as u64);
        assert_eq!(package.manifest.name, "fnv");
    }
}

#[test]
fn wat_is_compiled_and_the_package_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("hello.wat");
    std::fs::write(
        &wat,
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    let options = PackOptions {
        name: Some("hello".into()),
        version: Some("1.2.3".into()),
        description: "says hi".into(),
        fuel: Some(1_000_000),
        ..PackOptions::default()
    };
    let package = build_package(&wat, &options, &ValidationLimits::default()).unwrap();
    assert_eq!(package.manifest.source_language.as_deref(), Some("wat"));
    assert_eq!(package.manifest.fuel, Some(1_000_000));
    let out = dir.path().join("hello.notary.json");
    write_package(&package, &out).unwrap();
    assert_eq!(read_package(&out).unwrap(), package);

    // A package whose bytes were changed after packing is refused.
    let mut tampered = package.clone();
    tampered.module = base64::engine::general_purpose::STANDARD.encode(b"\0asm\x01\0\0\0");
    write_package(&tampered, &out).unwrap();
    let err = read_package(&out).unwrap_err().to_string();
    assert!(err.contains("the manifest says"), "{err}");
}

#[test]
fn refuses_a_forbidden_import_naming_it() {
    let wat = br#"(module
  (import "wasi_snapshot_preview1" "sock_send" (func (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))"#;
    let err = refusal("net.wat", wat);
    assert!(
        err.contains(r#"import "wasi_snapshot_preview1"."sock_send" is not allowed"#)
            && err.contains("no network"),
        "{err}"
    );
    let wat = br#"(module (import "env" "now" (func)) (func (export "_start")))"#;
    let err = refusal("env.wat", wat);
    assert!(
        err.contains(r#"import "env"."now" is not allowed"#),
        "{err}"
    );
}

#[test]
fn refuses_threads_and_shared_memory() {
    let err = refusal(
        "shared.wat",
        br#"(module (memory 1 1 shared) (func (export "_start")))"#,
    );
    assert!(err.contains("shared memory is not allowed"), "{err}");

    // An atomic instruction without shared memory: the feature (threads) is off, and the
    // validator names the instruction class.
    let err = refusal(
        "atomic.wat",
        br#"(module (memory 1) (func (export "_start")
              (drop (i32.atomic.load (i32.const 0)))))"#,
    );
    assert!(err.contains("threads support is not enabled"), "{err}");
}

#[test]
fn refuses_a_module_over_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.wasm");
    std::fs::copy(repo().join("guest-sdk/examples/c/fnv.wasm"), &path).unwrap();
    let size = std::fs::metadata(&path).unwrap().len() as usize;
    let limits = ValidationLimits {
        max_module_bytes: size - 1,
        ..ValidationLimits::default()
    };
    let err = build_package(&path, &PackOptions::default(), &limits)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "module is {size} bytes; the limit is {} bytes",
            size - 1
        )),
        "{err}"
    );
}

#[test]
fn refuses_malformed_bytes_with_the_offset() {
    let err = refusal("junk.wasm", b"\0asm\x01\0\0\0\x01\xff\xff");
    assert!(err.contains("malformed module at offset 0x"), "{err}");
    let err = refusal("text.wasm", b"not wasm at all");
    assert!(err.contains("malformed module"), "{err}");
}

#[test]
fn the_cli_builds_a_package_and_explains_refusals() {
    let bin = env!("CARGO_BIN_EXE_notary-pack");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fnv.notary.json");
    let output = Command::new(bin)
        .arg("build")
        .arg(repo().join("guest-sdk/examples/c/fnv.wasm"))
        .arg("--out")
        .arg(&out)
        .args([
            "--source-language",
            "c",
            "--description",
            "FNV-1a of the input",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let package = read_package(&out).unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        package.manifest.sha256.to_hex()
    );
    assert_eq!(package.manifest.source_language.as_deref(), Some("c"));

    let bad = dir.path().join("bad.wat");
    std::fs::write(
        &bad,
        r#"(module (memory 1 1 shared) (func (export "_start")))"#,
    )
    .unwrap();
    let output = Command::new(bin)
        .arg("build")
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("bad.json"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("shared memory is not allowed"), "{stderr}");
}

#[test]
fn refusals_name_the_function_or_section() {
    // The atomic load is in the second function of the index space (one import first).
    let err = refusal(
        "atomic2.wat",
        br#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (i32.atomic.load (i32.const 0)))))"#,
    );
    assert!(
        err.contains(" in function 1 (code section): threads support is not enabled"),
        "{err}"
    );
    // A type section whose only function type has a parameter of no known type (0x40).
    let err = refusal("types.wasm", b"\0asm\x01\0\0\0\x01\x05\x01\x60\x01\x40\x00");
    assert!(err.contains(" in the type section: "), "{err}");
}
