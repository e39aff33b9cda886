//! `bundles/dist/vap/runner-policy.yaml`: the rules as a Kubernetes ValidatingAdmissionPolicy
//! and its Binding for the example settings, written by the `policy-vap` crate, which
//! `runner-policy vap` uses too (so `cargo xtask dist` does not build the wasmtime host).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The settings the bundled policy is generated for, relative to the workspace root.
pub const SETTINGS: &str = "bundles/settings.example.yaml";
/// The policy written by [`write`], relative to the workspace root.
pub const OUTPUT: &str = "bundles/dist/vap/runner-policy.yaml";

/// Writes the policy for the example settings; returns its path.
///
/// # Errors
/// When the settings cannot be read or are invalid, or the file cannot be written.
pub fn write(root: &Path) -> Result<PathBuf> {
    let path = root.join(SETTINGS);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_yaml::from_str(&text).with_context(|| format!("{} is not YAML", path.display()))?;
    let settings = policy_vap::settings_from_json(&value)?;
    let yaml = policy_vap::generate(&settings, "runner-policy")?.to_yaml()?;
    let out = root.join(OUTPUT);
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(&out, yaml).with_context(|| format!("writing {}", out.display()))?;
    Ok(out)
}
