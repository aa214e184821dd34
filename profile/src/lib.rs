//! # notary-profile
//!
//! The determinism profile a guest module must fit, checked without an engine: pure
//! `wasmparser`, so tools that only package modules (`notary-pack`) validate exactly as the
//! workers do without linking wasmtime.
//!
//! - [`validate_module`]: admission checks (size, imports, memories, tables, wasm features,
//!   `_start`), each refusal a [`ValidationError`] that names the import, section or
//!   instruction class at fault.
//! - [`ALLOWED_WASI_FUNCTIONS`]: the WASI preview1 functions a guest may import, with their
//!   signatures (the worker's tests check this table against wasmtime-wasi's own linker).
//! - The default limits ([`DEFAULT_MAX_MODULE_BYTES`], [`DEFAULT_MEMORY_LIMIT_BYTES`],
//!   [`TABLE_ELEMENTS_CAP`]) that the worker's sandbox configuration starts from.
//!
//! There is one implementation: the worker re-exports these items from its `sandbox` module,
//! and its engine is configured from [`PROFILE_FEATURES`], so "valid here" and "compiles in
//! the sandbox" cannot disagree.

mod validate;
mod wasi_imports;

pub use validate::{
    validate_module, wat_to_wasm, ModuleInfo, ValidationError, ValidationLimits, MAX_MEMORIES,
    MAX_TABLES, PROFILE_FEATURES, WASM_PAGE_BYTES,
};
pub use wasi_imports::{
    allowed_wasi_function, WasiFunction, ALLOWED_WASI_FUNCTIONS, REFUSED_WASI_FUNCTIONS,
    WASI_MODULE,
};

/// Default linear-memory limit: 256 MiB.
pub const DEFAULT_MEMORY_LIMIT_BYTES: usize = 256 << 20;

/// Default module size limit for admission: 16 MiB (the QuickJS runtime is ~1 MiB).
///
/// Threat: compile time and compiled-code memory grow with module size.
pub const DEFAULT_MAX_MODULE_BYTES: usize = 16 << 20;

/// Cap on elements in any table (the pooling allocator reserves this per slot).
///
/// Threat: tables are host memory outside the linear-memory limit; a module declaring a
/// huge table would otherwise make the host allocate it.
pub const TABLE_ELEMENTS_CAP: usize = 65_536;
