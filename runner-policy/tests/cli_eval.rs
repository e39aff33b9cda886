//! `runner-policy eval`: one request's decision and exit code, from a file or standard input,
//! and the usage and I/O errors every command shares (exit 2).
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use common::{
    assert_fails, explain, review, run, run_with_input, sample_audit_log, stderr, stdout, temp_dir,
    write,
};

#[test]
fn eval_prints_the_decision_and_exits_by_verdict() {
    let dir = temp_dir("eval");
    let allow = write(&dir, "allow.json", &review("dind", true, "a").to_string());
    let deny = write(&dir, "deny.json", &review("docker", true, "d").to_string());
    let garbage = write(&dir, "garbage.json", "{\"kind\": ");
    // A request the module must deny, not refused before it: it has a `request`.
    let malformed = write(&dir, "malformed.json", r#"{"request": {"uid": 7}}"#);
    // (file, extra args, exit code, text expected in stdout)
    let cases: [(&Path, &[&str], i32, &str); 5] = [
        (&allow, &[], 0, "ALLOW"),
        (&deny, &[], 1, "dind-only-privilege"),
        (&garbage, &["--raw"], 1, "valid-request"),
        (&malformed, &[], 1, "valid-request"),
        (&deny, &["--json"], 1, "\"allowed\": false"),
    ];
    for (file, extra, code, text) in cases {
        let mut args = vec!["eval"];
        args.extend_from_slice(extra);
        args.push(file.to_str().unwrap());
        let output = run(&args);
        assert_eq!(output.status.code(), Some(code), "{}", explain(&output));
        assert!(stdout(&output).contains(text), "{}", explain(&output));
    }
    let json: Value =
        serde_json::from_slice(&run(&["eval", "--json", deny.to_str().unwrap()]).stdout).unwrap();
    assert_eq!(json["allowed"], false);
}

#[test]
fn eval_uses_the_given_settings() {
    let dir = temp_dir("settings");
    let deny = write(&dir, "deny.json", &review("docker", true, "d").to_string());
    // docker may run privileged with these settings.
    let settings = write(
        &dir,
        "settings.json",
        &json!({
            "org": "example",
            "runners": [{"type": "dind", "serviceAccount": "gitlab-runner-dind"},
                        {"type": "docker", "serviceAccount": "gitlab-runner-docker"}],
            "privilegedRunnerTypes": ["dind", "docker"],
        })
        .to_string(),
    );
    let output = run(&[
        "eval",
        "--settings",
        settings.to_str().unwrap(),
        deny.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
}

#[test]
fn eval_judges_one_audit_event_as_the_request_it_was() {
    let dir = temp_dir("audit-eval");
    let sample = sample_audit_log();
    // The docker runner creating a job pod in `default`.
    let event: Value = sample
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| {
            e["verb"] == "create"
                && e["objectRef"]["resource"] == "pods"
                && e["objectRef"]["namespace"] == "default"
                && e["user"]["username"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(":gitlab-runner-docker"))
        })
        .expect("the sample log has a runner job pod outside the runners namespace");
    let path = write(&dir, "event.json", &event.to_string());
    let output = run(&["eval", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    assert!(
        stdout(&output).contains("runner-namespace"),
        "{}",
        explain(&output)
    );
    assert!(
        stderr(&output).contains("rebuilt from audit event"),
        "{}",
        explain(&output)
    );
    let mut read = event;
    read["verb"] = "list".into();
    let path = write(&dir, "list.json", &read.to_string());
    let output = run(&["eval", path.to_str().unwrap()]);
    assert_fails(&output, 2, "reads and other verbs admission does not see");
}

#[test]
fn eval_reads_standard_input_and_refuses_what_is_not_a_request() {
    let deny = review("docker", true, "d").to_string();
    let output = run_with_input(&["eval", "-"], &deny);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    assert!(
        stdout(&output).starts_with("DENY  runner: docker\n"),
        "{}",
        explain(&output)
    );
    // YAML on standard input too.
    let yaml = serde_yaml::to_string(&review("dind", true, "a")).unwrap();
    let output = run_with_input(&["eval", "-"], &yaml);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n";
    let cases: [(&str, &str); 4] = [
        ("", "standard input is empty"),
        ("  \n", "standard input is empty"),
        ("{\"kind\": ", "standard input is not JSON"),
        (
            manifest,
            "standard input is a Pod manifest, not an admission request: `runner-policy check --as USER -n NAMESPACE -`",
        ),
    ];
    for (input, text) in cases {
        assert_fails(&run_with_input(&["eval", "-"], input), 2, text);
    }
    let dir = temp_dir("eval-input");
    let other = write(&dir, "other.json", r#"{"hello": "world"}"#);
    assert_fails(
        &run(&["eval", other.to_str().unwrap()]),
        2,
        "holds no admission request",
    );
    let garbage = write(&dir, "garbage.json", "{\"kind\": ");
    assert_fails(
        &run(&["eval", garbage.to_str().unwrap()]),
        2,
        "`eval --raw`",
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let cases: [&[&str]; 4] = [
        &["eval"],
        &["frobnicate"],
        &["eval", "/nonexistent/request.json"],
        &["test", "/nonexistent/suite.yaml"],
    ];
    for args in cases {
        let output = run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            explain(&output)
        );
    }
}

#[test]
fn a_missing_module_says_how_to_build_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_runner-policy"))
        .args(["--module", "/nonexistent/policy.wasm", "eval", "x.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cargo xtask dist"),
        "{}",
        explain(&output)
    );
}
