//! The C++ CEL (`cel-expr-python` from PyPI, with RE2) evaluates the ValidatingAdmissionPolicy
//! generated for the example settings to the module's verdict on every recorded request.
//! Runs `host-tests/python/cel.sh`, which installs it into `.venv-cel/` (python3 with venv and
//! PyPI access needed). Requests the module denies as `valid-request` are left out.

use std::process::Command;

use runner_policy::host::workspace_root;
use runner_policy::rego::{RegoPolicy, admission_request};
use runner_policy::suite::{Suite, default_suite_path};
use runner_policy::vap::Engine;
use serde_json::Value;

#[test]
fn the_cpp_cel_agrees_with_the_module_on_every_recorded_request() {
    let settings = runner_policy::settings::example().unwrap();
    let engine = Engine::from_settings(&settings).unwrap();
    let policy =
        std::env::temp_dir().join(format!("runner-policy-vap-{}.yaml", std::process::id()));
    std::fs::write(&policy, runner_policy::vap::yaml_for(&settings).unwrap()).unwrap();
    let script = workspace_root().join("host-tests/python/cel.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg("--policy")
        .arg(&policy)
        .arg("--suite")
        .arg(default_suite_path())
        .output()
        .expect("cannot run bash");
    let _ = std::fs::remove_file(&policy);
    assert!(
        output.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let suite = Suite::load(&default_suite_path()).unwrap();
    let (mut compared, mut excluded, mut denied) = (0, 0, 0);
    let mut failures = Vec::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        let name = line["name"].as_str().unwrap();
        let case = suite.cases.iter().find(|c| c.name == name).unwrap();
        let doc: Value = serde_json::from_slice(&std::fs::read(&case.request).unwrap()).unwrap();
        let Some(request) = admission_request(&doc) else {
            excluded += 1;
            continue;
        };
        let input = RegoPolicy::gatekeeper_input(request, &settings).to_string();
        let decision = policy::eval::decide(input.as_bytes(), None).decision;
        let rules: Vec<&str> = decision
            .violations
            .iter()
            .map(|v| v.rule.as_str())
            .collect();
        if rules.contains(&"valid-request") {
            excluded += 1;
            continue;
        }
        compared += 1;
        let agree = match (
            line["allowed"].as_bool(),
            line["index"].as_u64(),
            line.get("error"),
        ) {
            (_, _, Some(error)) => {
                failures.push(format!("{name}: evaluation error {error}"));
                continue;
            }
            (Some(true), _, None) => rules.is_empty(),
            (Some(false), Some(index), None) => {
                denied += 1;
                engine
                    .vap()
                    .rule_of(index as usize)
                    .is_some_and(|r| rules.contains(&r.as_str()))
            }
            _ => false,
        };
        if !agree {
            failures.push(format!("{name}: module {rules:?}, cel-expr-python {line}"));
        }
    }
    eprintln!(
        "cel-expr-python: {compared} recorded requests compared ({denied} denied), {excluded} left out"
    );
    assert_eq!(compared + excluded, suite.cases.len(), "a case is missing");
    assert!(denied > 10, "too few denials ({denied}) to prove anything");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
