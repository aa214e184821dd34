//! The JavaScript runtime module every worker runs JavaScript jobs with.
//!
//! It is QuickJS-ng built for WASI by `guest-sdk/js-runtime/build.sh` (reproducibly: CI
//! rebuilds it and checks the committed sha256). Embedding it makes the runtime part of the
//! worker binary, so two workers of the same build always run byte-identical JavaScript
//! engines, and its hash goes into every attestation's `runtimeId`.

/// The QuickJS-ng WASI command module.
pub static JS_RUNTIME_WASM: &[u8] = include_bytes!("../../guest-sdk/js-runtime/notary-js.wasm");
