//! # notary-pack
//!
//! Turns a guest program into a Notary package and publishes it.
//!
//! - [`build_package`]: reads a `.js`, `.wat` or `.wasm` file, compiles WebAssembly text,
//!   validates a module against the determinism profile with the workers' own validator
//!   (`notary-profile`: the same code, not a copy), and returns a [`ModulePackage`]: the
//!   manifest (name, version, sha256, language, description, default fuel budget, input and
//!   output descriptions) and the module bytes.
//! - [`publish`]: uploads a package to a coordinator's `POST /modules` and returns the module
//!   hash. Publishing the same package again is a no-op that returns the same hash.
//!
//! The binary (`notary-pack build`, `notary-pack publish`) is a thin wrapper around these.

use std::path::Path;

use base64::Engine as _;
use notary_profile::{validate_module, wat_to_wasm, ValidationError, ValidationLimits};
use notary_protocol::{sha256, Digest32, ModuleLanguage, ModuleManifest, ModulePackage};

/// Largest JavaScript source packaged (the coordinator's limit for inline code is 100 KB;
/// registered modules may be larger, up to the module size limit).
pub const MAX_JS_BYTES: usize = notary_profile::DEFAULT_MAX_MODULE_BYTES;

/// What went wrong while packaging or publishing.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The input file could not be read or the package written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file extension does not say what the file is.
    #[error("{0}: unknown kind of file; expected .js, .wat or .wasm")]
    UnknownKind(String),
    /// The module does not fit the determinism profile.
    #[error("{path}: rejected: {error}")]
    Rejected {
        /// The file.
        path: String,
        /// The validator's precise reason.
        error: ValidationError,
    },
    /// JavaScript that is not UTF-8, or too large.
    #[error("{path}: {message}")]
    BadSource {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A package file that is not a package.
    #[error("{path}: not a Notary package: {message}")]
    BadPackage {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The coordinator could not be reached or refused the package.
    #[error("publish: {0}")]
    Publish(String),
}

/// Result alias for this crate.
pub type Result<T, E = PackError> = std::result::Result<T, E>;

/// Manifest fields chosen by the author (the rest is computed).
#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    /// Module name (default: the file name without its extension).
    pub name: Option<String>,
    /// Version (default `0.1.0`).
    pub version: Option<String>,
    /// What the module does.
    pub description: String,
    /// What the module was written in (default from the extension: `javascript`, `wat`;
    /// none for `.wasm`).
    pub source_language: Option<String>,
    /// Default fuel budget.
    pub fuel: Option<u64>,
    /// Description of the expected `inputData`.
    pub input: String,
    /// Description of the output.
    pub output: String,
}

/// Builds a package from `path` (`.js`, `.wat` or `.wasm`), validating it as the workers do.
pub fn build_package(
    path: &Path,
    options: &PackOptions,
    limits: &ValidationLimits,
) -> Result<ModulePackage> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| PackError::Io {
        path: shown.clone(),
        source,
    })?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let rejected = |error| PackError::Rejected {
        path: shown.clone(),
        error,
    };
    let (language, module, default_source) = match extension.as_deref() {
        Some("js") | Some("cjs") => {
            let text = String::from_utf8(bytes).map_err(|e| PackError::BadSource {
                path: shown.clone(),
                message: format!("JavaScript must be UTF-8: {e}"),
            })?;
            if text.len() > MAX_JS_BYTES {
                return Err(PackError::BadSource {
                    path: shown.clone(),
                    message: format!("{} bytes; the limit is {MAX_JS_BYTES}", text.len()),
                });
            }
            if text.trim().is_empty() {
                return Err(PackError::BadSource {
                    path: shown.clone(),
                    message: "the file is empty".into(),
                });
            }
            // JavaScript runs in the QuickJS runtime module, which the workers validate
            // themselves; the source is data to it.
            (
                ModuleLanguage::Javascript,
                text.into_bytes(),
                Some("javascript"),
            )
        }
        Some("wat") => {
            let text = String::from_utf8(bytes).map_err(|e| PackError::BadSource {
                path: shown.clone(),
                message: format!("WebAssembly text must be UTF-8: {e}"),
            })?;
            let module = wat_to_wasm(&text).map_err(rejected)?;
            validate_module(&module, limits).map_err(rejected)?;
            (ModuleLanguage::Wasm, module, Some("wat"))
        }
        Some("wasm") => {
            validate_module(&bytes, limits).map_err(rejected)?;
            (ModuleLanguage::Wasm, bytes, None)
        }
        _ => return Err(PackError::UnknownKind(shown)),
    };
    let name = options.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("module")
            .to_string()
    });
    let manifest = ModuleManifest {
        name,
        version: options.version.clone().unwrap_or_else(|| "0.1.0".into()),
        sha256: sha256(&module),
        language,
        source_language: options
            .source_language
            .clone()
            .or(default_source.map(String::from)),
        description: options.description.clone(),
        fuel: options.fuel,
        input: options.input.clone(),
        output: options.output.clone(),
        size: module.len() as u64,
    };
    Ok(ModulePackage {
        manifest,
        module: base64::engine::general_purpose::STANDARD.encode(&module),
    })
}

/// Writes a package file (pretty JSON).
pub fn write_package(package: &ModulePackage, out: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(package).expect("a package serializes");
    std::fs::write(out, text + "\n").map_err(|source| PackError::Io {
        path: out.display().to_string(),
        source,
    })
}

/// Reads a package file and checks that its bytes match its manifest.
pub fn read_package(path: &Path) -> Result<ModulePackage> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PackError::Io {
        path: shown.clone(),
        source,
    })?;
    let bad = |message: String| PackError::BadPackage {
        path: shown.clone(),
        message,
    };
    let package: ModulePackage = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&package.module)
        .map_err(|e| bad(format!("module is not base64: {e}")))?;
    if sha256(&bytes) != package.manifest.sha256 {
        return Err(bad(format!(
            "module bytes hash to {}, the manifest says {}",
            sha256(&bytes),
            package.manifest.sha256
        )));
    }
    Ok(package)
}

/// Uploads `package` to the coordinator at `url` (`POST {url}/modules`); returns the module
/// hash the registry answered with.
pub async fn publish(url: &str, package: &ModulePackage) -> Result<Digest32> {
    let endpoint = format!("{}/modules", url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&endpoint)
        .json(package)
        .send()
        .await
        .map_err(|e| PackError::Publish(format!("{endpoint}: {e}")))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| PackError::Publish(format!("{endpoint}: answer is not JSON: {e}")))?;
    if !status.is_success() {
        return Err(PackError::Publish(format!(
            "{endpoint} answered {status}: {}",
            body["message"].as_str().unwrap_or(&body.to_string())
        )));
    }
    body["moduleHash"]
        .as_str()
        .and_then(|h| Digest32::from_hex(h).ok())
        .ok_or_else(|| PackError::Publish(format!("{endpoint}: answer has no moduleHash: {body}")))
}
