//! Packaged guest modules: the manifest `notary-pack` writes and the coordinator's module
//! registry stores.
//!
//! A package is one JSON document, [`ModulePackage`]: the manifest plus the module bytes in
//! base64. It is also the body of `POST /modules`, so publishing is uploading the file as is.
//! A module is content-addressed: its id is the sha256 of its bytes (the wasm binary, or the
//! UTF-8 JavaScript source).

use serde::{Deserialize, Serialize};

use crate::digest::Digest32;

/// What a module is written in, as the sandbox sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModuleLanguage {
    /// JavaScript source for the QuickJS runtime (the bytes are UTF-8 text).
    Javascript,
    /// A WASI preview1 command module (from any source language).
    Wasm,
}

impl ModuleLanguage {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ModuleLanguage::Javascript => "javascript",
            ModuleLanguage::Wasm => "wasm",
        }
    }
}

/// Describes one module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModuleManifest {
    /// Short name (letters, digits, `.`, `_`, `-`; at most 64 characters).
    pub name: String,
    /// The author's version string (at most 64 characters).
    pub version: String,
    /// sha256 of the module bytes: the module's id.
    pub sha256: Digest32,
    /// How the sandbox runs it.
    pub language: ModuleLanguage,
    /// What the module was written in, for people (`c`, `assemblyscript`, `rust`, `wat`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_language: Option<String>,
    /// What the module does.
    #[serde(default)]
    pub description: String,
    /// Fuel budget of a job running this module when the coordinator's limit allows it
    /// (`None`: the coordinator's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// What the module expects as `inputData`.
    #[serde(default)]
    pub input: String,
    /// What the module prints.
    #[serde(default)]
    pub output: String,
    /// Size of the module in bytes.
    pub size: u64,
}

/// A package: the manifest and the module bytes (base64, standard alphabet, padded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModulePackage {
    /// The manifest.
    pub manifest: ModuleManifest,
    /// The module bytes, base64.
    pub module: String,
}
