//! The CLI's JUnit reports, read back by a JUnit reader from PyPI (junitparser, installed by
//! `host-tests/python/hosts.sh --junit` into `.venv-hosts/`; python3 with venv and PyPI access
//! needed).

mod common;

use std::process::Command;

use runner_policy::host::{default_module_path, workspace_root};
use serde_json::Value;

/// A JUnit reader from PyPI (junitparser, through `hosts.sh --junit`) reads the reports of
/// `check --junit` and `test --junit` as the CLI meant them: every case, its class and name,
/// and each failure's message and text, markup in names and messages included.
#[test]
fn a_junit_reader_reads_the_cli_reports() {
    let dir = common::temp_dir("junit");
    std::fs::create_dir_all(dir.join("a&b <c>")).unwrap();
    let manifests = dir.join("a&b <c>/rendered.yaml");
    std::fs::write(
        &manifests,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: c, image: docker.io/library/alpine:3}]}\n\
         ---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: priv}\nspec: {containers: [{name: \"c\", image: docker.io/library/alpine:3, securityContext: {privileged: true}}]}\n",
    )
    .unwrap();
    let suite = dir.join("suite.yaml");
    let request = workspace_root().join("host-tests/requests/docker/privileged-pod.json");
    std::fs::write(
        &suite,
        format!(
            "cases:\n- {{name: \"ok 'quoted' & <marked>\", request: {0}, expect: {{deny: [dind-only-privilege]}}}}\n- {{name: wrong, request: {0}, expect: allow}}\n",
            request.display()
        ),
    )
    .unwrap();
    let (check_xml, test_xml) = (dir.join("check.xml"), dir.join("test.xml"));
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_runner-policy"))
            .arg("--module")
            .arg(default_module_path())
            .args(args)
            .output()
            .unwrap()
    };
    let check = cli(&[
        "check",
        "-n",
        "example-runners",
        "--as",
        "system:serviceaccount:ci:deployer",
        "--junit",
        check_xml.to_str().unwrap(),
        manifests.to_str().unwrap(),
    ]);
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    let test = cli(&[
        "test",
        "--junit",
        test_xml.to_str().unwrap(),
        suite.to_str().unwrap(),
    ]);
    assert_eq!(test.status.code(), Some(1), "{test:?}");

    let script = workspace_root().join("host-tests/python/hosts.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg("--junit")
        .args([&check_xml, &test_xml])
        .output()
        .expect("cannot run bash");
    assert!(
        output.status.success(),
        "{} --junit failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let [check, test] = reports.as_slice() else {
        panic!("two reports expected: {reports:?}")
    };

    let suite = &check["suites"][0];
    assert_eq!(suite["name"], "runner-policy check");
    assert_eq!(
        (&suite["tests"], &suite["failures"], &suite["errors"]),
        (&2.into(), &1.into(), &0.into())
    );
    let cases = suite["cases"].as_array().unwrap();
    let class = manifests.display().to_string();
    assert!(
        cases.iter().all(|c| c["classname"] == class.as_str()),
        "{cases:?}"
    );
    assert_eq!(cases[0]["name"], "Pod example-runners/ok");
    assert_eq!(cases[0]["result"], "passed");
    assert_eq!(cases[1]["name"], "Pod example-runners/priv");
    assert_eq!(cases[1]["result"], "failure");
    assert_eq!(cases[1]["message"], "denied: dind-only-privilege");
    let text = cases[1]["text"].as_str().unwrap();
    assert!(
        text.starts_with("dind-only-privilege  spec.containers[0].securityContext.privileged  c  container \"c\" of Pod example-runners/priv: "),
        "{text}"
    );

    let suite = &test["suites"][0];
    assert_eq!(suite["name"], "runner-policy test");
    let cases = suite["cases"].as_array().unwrap();
    assert_eq!(cases[0]["name"], "ok 'quoted' & <marked>");
    assert_eq!(cases[0]["result"], "passed");
    assert_eq!(cases[1]["result"], "failure");
    assert_eq!(
        cases[1]["message"],
        "expected allow, got deny [dind-only-privilege]"
    );
}
