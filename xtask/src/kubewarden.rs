//! `bundles/dist/kubewarden-policy.wasm`: the module with `bundles/kubewarden/metadata.yml`
//! embedded the way `kwctl annotate` embeds it, ready for `kwctl push` or any OCI tool.
//!
//! What `kwctl annotate` does, and so what this does:
//! - reads the YAML into Kubewarden's `Metadata` (unknown keys such as the old `contextAware`
//!   flag are dropped; `policyType` defaults to `kubernetes`, `contextAwareResources` to `[]`,
//!   `backgroundAudit` to `true`);
//! - sets `protocolVersion` to `Unknown` (its value for OPA and Gatekeeper modules);
//! - writes the result as compact JSON into one custom section, `io.kubewarden.metadata`,
//!   appended after the module's other sections.
//!
//! Unlike kwctl it adds no `io.kubewarden.kwctl` annotation (the version of the kwctl that
//! annotated the module): no kwctl was involved, and nothing in Kubewarden reads it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// The metadata source, relative to the workspace root.
pub const METADATA: &str = "bundles/kubewarden/metadata.yml";
/// The annotated module written by [`write`], relative to the workspace root.
pub const OUTPUT: &str = "bundles/dist/kubewarden-policy.wasm";
/// The custom section Kubewarden reads the metadata from.
pub const SECTION: &str = "io.kubewarden.metadata";

/// The keys of Kubewarden's `Metadata` that kwctl serialises (any other key is dropped).
const KEYS: &[&str] = &[
    "protocolVersion",
    "rules",
    "annotations",
    "mutating",
    "backgroundAudit",
    "executionMode",
    "policyType",
    "contextAwareResources",
    "minimumKubewardenVersion",
];

/// Writes `bundles/dist/kubewarden-policy.wasm` for the module at `wasm`; returns its path.
///
/// # Errors
/// When the metadata cannot be read or is not a mapping with `rules`, `mutating` and an
/// `executionMode` of `opa` or `gatekeeper`, or the module cannot be read or written.
pub fn write(root: &Path, wasm: &Path) -> Result<PathBuf> {
    let path = root.join(METADATA);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let metadata = kwctl_json(&text).with_context(|| format!("in {}", path.display()))?;
    let module = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let out = root.join(OUTPUT);
    fs::write(&out, with_custom_section(module, SECTION, &metadata)?)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(out)
}

/// The metadata YAML as the JSON `kwctl annotate` writes (see the module docs).
///
/// # Errors
/// When the YAML is not a mapping, lacks `rules` or `mutating`, or its `executionMode` is not
/// an OPA mode.
pub fn kwctl_json(yaml: &str) -> Result<Vec<u8>> {
    let value: Value = serde_yaml::from_str(yaml).context("not YAML")?;
    let Value::Object(mut source) = value else {
        bail!("the metadata is not a mapping");
    };
    for key in ["rules", "mutating"] {
        if !source.contains_key(key) {
            bail!("the metadata has no `{key}`");
        }
    }
    match source.get("executionMode").and_then(Value::as_str) {
        Some("opa" | "gatekeeper") => {}
        other => {
            bail!("executionMode must be `opa` or `gatekeeper` for this module, not {other:?}")
        }
    }
    source.insert("protocolVersion".into(), "Unknown".into());
    let defaults = [
        ("backgroundAudit", Value::Bool(true)),
        ("policyType", Value::from("kubernetes")),
        ("contextAwareResources", Value::Array(Vec::new())),
    ];
    for (key, value) in defaults {
        source.entry(key).or_insert(value);
    }
    let mut metadata = Map::new();
    for key in KEYS {
        if let Some(value) = source.remove(*key) {
            metadata.insert((*key).to_owned(), value);
        }
    }
    Ok(serde_json::to_vec(&Value::Object(metadata))?)
}

/// Appends a custom section to a wasm module (custom sections may come anywhere; kwctl's
/// walrus puts its own at the end too).
///
/// # Errors
/// When `module` does not start with the wasm header.
pub fn with_custom_section(mut module: Vec<u8>, name: &str, data: &[u8]) -> Result<Vec<u8>> {
    if !module.starts_with(b"\0asm\x01\0\0\0") {
        bail!("not a wasm module (no `\\0asm` version 1 header)");
    }
    let mut payload = Vec::with_capacity(name.len() + data.len() + 5);
    leb128(&mut payload, name.len());
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    module.push(0); // section id 0: custom
    leb128(&mut module, payload.len());
    module.extend_from_slice(&payload);
    Ok(module)
}

/// Unsigned LEB128, as wasm encodes sizes.
fn leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
