//! The runtime id, the profile text, and the guarantees the validator relies on.

use std::collections::BTreeMap;

use notary_worker::sandbox::{
    profile_text, RuntimeId, Sandbox, SandboxConfig, ALLOWED_WASI_FUNCTIONS,
    REFUSED_WASI_FUNCTIONS, WASI_MODULE,
};
use sha2::{Digest, Sha256};

use crate::support::*;

/// sha256 of the profile text of the default configuration. A change here changes every
/// worker's runtime id: it must be deliberate.
const DEFAULT_CONFIG_HASH: &str =
    "0afb764d71d14998cc73d92024fcf8b154bc8a2195ed3cd087fae47e34d12cfa";

#[test]
fn runtime_id_covers_version_profile_and_js_runtime() {
    let config = SandboxConfig::new(wasm(ECHO));
    let id = RuntimeId::new(&config);
    assert_eq!(id.wasmtime_version, "48.0.8");
    assert_eq!(
        id.config_hash,
        <[u8; 32]>::from(Sha256::digest(profile_text(&config).as_bytes()))
    );
    assert_eq!(hex::encode(id.config_hash), DEFAULT_CONFIG_HASH);
    assert_eq!(
        id.js_runtime_hash,
        <[u8; 32]>::from(Sha256::digest(&config.js_runtime_wasm))
    );
    let mut h = Sha256::new();
    h.update(b"48.0.8");
    h.update(id.config_hash);
    h.update(id.js_runtime_hash);
    assert_eq!(id.id, <[u8; 32]>::from(h.finalize()));

    // Output-relevant settings change the hash; capacity settings do not.
    let mut other = config.clone();
    other.stdout_limit_bytes += 1;
    assert_ne!(RuntimeId::new(&other).config_hash, id.config_hash);
    let mut other = config.clone();
    other.max_wasm_stack_bytes *= 2;
    assert_ne!(RuntimeId::new(&other).config_hash, id.config_hash);
    let mut other = config.clone();
    other.max_concurrent_instances += 1;
    other.module_cache_dir = Some("/tmp/elsewhere".into());
    assert_eq!(RuntimeId::new(&other).config_hash, id.config_hash);
    let mut other = config;
    other.js_runtime_wasm = wasm(HELLO);
    assert_ne!(RuntimeId::new(&other).id, id.id);
}

#[test]
fn print_profile_text() {
    let config = SandboxConfig::new(wasm(ECHO));
    eprintln!("PROFILE\n{}", profile_text(&config));
    eprintln!(
        "CONFIG HASH {}",
        hex::encode(RuntimeId::new(&config).config_hash)
    );
}

#[test]
fn sandbox_is_shareable_between_job_slots() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sandbox>();
}

#[test]
fn allow_list_matches_what_wasmtime_wasi_defines() {
    // wasmtime-wasi's own linker is the ground truth for names and signatures.
    let engine = wasmtime::Engine::default();
    let mut linker: wasmtime::Linker<wasmtime_wasi::p1::WasiP1Ctx> = wasmtime::Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |ctx| ctx).unwrap();
    let mut store = wasmtime::Store::new(&engine, wasmtime_wasi::WasiCtxBuilder::new().build_p1());

    let letters = |types: &mut dyn Iterator<Item = wasmtime::ValType>| -> String {
        types
            .map(|t| match t {
                wasmtime::ValType::I32 => 'i',
                wasmtime::ValType::I64 => 'I',
                other => panic!("unexpected WASI type {other:?}"),
            })
            .collect()
    };
    let mut defined = BTreeMap::new();
    let externs: Vec<_> = linker
        .iter(&mut store)
        .map(|(m, n, e)| (m.to_string(), n.to_string(), e))
        .collect();
    for (module, name, item) in externs {
        assert_eq!(module, WASI_MODULE);
        let ty = item.into_func().unwrap().ty(&store);
        defined.insert(
            name,
            (letters(&mut ty.params()), letters(&mut ty.results())),
        );
    }

    let mut ours = BTreeMap::new();
    for f in ALLOWED_WASI_FUNCTIONS {
        ours.insert(
            f.name.to_string(),
            (f.params.to_string(), f.results.to_string()),
        );
    }
    for name in REFUSED_WASI_FUNCTIONS {
        let refused = defined.remove(*name);
        assert!(refused.is_some(), "{name} is not a WASI function");
    }
    assert_eq!(ours, defined);
}
