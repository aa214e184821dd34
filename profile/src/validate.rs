//! Admission checks for guest modules: pure `wasmparser`, no engine.
//!
//! The coordinator calls [`validate_module`] before it queues a job (it must be cheap and its
//! messages are shown to the client), and the sandbox calls it again before compiling a module
//! it has not seen: a worker does not trust that its coordinator had the same limits.
//!
//! The wasm feature set accepted here is [`PROFILE_FEATURES`], and the engine is configured
//! from that same constant (see the worker's `sandbox/engine.rs`), so "valid here" and "compiles in the sandbox"
//! cannot disagree. `wasmparser` is the same crate instance wasmtime uses, so validation rules
//! match too: this is checked at compile time, because `engine.rs` hands [`PROFILE_FEATURES`]
//! (our `wasmparser::WasmFeatures`) to `wasmtime::Config::wasm_features`, which only accepts
//! wasmtime's own `wasmparser` type.

use sha2::{Digest, Sha256};
use wasmparser::{
    BinaryReaderError, CompositeInnerType, Encoding, ExternalKind, FuncType, Parser, Payload,
    TypeRef, ValType, Validator, WasmFeatures,
};

use crate::wasi_imports::{allowed_wasi_function, REFUSED_WASI_FUNCTIONS, WASI_MODULE};

/// The WebAssembly features of the determinism profile.
///
/// Included: the wasm 2.0 set (mutable globals, sign extension, saturating float-to-int,
/// multi-value, bulk memory, reference types, fixed-width SIMD), plus tail calls and extended
/// constant expressions. All of them are deterministic once NaNs are canonicalised.
///
/// Left out, each for a reason:
/// - threads, shared memory, shared-everything threads: scheduling is not deterministic;
/// - relaxed SIMD: results are allowed to differ between CPUs;
/// - memory64, multi-memory, custom page sizes: the pooling allocator and the memory limit
///   are sized for one 32-bit memory;
/// - GC, function references, exceptions, stack switching, wide arithmetic, component model:
///   not compiled into our wasmtime build or not needed by WASI preview1 commands, and every
///   extra feature is extra attack surface.
pub const PROFILE_FEATURES: WasmFeatures = WasmFeatures::FLOATS
    .union(WasmFeatures::MUTABLE_GLOBAL)
    .union(WasmFeatures::SATURATING_FLOAT_TO_INT)
    .union(WasmFeatures::SIGN_EXTENSION)
    .union(WasmFeatures::MULTI_VALUE)
    .union(WasmFeatures::BULK_MEMORY)
    .union(WasmFeatures::REFERENCE_TYPES)
    .union(WasmFeatures::SIMD)
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::EXTENDED_CONST);

/// Size of a WebAssembly page (custom page sizes are not in the profile).
pub const WASM_PAGE_BYTES: u64 = 65_536;

/// At most this many linear memories (imported or defined).
///
/// Threat: the pooling allocator reserves address space per memory slot; more memories per
/// instance would multiply that and bypass the per-job memory limit.
pub const MAX_MEMORIES: usize = 1;

/// At most this many tables.
///
/// Threat: like memories, tables live in fixed pool slots; compilers for WASI targets emit
/// one indirect-call table.
pub const MAX_TABLES: usize = 1;

/// Limits applied by [`validate_module`]. Take them from the worker's configuration
/// (`SandboxConfig::validation_limits` in `notary-worker`) so admission and execution agree;
/// `Default` matches the default configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationLimits {
    /// Largest accepted module, in bytes.
    ///
    /// Threat: compile time and compiled-code memory grow with module size; an oversized
    /// module ties up a worker core compiling before any fuel is charged.
    pub max_module_bytes: usize,
    /// Largest accepted *initial* memory, in bytes (the sandbox memory limit).
    ///
    /// Threat: a module whose initial memory exceeds the limit can never instantiate; refusing
    /// it at admission gives the client a clear message instead of a failed paid job.
    pub max_memory_bytes: u64,
    /// Largest accepted *initial* table size, in elements (the pooling allocator's cap).
    ///
    /// Threat: tables are host memory outside the linear-memory limit.
    pub max_table_elements: u64,
}

impl Default for ValidationLimits {
    fn default() -> Self {
        Self {
            max_module_bytes: crate::DEFAULT_MAX_MODULE_BYTES,
            max_memory_bytes: crate::DEFAULT_MEMORY_LIMIT_BYTES as u64,
            max_table_elements: crate::TABLE_ELEMENTS_CAP as u64,
        }
    }
}

/// What the validator learned about an accepted module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// sha256 of the module bytes: the module's identity in caches and attestations.
    pub sha256: [u8; 32],
    /// Size of the module in bytes.
    pub size: usize,
    /// Names of the imported `wasi_snapshot_preview1` functions, in import order.
    pub imports: Vec<String>,
    /// Initial linear memory in bytes, if the module defines a memory.
    pub initial_memory_bytes: Option<u64>,
}

/// Why a module was refused. Every message names the offending item and, where the bytes are
/// to blame, the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The module is larger than [`ValidationLimits::max_module_bytes`].
    #[error("module is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// Module size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not a well-formed WebAssembly binary.
    #[error("malformed module at offset {offset:#x}{location}: {message}")]
    Malformed {
        /// Byte offset of the problem.
        offset: usize,
        /// Where that offset is, e.g. ` in the import section` or ` in function 3 (code
        /// section)`; empty when it is in no section.
        location: String,
        /// What the parser found.
        message: String,
    },
    /// The bytes are a component, not a core module.
    #[error(
        "this is a WebAssembly component; only core modules (WASI preview1 commands) are accepted"
    )]
    Component,
    /// Well-formed, but invalid under the determinism profile (type errors, disabled features
    /// such as atomics or relaxed SIMD).
    #[error("invalid module at offset {offset:#x}{location}: {message}")]
    Invalid {
        /// Byte offset of the problem.
        offset: usize,
        /// Where that offset is, e.g. ` in function 3 (code section)`; empty when it is in
        /// no section.
        location: String,
        /// What the validator found (for a disabled feature, its name: "threads support is
        /// not enabled", "SIMD support is not enabled", ...).
        message: String,
    },
    /// An import outside the allow-list.
    #[error("import \"{module}\".\"{name}\" is not allowed: {reason}")]
    ImportNotAllowed {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A memory the profile does not support (shared, 64-bit, too many, too big).
    #[error("{0}")]
    Memory(String),
    /// A table the profile does not support (too many, too big).
    #[error("{0}")]
    Table(String),
    /// No usable `_start` export.
    #[error("{0}")]
    Start(String),
    /// WebAssembly text that did not parse (from [`wat_to_wasm`]).
    #[error("invalid WebAssembly text: {0}")]
    Wat(String),
}

fn malformed(e: BinaryReaderError) -> ValidationError {
    ValidationError::Malformed {
        offset: e.offset(),
        location: String::new(),
        message: e.message().to_string(),
    }
}

/// Fills in the location of a malformed or invalid module's error offset.
fn locate_error(error: ValidationError, bytes: &[u8]) -> ValidationError {
    match error {
        ValidationError::Malformed {
            offset, message, ..
        } => ValidationError::Malformed {
            location: locate(bytes, offset),
            offset,
            message,
        },
        ValidationError::Invalid {
            offset, message, ..
        } => ValidationError::Invalid {
            location: locate(bytes, offset),
            offset,
            message,
        },
        other => other,
    }
}

/// Where `offset` lies: in which function body (numbered as the module's function index
/// space, imports first) or in which section. Reads the module again up to the first error.
fn locate(bytes: &[u8], offset: usize) -> String {
    let mut imported_functions = 0u32;
    let mut body = 0u32;
    let mut code_section = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match &payload {
            Payload::ImportSection(reader) => {
                imported_functions += reader
                    .clone()
                    .into_imports()
                    .filter(|i| {
                        matches!(i, Ok(i) if matches!(i.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)))
                    })
                    .count() as u32;
            }
            Payload::CodeSectionEntry(function) => {
                if function.range().contains(&offset) {
                    return format!(" in function {} (code section)", imported_functions + body);
                }
                body += 1;
            }
            Payload::CustomSection(reader) if reader.range().contains(&offset) => {
                return format!(" in the custom section \"{}\"", reader.name());
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            if id == 10 {
                code_section = Some(range);
            } else if range.contains(&offset) {
                return format!(" in the {} section", section_name(id));
            }
        }
    }
    match code_section {
        Some(range) if range.contains(&offset) => " in the code section".to_string(),
        _ => String::new(),
    }
}

fn section_name(id: u8) -> &'static str {
    match id {
        0 => "custom",
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "data count",
        13 => "tag",
        _ => "unknown",
    }
}

/// Checks a guest module against the determinism profile and the limits.
///
/// Order of checks: size; structure (component or module, imports, memories, tables), which
/// gives the friendliest messages; full validation of every function body with
/// [`PROFILE_FEATURES`]; the `_start` export; the `memory` export WASI calls need.
pub fn validate_module(
    bytes: &[u8],
    limits: &ValidationLimits,
) -> Result<ModuleInfo, ValidationError> {
    if bytes.len() > limits.max_module_bytes {
        return Err(ValidationError::TooLarge {
            size: bytes.len(),
            limit: limits.max_module_bytes,
        });
    }

    let structure = read_structure(bytes, limits).map_err(|e| locate_error(e, bytes))?;

    Validator::new_with_features(PROFILE_FEATURES)
        .validate_all(bytes)
        .map_err(|e| {
            locate_error(
                ValidationError::Invalid {
                    offset: e.offset(),
                    location: String::new(),
                    message: e.message().to_string(),
                },
                bytes,
            )
        })?;

    check_start(&structure)?;
    check_memory_export(&structure)?;

    Ok(ModuleInfo {
        sha256: Sha256::digest(bytes).into(),
        size: bytes.len(),
        imports: structure.imports,
        initial_memory_bytes: structure.initial_memory_bytes,
    })
}

/// Compiles WebAssembly text to a binary module (for tests, examples and clients that write
/// WAT by hand). The result still has to pass [`validate_module`].
pub fn wat_to_wasm(text: &str) -> Result<Vec<u8>, ValidationError> {
    wat::parse_str(text).map_err(|e| ValidationError::Wat(e.to_string()))
}

/// What the structural pass collects.
#[derive(Default)]
struct Structure {
    /// Function types by type index (`None` for non-function types).
    types: Vec<Option<FuncType>>,
    /// Type index of every function, imported ones first.
    func_types: Vec<u32>,
    imports: Vec<String>,
    memories: usize,
    tables: usize,
    initial_memory_bytes: Option<u64>,
    /// Kind and index of the `_start` export, if any.
    start_export: Option<(ExternalKind, u32)>,
    /// Kind of the `memory` export, if any.
    memory_export: Option<ExternalKind>,
}

fn read_structure(bytes: &[u8], limits: &ValidationLimits) -> Result<Structure, ValidationError> {
    let mut s = Structure::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => return Err(ValidationError::Component),
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(malformed)?.into_types() {
                        s.types.push(match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(malformed)?;
                    check_import(&s, import.module, import.name, import.ty)?;
                    if let TypeRef::Func(ty) | TypeRef::FuncExact(ty) = import.ty {
                        s.func_types.push(ty);
                    }
                    s.imports.push(import.name.to_string());
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    s.func_types.push(ty.map_err(malformed)?);
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(malformed)?;
                    s.memories += 1;
                    if s.memories > MAX_MEMORIES {
                        return Err(ValidationError::Memory(format!(
                            "module defines {} or more memories; at most {MAX_MEMORIES} is \
                             allowed (multi-memory is disabled)",
                            s.memories
                        )));
                    }
                    if memory.shared {
                        return Err(ValidationError::Memory(
                            "shared memory is not allowed: threads are disabled in the \
                             determinism profile"
                                .to_string(),
                        ));
                    }
                    if memory.memory64 {
                        return Err(ValidationError::Memory(
                            "64-bit memory is not allowed: memory64 is disabled in the \
                             determinism profile"
                                .to_string(),
                        ));
                    }
                    if memory.page_size_log2.is_some() {
                        return Err(ValidationError::Memory(
                            "custom page sizes are not allowed".to_string(),
                        ));
                    }
                    let initial = memory.initial.saturating_mul(WASM_PAGE_BYTES);
                    if initial > limits.max_memory_bytes {
                        return Err(ValidationError::Memory(format!(
                            "initial memory is {initial} bytes ({} pages); the limit is {} \
                             bytes",
                            memory.initial, limits.max_memory_bytes
                        )));
                    }
                    s.initial_memory_bytes = Some(initial);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(malformed)?;
                    s.tables += 1;
                    if s.tables > MAX_TABLES {
                        return Err(ValidationError::Table(format!(
                            "module defines {} or more tables; at most {MAX_TABLES} is allowed",
                            s.tables
                        )));
                    }
                    if table.ty.initial > limits.max_table_elements {
                        return Err(ValidationError::Table(format!(
                            "table initial size is {} elements; the limit is {}",
                            table.ty.initial, limits.max_table_elements
                        )));
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(malformed)?;
                    match export.name {
                        "_start" => s.start_export = Some((export.kind, export.index)),
                        "memory" => s.memory_export = Some(export.kind),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

fn check_import(
    s: &Structure,
    module: &str,
    name: &str,
    ty: TypeRef,
) -> Result<(), ValidationError> {
    let refuse = |reason: String| ValidationError::ImportNotAllowed {
        module: module.to_string(),
        name: name.to_string(),
        reason,
    };
    if module != WASI_MODULE {
        return Err(refuse(format!("only {WASI_MODULE} functions are")));
    }
    let type_index = match ty {
        TypeRef::Func(i) | TypeRef::FuncExact(i) => i,
        TypeRef::Memory(_) => {
            return Err(refuse(
                "only functions may be imported; this is a memory (the module must define \
                 its own)"
                    .to_string(),
            ))
        }
        TypeRef::Table(_) => {
            return Err(refuse(
                "only functions may be imported; this is a table".into(),
            ))
        }
        TypeRef::Global(_) => {
            return Err(refuse(
                "only functions may be imported; this is a global".into(),
            ))
        }
        TypeRef::Tag(_) => {
            return Err(refuse(
                "only functions may be imported; this is a tag".into(),
            ))
        }
    };
    if REFUSED_WASI_FUNCTIONS.contains(&name) {
        return Err(refuse(
            "sockets are not available in the sandbox (no network)".to_string(),
        ));
    }
    let Some(wasi) = allowed_wasi_function(name) else {
        return Err(refuse(format!(
            "{WASI_MODULE} has no function named \"{name}\""
        )));
    };
    // An out-of-range type index is left to the full validator, which reports it precisely.
    if let Some(Some(actual)) = s.types.get(type_index as usize) {
        let expected = (
            letters_to_types(wasi.params),
            letters_to_types(wasi.results),
        );
        if actual.params() != expected.0.as_slice() || actual.results() != expected.1.as_slice() {
            return Err(refuse(format!(
                "its type is {} but WASI defines {}",
                show_sig(actual.params(), actual.results()),
                show_sig(&expected.0, &expected.1)
            )));
        }
    }
    Ok(())
}

fn check_start(s: &Structure) -> Result<(), ValidationError> {
    match s.start_export {
        None => Err(ValidationError::Start(
            "module must export a function named \"_start\" (a WASI command)".to_string(),
        )),
        Some((ExternalKind::Func | ExternalKind::FuncExact, index)) => {
            let ty = s
                .func_types
                .get(index as usize)
                .and_then(|t| s.types.get(*t as usize))
                .and_then(|t| t.as_ref());
            match ty {
                Some(ty) if ty.params().is_empty() && ty.results().is_empty() => Ok(()),
                Some(ty) => Err(ValidationError::Start(format!(
                    "export \"_start\" must have type [] -> [], found {}",
                    show_sig(ty.params(), ty.results())
                ))),
                None => Err(ValidationError::Start(
                    "export \"_start\" does not refer to a function type".to_string(),
                )),
            }
        }
        Some((kind, _)) => Err(ValidationError::Start(format!(
            "export \"_start\" must be a function, found a {}",
            kind_name(kind)
        ))),
    }
}

/// Every WASI preview1 call reads its arguments from the caller's memory export named
/// `memory`; without it the first call traps. Refusing such a module here turns a certain
/// run-time failure into an admission message.
fn check_memory_export(s: &Structure) -> Result<(), ValidationError> {
    if s.imports.is_empty() {
        return Ok(());
    }
    match s.memory_export {
        Some(ExternalKind::Memory) => Ok(()),
        Some(kind) => Err(ValidationError::Memory(format!(
            "export \"memory\" must be a memory, found a {}",
            kind_name(kind)
        ))),
        None => Err(ValidationError::Memory(
            "module imports WASI functions but does not export its memory as \"memory\""
                .to_string(),
        )),
    }
}

fn kind_name(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => "function",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}

fn letters_to_types(letters: &str) -> Vec<ValType> {
    letters
        .chars()
        .map(|c| if c == 'I' { ValType::I64 } else { ValType::I32 })
        .collect()
}

fn show_sig(params: &[ValType], results: &[ValType]) -> String {
    let list = |types: &[ValType]| {
        types
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!("[{}] -> [{}]", list(params), list(results))
}
