//! `runner-policy vap`: the policy and its Binding for a settings file, as one YAML stream;
//! invalid settings generate nothing (exit 2).

mod common;

use std::process::{Command, Output};

use runner_policy::host::workspace_root;
use serde_json::Value;

fn vap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runner-policy"))
        .current_dir(workspace_root())
        .arg("vap")
        .args(args)
        .output()
        .unwrap()
}

fn documents(yaml: &str) -> Vec<Value> {
    yaml.split("\n---\n")
        .map(|d| serde_yaml::from_str(d).unwrap())
        .collect()
}

#[test]
fn writes_the_policy_and_its_binding_for_the_settings() {
    let out = vap(&["--settings", "bundles/settings.example.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# runner-policy as a Kubernetes ValidatingAdmissionPolicy"));
    assert!(text.contains("valid-request is the API server's job"));
    let docs = documents(&text);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["kind"], "ValidatingAdmissionPolicy");
    assert_eq!(docs[0]["apiVersion"], "admissionregistration.k8s.io/v1");
    assert_eq!(docs[1]["kind"], "ValidatingAdmissionPolicyBinding");
    assert_eq!(docs[1]["spec"]["policyName"], docs[0]["metadata"]["name"]);
    assert_eq!(docs[1]["spec"]["validationActions"][0], "Deny");
    let validations = docs[0]["spec"]["validations"].as_array().unwrap();
    // Every rule but valid-request has a validation, each message starting with its name.
    for rule in policy::decision::RuleName::ALL {
        let prefix = format!("'{rule}: ' + ");
        let found = validations.iter().any(|v| {
            v["messageExpression"]
                .as_str()
                .unwrap()
                .starts_with(&prefix)
        });
        assert_eq!(
            found,
            rule != policy::decision::RuleName::ValidRequest,
            "{rule}"
        );
    }
    // The settings are literals: the runners namespace and a registry are in the text.
    assert!(text.contains("example-runners"));
    assert!(text.contains("registry.gitlab.com"));
    // No exempt users in the example: no match condition.
    assert!(docs[0]["spec"].get("matchConditions").is_none());
}

#[test]
fn exempt_users_become_a_match_condition_and_output_goes_to_a_file() {
    let dir = common::temp_dir("vap");
    let settings = dir.join("settings.yaml");
    let example = std::fs::read_to_string(workspace_root().join("bundles/settings.example.yaml"))
        .unwrap()
        .replace("exemptUsers: []", "exemptUsers: [cluster-admin-bob]");
    std::fs::write(&settings, example).unwrap();
    let output = dir.join("vap.yaml");
    let out = vap(&[
        "--settings",
        settings.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let docs = documents(&std::fs::read_to_string(&output).unwrap());
    let condition = docs[0]["spec"]["matchConditions"][0]["expression"]
        .as_str()
        .unwrap();
    assert_eq!(
        condition,
        "!(request.userInfo.username in ['cluster-admin-bob'])"
    );
}

#[test]
fn invalid_settings_generate_nothing() {
    let dir = common::temp_dir("vap-bad");
    let settings = dir.join("settings.yaml");
    std::fs::write(&settings, "org: example\nrunners: []\n").unwrap();
    let out = vap(&["--settings", settings.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn cost_reports_each_validation() {
    let out = vap(&["--cost", "-o", "/dev/null"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("10 containers x 50 env x 20 mounts, 50 volumes"),
        "{err}"
    );
    assert!(
        err.contains("no-push-credentials auth path mounts"),
        "{err}"
    );
}
