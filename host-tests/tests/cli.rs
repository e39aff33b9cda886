//! The `runner-policy` binary on small temporary files: exit codes and output of `eval`,
//! `replay`, `test` and `bench`.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const ORG_NS: &str = "example-runners";

/// A fresh temporary directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("runner-policy-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary; panics with the build hint when the module is missing.
fn run(args: &[&str]) -> Output {
    let module = host_tests::host::default_module_path();
    assert!(
        module.exists(),
        "{} not found: run `cargo xtask dist` to build the policy module",
        module.display()
    );
    Command::new(env!("CARGO_BIN_EXE_runner-policy"))
        .arg("--module")
        .arg(&module)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn explain(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A job pod of the runner `kind`, privileged or not, as a raw AdmissionReview.
fn review(kind: &str, privileged: bool, uid: &str) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": format!("runner-{kind}-{uid}"),
            "namespace": ORG_NS,
            "operation": "CREATE",
            "userInfo": {"username": format!("system:serviceaccount:{ORG_NS}:gitlab-runner-{kind}")},
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": format!("runner-{kind}-{uid}"), "namespace": ORG_NS},
                "spec": {
                    "serviceAccountName": format!("gitlab-runner-{kind}"),
                    "containers": [{
                        "name": "build",
                        "image": "docker.io/library/alpine:3",
                        "securityContext": {"privileged": privileged},
                    }],
                },
            },
        },
    })
}

#[test]
fn eval_prints_the_decision_and_exits_by_verdict() {
    let dir = temp_dir("eval");
    let allow = write(&dir, "allow.json", &review("dind", true, "a").to_string());
    let deny = write(&dir, "deny.json", &review("docker", true, "d").to_string());
    let garbage = write(&dir, "garbage.json", "{\"kind\": ");
    // (file, extra args, exit code, text expected in stdout)
    let cases: [(&Path, &[&str], i32, &str); 4] = [
        (&allow, &[], 0, "ALLOW"),
        (&deny, &[], 1, "dind-only-privilege"),
        (&garbage, &[], 1, "valid-request"),
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
fn replay_walks_json_yaml_and_json_lines() {
    let dir = temp_dir("replay");
    write(&dir, "one.json", &review("dind", true, "1").to_string());
    write(
        &dir,
        "nested/two.yaml",
        &format!(
            "{}---\n{}",
            serde_yaml::to_string(&review("docker", true, "2")).unwrap(),
            serde_yaml::to_string(&review("nix", false, "3")).unwrap()
        ),
    );
    write(
        &dir,
        "log.jsonl",
        &format!(
            "{}\n{}\n",
            review("rocky8", false, "4"),
            review("rocky9", true, "5")
        ),
    );
    write(
        &dir,
        "list.json",
        &json!({"kind": "List", "items": [review("dind", false, "6")]}).to_string(),
    );
    write(&dir, "ignored.txt", "not a request");
    let path = dir.to_str().unwrap();
    let output = run(&["replay", path]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let out = stdout(&output);
    assert!(out.contains("6 requests"), "{out}");
    assert!(out.contains("2 denied"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("DENY")).count(),
        2,
        "{out}"
    );
    // Two denials, of the docker and the rocky9 runner's requests.
    assert!(
        out.lines().any(|l| l.ends_with("2  dind-only-privilege  (system:serviceaccount:example-runners:gitlab-runner-docker 1, system:serviceaccount:example-runners:gitlab-runner-rocky9 1)")),
        "{out}"
    );
    let output = run(&["replay", "--fail-on-deny", path]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
}

#[test]
fn replay_reads_an_audit_log_and_says_what_it_skipped() {
    let dir = temp_dir("audit");
    let sample =
        host_tests::host::workspace_root().join("host-tests/requests/sample-audit-log.jsonl");
    let sample = std::fs::read_to_string(sample).unwrap();
    let events: Vec<Value> = sample
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = events[0].clone();
    let mut received = first.clone();
    received["stage"] = "RequestReceived".into();
    let mut list = first.clone();
    list["verb"] = "list".into();
    let mut broken = first.clone();
    broken["verb"] = 7.into();
    // A pod logged without a `get` first: its previous state is not in the log.
    let mut relabel = events
        .iter()
        .find(|e| e["objectRef"]["resource"] == "pods" && e["verb"] == "create")
        .unwrap()
        .clone();
    relabel["verb"] = "update".into();
    relabel["objectRef"]["name"] = "unseen".into();
    relabel["auditID"] = "relabel".into();
    let extra = [received, list, broken, relabel]
        .map(|e| e.to_string())
        .join("\n");
    // As the API server rotates its log, with the rotated file's last line cut short.
    let text = format!("{extra}\n{sample}{}\n", &sample[..100]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let path = dir.join("audit-2026-11-20T10-00-00.000.log.gz");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let output = run(&["replay", dir.to_str().unwrap()]);
    // Everything readable is judged; the cut line makes it exit 2 at the end.
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    let out = stdout(&output);
    assert!(out.contains("71 requests in 1 files"), "{out}");
    assert!(
        out.contains(
            "audit events: 78 read, 71 replayed as admission requests, 6 skipped, 1 unreadable"
        ),
        "{out}"
    );
    for line in [
        "        1  an earlier stage of a request logged again when it completed",
        "        5  reads and other verbs admission does not see",
        "  1 UPDATEs of pod-bearing objects were judged as if their pod spec changed",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert_eq!(
        out.lines()
            .filter(|l| l.ends_with("(previous state not in the log)"))
            .count(),
        1,
        "{out}"
    );
    let err = stderr(&output);
    assert!(err.contains("an audit event cannot be read"), "{err}");
    assert!(err.contains(".log.gz:79: not a JSON line"), "{err}");
    assert!(
        err.contains("error: 1 line could not be read or parsed"),
        "{err}"
    );
}

#[test]
fn eval_judges_one_audit_event_as_the_request_it_was() {
    let dir = temp_dir("audit-eval");
    let sample =
        host_tests::host::workspace_root().join("host-tests/requests/sample-audit-log.jsonl");
    let sample = std::fs::read_to_string(sample).unwrap();
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
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    assert!(
        stderr(&output).contains("reads and other verbs admission does not see"),
        "{}",
        explain(&output)
    );
}

#[test]
fn check_judges_manifests_as_the_creates_that_apply_them() {
    let dir = temp_dir("check");
    let role = |name: &str, resources: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: {name}}}\nrules:\n  - {{apiGroups: [\"\"], resources: [{resources}], verbs: [get, list]}}\n"
        )
    };
    // What `helm template` prints: no namespaces (`kubectl apply -n` gives them).
    write(
        &dir,
        "chart/rendered.yaml",
        &format!("{}---\n{}", role("wide", "\"*\""), role("narrow", "pods")),
    );
    let privileged = json!({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"metadata": {}, "spec": {"containers": [
            {"name": "c", "image": "docker.io/library/alpine:3.20", "securityContext": {"privileged": true}}]}}}}]});
    write(&dir, "list.json", &privileged.to_string());
    let path = dir.to_str().unwrap();
    let check = |namespace: &str| {
        run(&[
            "check",
            "--as",
            "system:serviceaccount:ci:deployer",
            "-n",
            namespace,
            path,
        ])
    };
    let output = check("example-runners");
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let out = stdout(&output);
    assert!(
        out.contains("3 requests in 2 files: 1 allowed, 2 denied"),
        "{out}"
    );
    for line in [
        "1  dind-only-privilege  (system:serviceaccount:ci:deployer 1)",
        "1  namespaced-rbac  (system:serviceaccount:ci:deployer 1)",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert!(out.contains("example-runners/wide"), "{out}");
    // Outside the runners namespace neither rule applies.
    let output = check("team-a");
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    // `replay` does not judge manifests, and says which command does.
    let output = run(&["replay", path]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert!(stdout(&output).contains("3 Kubernetes objects that are not requests were not judged: `runner-policy check --as USER`"), "{}", explain(&output));
    // The identity is never guessed.
    let output = run(&["check", path]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    assert!(
        stderr(&output).contains("--as <USER>"),
        "{}",
        explain(&output)
    );
}

#[test]
fn test_reports_each_case_and_fails_on_a_wrong_expectation() {
    let dir = temp_dir("suite");
    write(
        &dir,
        "requests/dind.json",
        &review("dind", true, "1").to_string(),
    );
    write(
        &dir,
        "requests/docker.json",
        &review("docker", true, "2").to_string(),
    );
    let good = "cases:\n\
        - {name: dind-pod, request: requests/dind.json, expect: allow}\n\
        - {name: docker-privileged, request: requests/docker.json, expect: {deny: [dind-only-privilege]}}\n";
    let suite = write(&dir, "good.yaml", good);
    let output = run(&["test", suite.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert!(
        stdout(&output).contains("2 passed, 0 failed"),
        "{}",
        explain(&output)
    );

    let wrong = format!("{good}- {{name: wrong, request: requests/docker.json, expect: allow}}\n");
    let suite = write(&dir, "wrong.yaml", &wrong);
    let output = run(&["test", suite.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let out = stdout(&output);
    assert!(out.contains("ok    dind-pod"), "{out}");
    assert!(
        out.contains("FAIL  wrong: expected allow, got deny [dind-only-privilege]"),
        "{out}"
    );
    assert!(out.contains("2 passed, 1 failed"), "{out}");
}

#[test]
fn bench_reports_json_figures() {
    let dir = temp_dir("bench");
    let file = write(&dir, "dind.json", &review("dind", true, "1").to_string());
    let output = run(&[
        "bench",
        "--json",
        "--native",
        "--iterations",
        "200",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["module_bytes"].as_u64().unwrap() > 0, "{report}");
    let request = &report["requests"][0];
    assert_eq!(
        request["bytes"].as_u64(),
        Some(std::fs::metadata(&file).unwrap().len())
    );
    assert!(request["median_us"].as_f64().unwrap() > 0.0, "{report}");
    assert!(
        request["native_median_us"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(request.get("rego_median_us").is_none(), "{report}");
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
