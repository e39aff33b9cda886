//! The browser playground: `bundles/playground/` (the page) with what it loads, written to
//! `bundles/dist/playground/` by `cargo xtask dist`: the module, the official JS SDK's browser
//! build (`@open-policy-agent/opa-wasm`, installed in `host-tests/js` with `npm ci` on first
//! use), and `examples.json`, generated from the recorded requests and the example settings.
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
const SUITE: &str = "host-tests/requests/suite.yaml";

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
    if !sdk.exists() {
        crate::dist::npm_ci(
            &root.join("host-tests/js"),
            "the OPA JS SDK, for the playground",
        )?;
    }
    let out = root.join(OUTPUT);
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let copies = [
        (root.join(SOURCE).join("index.html"), "index.html"),
        (root.join(SOURCE).join("playground.mjs"), "playground.mjs"),
        (sdk, "opa-wasm.esm.js"),
        (wasm.to_path_buf(), "policy.wasm"),
    ];
    for (from, to) in copies {
        fs::copy(&from, out.join(to)).with_context(|| format!("copying {}", from.display()))?;
    }
    let examples = serde_json::to_string(&examples(root)?)?;
    fs::write(out.join("examples.json"), examples).context("writing examples.json")?;
    Ok(out)
}

/// The example settings and every recorded request with its expected outcome.
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
        examples.push(json!({"name": case.name, "expect": expect, "review": review}));
    }
    let settings = crate::gatekeeper::example_settings(root)?;
    Ok(json!({"settings": settings, "examples": examples}))
}
