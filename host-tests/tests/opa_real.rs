//! Real OPA (the Go engine Gatekeeper embeds, `opa-golib-python-bindings` from PyPI) evaluates
//! the Rego twin from `bundles/gatekeeper/template.yaml` on every recorded request and on a
//! fixed-seed sample of generated AdmissionReviews (`common/reviews/`, the generators of
//! `rego_property`), and its (rule, path) multisets equal the policy's.
//!
//! `OPA_REAL_CASES=N` changes the number of generated reviews (default 2,000); they are written
//! as JSON lines under `target/tmp` and judged by one Python process.
//!
//! The engine is installed into `.venv` by `host-tests/python/run.sh`, which this test runs. It
//! needs `python3` and PyPI; without `python3` the test is skipped, except under CI (`CI` set),
//! where it fails.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;

use common::reviews::{gatekeeper_input, module_rule_paths};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use runner_policy::host::workspace_root;
use runner_policy::rego::{RegoPolicy, admission_request};
use runner_policy::suite::{Suite, default_suite_path};
use serde_json::Value;

/// Runs `host-tests/python/run.sh` with `args` and returns its standard output, or `None` when
/// there is no `python3` (outside CI). One run at a time: the first may be creating `.venv`.
fn run_opa(args: &[&str]) -> Option<String> {
    static VENV: Mutex<()> = Mutex::new(());
    let _one = VENV
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required under CI"
        );
        eprintln!("skipped: no python3");
        return None;
    }
    let root = workspace_root();
    let out = Command::new("bash")
        .arg(root.join("host-tests/python/run.sh"))
        .args(args)
        .current_dir(&root)
        .output()
        .expect("bash runs host-tests/python/run.sh");
    assert!(
        out.status.success(),
        "run.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("UTF-8 output"))
}

#[test]
fn real_opa_agrees_with_the_module_on_every_recorded_request() {
    let Some(stdout) = run_opa(&[]) else { return };
    let opa: BTreeMap<String, Vec<(String, String)>> = stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            let pairs = serde_json::from_value(v["violations"].clone()).expect("[[rule, path]]");
            (v["name"].as_str().unwrap_or_default().to_owned(), pairs)
        })
        .collect();

    let suite = Suite::load(&default_suite_path()).unwrap();
    let settings = runner_policy::settings::load(suite.settings.as_deref()).unwrap();
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

#[test]
fn real_opa_agrees_with_the_module_on_generated_reviews() {
    let cases: usize = std::env::var("OPA_REAL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    // `deterministic` seeds the generator: every run judges the same reviews.
    let mut runner = TestRunner::deterministic();
    let strategy = gatekeeper_input();
    let inputs: Vec<String> = (0..cases)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .to_string()
        })
        .collect();
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("opa_real_reviews.jsonl");
    std::fs::write(&file, inputs.join("\n") + "\n").unwrap();
    let Some(stdout) = run_opa(&["--inputs", file.to_str().unwrap()]) else {
        return;
    };
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), cases, "OPA did not judge every review");

    let mut failures = Vec::new();
    let mut denied = 0;
    for (n, (input, line)) in inputs.iter().zip(&lines).enumerate() {
        assert_eq!(line["line"], n, "OPA's lines are out of order");
        let module = module_rule_paths(input);
        denied += usize::from(!module.is_empty());
        let opa: Result<Vec<(String, String)>, String> = match line.get("error") {
            Some(e) => Err(e.as_str().unwrap_or_default().to_owned()),
            None => Ok(serde_json::from_value(line["violations"].clone()).expect("[[rule, path]]")),
        };
        if opa.as_ref() != Ok(&module) {
            let only_module: Vec<_> = match &opa {
                Ok(o) => module.iter().filter(|p| !o.contains(p)).collect(),
                Err(_) => module.iter().collect(),
            };
            let only_opa: Vec<_> = opa
                .as_ref()
                .map(|o| o.iter().filter(|p| !module.contains(p)).collect())
                .unwrap_or_default();
            failures.push(format!(
                "review {n}:\n  module {module:?}\n  opa    {opa:?}\n  only module {only_module:?}\n  only opa    {only_opa:?}\n  input {input}"
            ));
        }
    }
    eprintln!("{cases} generated reviews, {denied} denied by the module");
    assert!(
        failures.is_empty(),
        "real OPA and the module disagree on {} of {cases} generated reviews (input file {}):\n{}",
        failures.len(),
        file.display(),
        failures.join("\n")
    );
}
