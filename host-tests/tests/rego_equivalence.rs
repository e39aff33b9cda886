//! The Rego twin (`bundles/gatekeeper/template.yaml`, generated from `policy/rego/`) decides
//! exactly like the module: on every recorded request, regorus on the twin, the wasm module in
//! wasmtime and the policy library natively give the same (rule, path) multiset.
//!
//! Run `cargo xtask dist` (the module) and `cargo xtask gatekeeper` (the template) first.

use runner_policy::host::{Runtime, default_module_path};
use runner_policy::rego::{RegoPolicy, admission_request};
use runner_policy::suite::{Suite, default_suite_path};
use serde_json::Value;

type RulePaths = Vec<(String, String)>;

/// The (rule, path) multiset of a `runners/decision` result or a native decision.
fn decision_rule_paths(decision: &Value) -> RulePaths {
    let mut out: RulePaths = decision["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            (
                v["rule"].as_str().unwrap_or_default().to_owned(),
                v["path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn twin_module_and_library_agree_on_every_recorded_request() {
    let suite = Suite::load(&default_suite_path()).unwrap();
    let settings = runner_policy::settings::load(suite.settings.as_deref()).unwrap();
    let mut twin = RegoPolicy::from_template(&RegoPolicy::default_template_path())
        .unwrap_or_else(|e| panic!("{e:#}"));
    let runtime = Runtime::load(&default_module_path()).unwrap_or_else(|e| panic!("{e:#}"));
    let mut module = runtime.instantiate(&settings).unwrap();
    let mut failures = Vec::new();
    let mut denied = 0;
    for case in &suite.cases {
        let doc: Value = serde_json::from_slice(&std::fs::read(&case.request).unwrap()).unwrap();
        let request = admission_request(&doc).expect("a recorded request");
        let input = RegoPolicy::gatekeeper_input(request, &settings).to_string();
        let native = decision_rule_paths(
            &serde_json::from_str(
                &policy::eval::decide(input.as_bytes(), None)
                    .decision
                    .to_json(),
            )
            .unwrap(),
        );
        let wasm = decision_rule_paths(
            &module
                .evaluate("runners/decision", input.as_bytes())
                .unwrap(),
        );
        let rego = twin
            .rule_paths(&input)
            .unwrap_or_else(|e| panic!("{}: {e:#}", case.name));
        if !native.is_empty() {
            denied += 1;
        }
        if native != wasm || native != rego {
            failures.push(format!(
                "{}:\n  library {native:?}\n  module  {wasm:?}\n  rego    {rego:?}",
                case.name
            ));
        }
    }
    assert!(denied > 10, "too few denials ({denied}) to prove anything");
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        suite.cases.len(),
        failures.join("\n")
    );
}
