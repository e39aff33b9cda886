//! The official OPA JS SDK (`@open-policy-agent/opa-wasm`, ABI 1.2+ `opa_eval` path) and the
//! raw ABI 1.0 ctx path in Node (`host-tests/js/decisions.mjs --ctx`) give the wasmtime host's
//! decisions on every recorded request, and the three facts of issue 2 hold through the SDK.
//!
//! Needs `node` and `npm ci --prefix host-tests/js` (`cargo xtask test` runs it first).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use runner_policy::decision::Decision;
use runner_policy::host::{Runtime, default_module_path, workspace_root};
use runner_policy::suite::{Suite, default_suite_path};
use serde_json::Value;

fn js_dir() -> PathBuf {
    workspace_root().join("host-tests/js")
}

/// Runs `node decisions.mjs ARGS` and returns its lines by request path.
fn decisions(args: &[&str]) -> BTreeMap<PathBuf, Value> {
    let sdk = js_dir().join("node_modules/@open-policy-agent/opa-wasm");
    assert!(
        sdk.exists(),
        "{} is missing: run `npm ci --prefix host-tests/js` (cargo xtask test does)",
        sdk.display()
    );
    let output = Command::new("node")
        .arg(js_dir().join("decisions.mjs"))
        .args(["--wasm", default_module_path().to_str().unwrap()])
        .args(args)
        .output()
        .expect("cannot run `node`: is Node.js installed?");
    assert!(
        output.status.success(),
        "node decisions.mjs {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            let path = PathBuf::from(value["request"].as_str().unwrap());
            (canonical(&path), value.take())
        })
        .collect()
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every decision of `args` equals the wasmtime host's, on `runners/decision` and `runners/main`.
fn agree(args: &[&str]) {
    let runtime = Runtime::load(&default_module_path()).unwrap();
    let settings = runner_policy::settings::example().unwrap();
    let mut host = runtime.instantiate(&settings).unwrap();
    let js = decisions(args);
    let suite = Suite::load(&default_suite_path()).unwrap();
    assert_eq!(js.len(), suite.cases.len(), "one line per recorded request");
    let mut disagree = Vec::new();
    for case in &suite.cases {
        let line = &js[&canonical(&case.request)];
        let bytes = std::fs::read(&case.request).unwrap();
        for (key, entrypoint) in [("decision", "runners/decision"), ("main", "runners/main")] {
            let expected = host.evaluate(entrypoint, &bytes).unwrap();
            if line[key] != expected {
                disagree.push(format!(
                    "{} {entrypoint}:\n  js   {}\n  host {expected}",
                    case.name, line[key]
                ));
            }
        }
    }
    assert!(disagree.is_empty(), "{args:?}\n{}", disagree.join("\n"));
}

#[test]
fn js_sdk_agrees_with_the_wasmtime_host() {
    agree(&["--suite"]);
}

#[test]
fn js_ctx_path_agrees_with_the_wasmtime_host() {
    agree(&["--ctx", "--suite"]);
}

/// The decision of one recorded request through the SDK with the example settings.
fn sdk_decision(request: &str) -> Decision {
    let path = workspace_root().join("host-tests/requests").join(request);
    let js = decisions(&[path.to_str().unwrap()]);
    let line = js.into_values().next().unwrap();
    Decision::from_value(line["decision"].clone()).unwrap()
}

#[test]
fn issue_2_facts_hold_through_the_js_sdk() {
    let dind = sdk_decision("dind/job-pod.json");
    assert!(dind.allowed, "the dind runner's job pod: {dind:?}");

    let docker = sdk_decision("docker/privileged-pod.json");
    assert!(!docker.allowed);
    assert!(docker.rules().contains("dind-only-privilege"), "{docker:?}");

    let suite = Suite::load(&default_suite_path()).unwrap();
    let ephemeral = suite
        .cases
        .iter()
        .find(|c| c.name == "privileged-ephemeral-container")
        .expect("the privileged-ephemeral-container case");
    let relative = ephemeral
        .request
        .strip_prefix(workspace_root().join("host-tests/requests"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| ephemeral.request.clone());
    let decision = sdk_decision(relative.to_str().unwrap());
    assert!(!decision.allowed, "{decision:?}");
}
