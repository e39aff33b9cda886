//! The Python hosts of the OPA Wasm ABI, `opa-wasmtime` and `opa-py-wasm` (PyPI), give the
//! wasmtime host's decisions on every recorded request, on `runners/decision` and
//! `runners/main`. Runs `host-tests/python/hosts.sh`, which installs them into `.venv-hosts/`
//! (python3 with venv and PyPI access needed).

use std::collections::BTreeSet;
use std::process::Command;

use runner_policy::host::{Runtime, default_module_path, workspace_root};
use runner_policy::suite::{Suite, default_suite_path};
use serde_json::Value;

const HOSTS: [&str; 2] = ["opa-py-wasm", "opa-wasmtime"];

#[test]
fn python_hosts_agree_with_the_wasmtime_host() {
    let script = workspace_root().join("host-tests/python/hosts.sh");
    let module = default_module_path();
    let output = Command::new("bash")
        .arg(&script)
        .args(["--wasm", module.to_str().unwrap()])
        .output()
        .expect("cannot run bash");
    assert!(
        output.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let runtime = Runtime::load(&module).unwrap();
    let settings = runner_policy::settings::example().unwrap();
    let mut host = runtime.instantiate(&settings).unwrap();
    let suite = Suite::load(&default_suite_path()).unwrap();
    let mut seen = BTreeSet::new();
    let mut disagree = Vec::new();
    for line in &lines {
        let (py, name) = (
            line["host"].as_str().unwrap(),
            line["name"].as_str().unwrap(),
        );
        let case = suite.cases.iter().find(|c| c.name == name).unwrap();
        let bytes = std::fs::read(&case.request).unwrap();
        for (key, entrypoint) in [("decision", "runners/decision"), ("main", "runners/main")] {
            let expected = host.evaluate(entrypoint, &bytes).unwrap();
            if line[key] != expected {
                disagree.push(format!(
                    "{py} {name} {entrypoint}:\n  py   {}\n  host {expected}",
                    line[key]
                ));
            }
        }
        seen.insert((py.to_owned(), name.to_owned()));
    }
    for py in HOSTS {
        for case in &suite.cases {
            assert!(
                seen.contains(&(py.to_owned(), case.name.clone())),
                "{py} gave no decision for {}",
                case.name
            );
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
