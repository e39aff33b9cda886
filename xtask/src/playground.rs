//! The browser playground: `bundles/playground/` (the page) with what it loads, written to
//! `bundles/dist/playground/` by `cargo xtask dist`: the module, the official JS SDK's browser
//! build (`@open-policy-agent/opa-wasm`) and js-yaml's ES module build (both pinned in
//! `host-tests/js/package-lock.json`, installed with `npm ci` on first use), and
//! `examples.json`: the recorded requests, the example settings as their YAML text, and the kind
//! table that `runner-policy check` builds requests with (`runner-policy/src/kinds.rs`, included
//! here so that there is one table).
//!
//! Serve the directory over HTTP (browsers do not fetch wasm from `file://`):
//! `python3 -m http.server -d bundles/dist/playground`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Value, json};

const SOURCE: &str = "bundles/playground";
const OUTPUT: &str = "bundles/dist/playground";
const SDK: &str =
    "host-tests/js/node_modules/@open-policy-agent/opa-wasm/dist/opa-wasm-browser.esm.js";
const YAML: &str = "host-tests/js/node_modules/js-yaml/dist/js-yaml.mjs";
const SUITE: &str = "host-tests/requests/suite.yaml";
const SETTINGS: &str = "bundles/settings.example.yaml";
/// The example the page opens on: a denial that shows what the policy is for.
const DEFAULT_EXAMPLE: &str = "docker/privileged-pod.json";

mod kinds {
    include!("../../runner-policy/src/kinds.rs");
}

#[derive(Deserialize)]
struct Suite {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    request: String,
    expect: Value,
}

/// Writes the playground next to `wasm`; returns its directory.
pub fn write(root: &Path, wasm: &Path) -> Result<PathBuf> {
    let sdk = root.join(SDK);
    let yaml = root.join(YAML);
    if !sdk.exists() || !yaml.exists() {
        crate::npm::ci(
            &root.join("host-tests/js"),
            "the OPA JS SDK and js-yaml, for the playground",
        )?;
    }
    let out = root.join(OUTPUT);
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let copies = [
        (root.join(SOURCE).join("index.html"), "index.html"),
        (root.join(SOURCE).join("playground.mjs"), "playground.mjs"),
        (root.join(SOURCE).join("manifest.mjs"), "manifest.mjs"),
        (sdk, "opa-wasm.esm.js"),
        (yaml, "yaml.mjs"),
        (wasm.to_path_buf(), "policy.wasm"),
    ];
    for (from, to) in copies {
        fs::copy(&from, out.join(to)).with_context(|| format!("copying {}", from.display()))?;
    }
    let examples = serde_json::to_string(&examples(root)?)?;
    fs::write(out.join("examples.json"), examples).context("writing examples.json")?;
    Ok(out)
}

/// The example settings, every recorded request with its file and expected outcome, the one to
/// open on, and the kind table.
fn examples(root: &Path) -> Result<Value> {
    let suite_path = root.join(SUITE);
    let text = fs::read_to_string(&suite_path)
        .with_context(|| format!("reading {}", suite_path.display()))?;
    let suite: Suite = serde_yaml::from_str(&text).context("reading the suite")?;
    let dir = suite_path.parent().unwrap_or(root);
    let mut examples = Vec::new();
    for case in suite.cases {
        let path = dir.join(&case.request);
        let review: Value = serde_json::from_slice(
            &fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{} is not JSON", path.display()))?;
        let expect = match &case.expect {
            Value::String(s) => s.clone(),
            other => format!(
                "deny: {}",
                other["deny"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        examples.push(json!({
            "name": case.name,
            "request": case.request,
            "expect": expect,
            "review": review,
        }));
    }
    let default = examples
        .iter()
        .find(|e| e["request"] == DEFAULT_EXAMPLE)
        .map(|e| e["name"].clone())
        .with_context(|| {
            format!("the playground opens on {DEFAULT_EXAMPLE}, which {SUITE} lacks")
        })?;
    let settings_path = root.join(SETTINGS);
    let settings_yaml = fs::read_to_string(&settings_path)
        .with_context(|| format!("reading {}", settings_path.display()))?;
    let settings = crate::gatekeeper::example_settings(root)?;
    let kinds: Vec<Value> = kinds::KINDS
        .iter()
        .map(|(group, resource, kind, namespaced)| json!([group, resource, kind, namespaced]))
        .collect();
    Ok(json!({
        "settings": settings,
        "settingsYaml": settings_yaml,
        "default": default,
        "kinds": kinds,
        "examples": examples,
    }))
}
