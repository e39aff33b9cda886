//! Real OPA (the Go engine Gatekeeper embeds, `opa-golib-python-bindings` from PyPI) evaluates
//! the Rego twin from `bundles/gatekeeper/template.yaml` on every recorded request, and its
//! (rule, path) multisets equal the policy's.
//!
//! The engine is installed into `.venv` by `host-tests/python/run.sh`, which this test runs. It
//! needs `python3` and PyPI; without `python3` the test is skipped, except under CI (`CI` set),
//! where it fails.

use std::collections::BTreeMap;
use std::process::Command;

use host_tests::host::workspace_root;
use host_tests::rego::{RegoPolicy, admission_request};
use host_tests::suite::{Suite, default_suite_path};
use serde_json::Value;

#[test]
fn real_opa_agrees_with_the_module_on_every_recorded_request() {
    let root = workspace_root();
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required under CI"
        );
        eprintln!("skipped: no python3");
        return;
    }
    let out = Command::new("bash")
        .arg(root.join("host-tests/python/run.sh"))
        .current_dir(&root)
        .output()
        .expect("bash runs host-tests/python/run.sh");
    assert!(
        out.status.success(),
        "run.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opa: BTreeMap<String, Vec<(String, String)>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            let pairs = serde_json::from_value(v["violations"].clone()).expect("[[rule, path]]");
            (v["name"].as_str().unwrap_or_default().to_owned(), pairs)
        })
        .collect();

    let suite = Suite::load(&default_suite_path()).unwrap();
    let settings = host_tests::settings::load(suite.settings.as_deref()).unwrap();
    assert_eq!(opa.len(), suite.cases.len(), "OPA did not judge every case");
    let mut failures = Vec::new();
    for case in &suite.cases {
        let doc: Value = serde_json::from_slice(&std::fs::read(&case.request).unwrap()).unwrap();
        let input =
            RegoPolicy::gatekeeper_input(admission_request(&doc).unwrap(), &settings).to_string();
        let mut module: Vec<(String, String)> = policy::eval::decide(input.as_bytes(), None)
            .decision
            .violations
            .iter()
            .map(|v| (v.rule.as_str().to_owned(), v.path.clone()))
            .collect();
        module.sort();
        if opa.get(&case.name) != Some(&module) {
            failures.push(format!(
                "{}:\n  module {module:?}\n  opa    {:?}",
                case.name,
                opa.get(&case.name)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
