//! The browser playground (`bundles/playground/`, written with the module, the official JS SDK,
//! js-yaml and the recorded examples to `bundles/dist/playground/` by `cargo xtask dist`) in
//! headless Chromium, driven through the DevTools protocol by `host-tests/js/browser.mjs`. The
//! driver waits until the page marks itself ready, within a limit of minutes, so a busy machine
//! makes this test slower, not red.
//!
//! Checked: every example gets the decision wasmtime gives it (with the settings the page reads
//! from the example YAML); the page opens on the docker runner's privileged pod; `?example=`
//! takes the README's file paths and says so when an example is not there; edited YAML settings
//! decide as the same text read by the CLI does; manifests with a requester become the
//! AdmissionReviews `runner-policy check` builds, with the same decisions.
//!
//! Needs Node and Chromium (`apt-get install chromium`; `cargo xtask test` installs it) or
//! `RUNNER_POLICY_CHROMIUM=path`. `RUNNER_POLICY_PLAYGROUND_SCREENSHOTS=DIR` saves what the
//! page showed in some steps as PNG files there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runner_policy::host::{Policy, Runtime, default_module_path, workspace_root};
use runner_policy::manifest::{Requester, create_review};
use serde_json::{Value, json};

/// The limit for the whole browser run (every page): generous, since the machine may be busy.
const TIMEOUT_SECONDS: u64 = 600;

/// What each step reports: the page's state, what it shows and its outputs.
const REPORT: &str = r#"(() => {
  const $ = (id) => document.getElementById(id);
  // One row per object heading or violation (rule, path, container, then its message row).
  const rows = [];
  for (const tr of $("violations").tBodies[0]?.rows ?? []) {
    if (tr.className === "message") rows[rows.length - 1].push(tr.textContent);
    else rows.push([...tr.cells].map((c) => c.textContent));
  }
  const path = document.querySelector("td.path code");
  return {
    state: document.documentElement.dataset.state,
    verdict: $("verdict").textContent,
    verdictClass: $("verdict").className,
    meta: $("meta").textContent,
    notice: $("notice").hidden ? null : $("notice").textContent,
    example: $("example").value,
    request: $("request").value,
    header: [...$("violations").querySelectorAll("th")].map((c) => c.textContent),
    rows,
    pathWrap: path && getComputedStyle(path).overflowWrap,
    pathBreaks: path && path.querySelectorAll("wbr").length,
    built: $("built").value,
    raw: $("raw").value,
    selftest: $("selftest").textContent,
  };
})()"#;

/// Serves `dir` over HTTP on a free local port until the process ends; returns the port.
fn serve(dir: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let path = path
                .split('?')
                .next()
                .unwrap_or("/")
                .trim_start_matches('/');
            let path = if path.is_empty() { "index.html" } else { path };
            let file = dir.join(path);
            let kind = match Path::new(path).extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html",
                Some("mjs" | "js") => "text/javascript",
                Some("json") => "application/json",
                Some("wasm") => "application/wasm",
                _ => "application/octet-stream",
            };
            let response = match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    [head.into_bytes(), body].concat()
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    port
}

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("RUNNER_POLICY_CHROMIUM") {
        return PathBuf::from(path);
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(PathBuf::from)
        .expect("no Chromium: `apt-get install chromium` (cargo xtask test does), or set RUNNER_POLICY_CHROMIUM")
}

/// One page to open: its URL query, the inputs to fill (element id, value) and an optional
/// screenshot name.
struct Step {
    query: String,
    inputs: Vec<(&'static str, String)>,
    screenshot: Option<&'static str>,
}

fn step(query: &str) -> Step {
    Step {
        query: query.to_owned(),
        inputs: Vec::new(),
        screenshot: None,
    }
}

/// Opens every step's page in one headless Chromium; returns each page's [`REPORT`].
fn browse(port: u16, steps: &[Step]) -> Vec<Value> {
    let shots = std::env::var_os("RUNNER_POLICY_PLAYGROUND_SCREENSHOTS").map(PathBuf::from);
    let plan: Vec<Value> = steps
        .iter()
        .map(|s| {
            json!({
                "url": format!("http://127.0.0.1:{port}/index.html{}", s.query),
                "inputs": s.inputs,
                "expr": REPORT,
                "screenshot": shots.as_ref().zip(s.screenshot)
                    .map(|(dir, name)| dir.join(format!("{name}.png"))),
            })
        })
        .collect();
    let driver = workspace_root().join("host-tests/js/browser.mjs");
    let mut child = Command::new("node")
        .arg(&driver)
        .arg(chromium())
        .arg(TIMEOUT_SECONDS.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot run node (the playground test drives Chromium with Node)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(&plan).unwrap())
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    // The driver keeps its own limit; this one only catches a driver that hangs.
    let deadline = Instant::now() + Duration::from_secs(TIMEOUT_SECONDS + 60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the browser driver did not end within {TIMEOUT_SECONDS} s + 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = reader.join().unwrap().unwrap();
    assert!(
        status.success(),
        "the browser driver failed ({status}); see its stderr above"
    );
    let reports: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(reports.len(), steps.len());
    for (report, step) in reports.iter().zip(steps) {
        assert_eq!(report["state"], "ready", "{}: {report:#}", step.query);
    }
    reports
}

/// The violations as the page's table shows them: rule, path, container, message.
fn rows_of(decision: &Value) -> Vec<Vec<String>> {
    decision["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
            let path = Some(text("path")).filter(|p| !p.is_empty());
            vec![
                text("rule"),
                path.unwrap_or_else(|| "-".into()),
                v["container"].as_str().unwrap_or("-").to_owned(),
                text("msg"),
            ]
        })
        .collect()
}

fn decide(policy: &mut Policy, review: &Value) -> Value {
    policy
        .evaluate("runners/decision", &serde_json::to_vec(review).unwrap())
        .unwrap()
}

fn json_of(text: &Value) -> Value {
    serde_json::from_str(text.as_str().unwrap())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The objects of the manifest step: a privileged pod (denied for the docker runner), a
/// ClusterRoleBinding and a Namespace (cluster-scoped), and a `List` of a Deployment without
/// namespace and a Gateway (a kind outside the table: its resource is derived).
fn manifests(example: &Value) -> (String, Vec<Value>) {
    let mut pod = example["review"]["request"]["object"].clone();
    pod["metadata"].as_object_mut().unwrap().remove("namespace");
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "ci-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}],
    });
    let namespace =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}});
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "quay.io/example/web:1"}]}}},
    });
    let gateway = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "edge"}, "spec": {"gatewayClassName": "x", "listeners": []},
    });
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [deployment, gateway]});
    let text = format!(
        "# rendered manifests\n{}---\n{}---\n{}---\n{}",
        serde_yaml::to_string(&pod).unwrap(),
        serde_yaml::to_string(&binding).unwrap(),
        serde_yaml::to_string(&namespace).unwrap(),
        serde_yaml::to_string(&list).unwrap(),
    );
    (text, vec![pod, binding, namespace, deployment, gateway])
}

#[test]
fn the_playground_decides_as_wasmtime_and_check_do() {
    let dir = workspace_root().join("bundles/dist/playground");
    let examples: Value = serde_json::from_slice(
        &std::fs::read(dir.join("examples.json")).expect("run `cargo xtask dist` first"),
    )
    .unwrap();
    let list = examples["examples"].as_array().unwrap();
    assert!(list.len() >= 70, "{} examples", list.len());
    let example = |request: &str| {
        list.iter()
            .find(|e| e["request"] == request)
            .unwrap_or_else(|| panic!("no example {request}"))
    };
    let privileged = example("docker/privileged-pod.json");
    let docker_runner = "system:serviceaccount:example-runners:gitlab-runner-docker";

    // Settings as YAML: comments, block lists, and the docker runner made a privileged type.
    let yaml_settings = examples["settingsYaml"].as_str().unwrap().replace(
        "privilegedRunnerTypes: [dind]",
        "# the docker runner may run privileged jobs too\nprivilegedRunnerTypes:\n  - dind\n  - docker  # for this test",
    );
    assert_ne!(yaml_settings, examples["settingsYaml"].as_str().unwrap());
    let typo_settings = examples["settingsYaml"]
        .as_str()
        .unwrap()
        .replace("allowedRegistries:", "allowedRegistry:");
    let (manifest_text, objects) = manifests(privileged);
    let deployment = &objects[3];

    let steps = vec![
        Step {
            screenshot: Some("default"),
            ..step("?selftest")
        },
        step("?example=docker/privileged-pod.json"),
        step("?example=host-tests/requests/host/dind-docker-sock.json"),
        step("?example=docker-runner-privileged-pod-dry-run"),
        Step {
            screenshot: Some("not-found"),
            ..step("?example=host-tests/requests/docker/no-such-pod.json")
        },
        Step {
            inputs: vec![("settings", yaml_settings.clone())],
            ..step("?example=docker/privileged-pod.json")
        },
        Step {
            inputs: vec![("settings", typo_settings.clone())],
            ..step("?example=docker/privileged-pod.json")
        },
        Step {
            inputs: vec![
                ("manifest", manifest_text),
                ("as", docker_runner.to_owned()),
                ("groups", "system:serviceaccounts".to_owned()),
                ("namespace", "example-runners".to_owned()),
            ],
            screenshot: Some("manifest"),
            ..step("?mode=manifest")
        },
        Step {
            inputs: vec![
                (
                    "manifest",
                    serde_json::to_string_pretty(deployment).unwrap(),
                ),
                ("as", "alice".to_owned()),
                ("groups", String::new()),
                ("namespace", String::new()),
            ],
            ..step("?mode=manifest")
        },
    ];
    let port = serve(dir);
    let reports = browse(port, &steps);
    let [
        selftest,
        by_path,
        by_full_path,
        by_name,
        unknown,
        yaml,
        typo,
        manifest,
        plain_user,
    ] = &reports[..]
    else {
        panic!("{} reports for {} steps", reports.len(), steps.len());
    };

    // Every example, with the settings the page read from the example YAML.
    let runtime = Runtime::load(&default_module_path()).unwrap();
    let mut policy = runtime.instantiate(&examples["settings"]).unwrap();
    let browser = json_of(&selftest["selftest"]);
    for example in list {
        let name = example["name"].as_str().unwrap();
        let want = decide(&mut policy, &example["review"]);
        assert_eq!(browser[name], want, "{name}");
        let expect = example["expect"].as_str().unwrap();
        assert_eq!(
            want["allowed"] == true,
            expect == "allow",
            "{name}: {expect}"
        );
    }

    // The page opens on the docker runner's privileged pod: a denial, one row per violation,
    // the path column breaking only between segments.
    let want = decide(&mut policy, &privileged["review"]);
    assert_eq!(want["allowed"], false);
    assert_eq!(selftest["example"], privileged["name"]);
    assert_eq!(selftest["verdict"], "DENY");
    assert_eq!(selftest["verdictClass"], "DENY");
    assert_eq!(selftest["header"], json!(["rule", "path", "container"]));
    assert_eq!(selftest["rows"], json!(rows_of(&want)));
    assert_eq!(selftest["pathWrap"], "normal");
    assert!(
        selftest["pathBreaks"].as_u64().unwrap() >= 3,
        "{selftest:#}"
    );
    assert_eq!(json_of(&selftest["raw"]), want);
    assert_eq!(selftest["notice"], Value::Null);

    // `?example=` takes a file as the README names it, with or without its directory, or a
    // case name.
    let sock = example("host/dind-docker-sock.json");
    let dry_run = list
        .iter()
        .find(|e| e["name"] == "docker-runner-privileged-pod-dry-run")
        .unwrap();
    for (report, example) in [
        (by_path, privileged),
        (by_full_path, sock),
        (by_name, dry_run),
    ] {
        assert_eq!(report["example"], example["name"], "{report:#}");
        assert_eq!(json_of(&report["request"]), example["review"]);
        let want = decide(&mut policy, &example["review"]);
        assert_eq!(report["verdict"], "DENY");
        assert_eq!(report["rows"], json!(rows_of(&want)));
    }

    // An example that is not there is named, and nothing else is shown in its place.
    let notice = unknown["notice"].as_str().unwrap_or_default();
    assert!(
        notice.contains("No example \"host-tests/requests/docker/no-such-pod.json\""),
        "{unknown:#}"
    );
    assert_eq!(unknown["verdictClass"], "ERROR");
    assert!(unknown["verdict"].as_str().unwrap().contains("not found"));
    assert_eq!(unknown["example"], "");
    assert_eq!(unknown["request"], "");
    assert_eq!(unknown["rows"], json!([]));

    // Edited YAML settings decide as the same text read by the CLI (serde_yaml): the docker
    // runner may now run the privileged pod; a typo key denies everything.
    for (report, text, allowed) in [(yaml, &yaml_settings, true), (typo, &typo_settings, false)] {
        let settings: Value = serde_yaml::from_str(text).unwrap();
        let mut edited = runtime.instantiate(&settings).unwrap();
        let want = decide(&mut edited, &privileged["review"]);
        assert_eq!(want["allowed"], allowed, "{want:#}");
        assert_eq!(json_of(&report["raw"]), want, "{report:#}");
        assert_eq!(report["rows"], json!(rows_of(&want)));
    }
    let typo_rules = json_of(&typo["raw"])["violations"][0]["rule"].clone();
    assert_eq!(typo_rules, "valid-request");

    // Manifests with a requester: the reviews `runner-policy check` builds, the same decisions.
    let cases = [
        (
            manifest,
            Requester {
                username: docker_runner.into(),
                groups: vec!["system:serviceaccounts".into()],
            },
            Some("example-runners"),
            objects.clone(),
        ),
        (
            plain_user,
            Requester {
                username: "alice".into(),
                groups: vec![],
            },
            None,
            vec![deployment.clone()],
        ),
    ];
    for (report, requester, namespace, objects) in cases {
        let built = json_of(&report["built"]);
        let decisions = json_of(&report["raw"]);
        let built = built.as_array().unwrap();
        assert_eq!(built.len(), objects.len(), "{report:#}");
        let mut rows = Vec::new();
        for ((review, object), decision) in
            built.iter().zip(objects).zip(decisions.as_array().unwrap())
        {
            let uid = review["request"]["uid"].as_str().unwrap();
            let want = create_review(object, &requester, namespace, uid);
            assert_eq!(review, &want);
            let want = decide(&mut policy, &want);
            assert_eq!(decision, &want);
            let request = &review["request"];
            let target = match request["namespace"].as_str() {
                Some(ns) => format!("{ns}/{}", request["name"].as_str().unwrap()),
                None => request["name"].as_str().unwrap().to_owned(),
            };
            let kind = request["kind"]["kind"].as_str().unwrap();
            let verdict = if want["allowed"] == true {
                "ALLOW"
            } else {
                "DENY"
            };
            rows.push(vec![format!("{kind} {target}: {verdict}")]);
            rows.extend(rows_of(&want));
        }
        assert_eq!(report["rows"], json!(rows), "{report:#}");
        let denied = decisions
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["allowed"] == false);
        assert_eq!(report["verdict"], if denied { "DENY" } else { "ALLOW" });
    }
    // The docker runner's pod, ClusterRoleBinding and Namespace are denied; the resources
    // derived for the Gateway and the default namespace hold as check builds them.
    let built = json_of(&manifest["built"]);
    assert_eq!(built[4]["request"]["resource"]["resource"], "gateways");
    assert_eq!(built[2]["request"]["namespace"], "team-a");
    let decisions = json_of(&manifest["raw"]);
    for decision in &decisions.as_array().unwrap()[..3] {
        assert_eq!(decision["allowed"], false, "{decision:#}");
    }
    let built = json_of(&plain_user["built"]);
    assert_eq!(built[0]["request"]["namespace"], "default");
    assert!(
        plain_user["meta"]
            .as_str()
            .unwrap()
            .contains("None is in the runners namespace example-runners"),
        "{plain_user:#}"
    );
}
