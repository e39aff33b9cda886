//! Settings files: the data document of the module.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// `bundles/settings.example.yaml` (org `example`), embedded at build time.
pub const EXAMPLE_YAML: &str = include_str!("../../bundles/settings.example.yaml");

/// Parses settings text, JSON or YAML (JSON is tried first: it is stricter and faster).
///
/// # Errors
/// When the text is neither valid JSON nor valid YAML.
pub fn parse(text: &str) -> Result<Value> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    serde_yaml::from_str(text).context("settings are neither valid JSON nor valid YAML")
}

/// The bundled example settings.
///
/// # Errors
/// Never in practice: the file is checked by the tests.
pub fn example() -> Result<Value> {
    parse(EXAMPLE_YAML).context("bundled bundles/settings.example.yaml")
}

/// Reads settings from `path`, or the bundled example settings when `path` is `None`.
///
/// # Errors
/// When the file cannot be read or parsed.
///
/// # Examples
/// ```
/// let settings = host_tests::settings::load(None)?;
/// assert_eq!(settings["org"], "example");
/// # anyhow::Ok(())
/// ```
pub fn load(path: Option<&Path>) -> Result<Value> {
    match path {
        None => example(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read settings file {}", path.display()))?;
            parse(&text).with_context(|| format!("in settings file {}", path.display()))
        }
    }
}
