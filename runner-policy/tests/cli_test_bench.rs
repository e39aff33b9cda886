//! `runner-policy test` and `bench`: a golden suite's report and JUnit cases, and the timing
//! figures.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

mod common;

use serde_json::Value;

use common::{explain, review, run, stdout, temp_dir, write, xml};

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
fn test_writes_a_junit_case_per_golden_case() {
    let dir = temp_dir("suite-junit");
    write(
        &dir,
        "requests/docker.json",
        &review("docker", true, "2").to_string(),
    );
    let suite = write(
        &dir,
        "suite.yaml",
        "cases:\n\
         - {name: denied, request: requests/docker.json, expect: {deny: [dind-only-privilege]}}\n\
         - {name: wrong <&>, request: requests/docker.json, expect: allow}\n",
    );
    let junit = dir.join("test.xml");
    let output = run(&[
        "test",
        "--junit",
        junit.to_str().unwrap(),
        suite.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let root = xml::parse(&std::fs::read_to_string(&junit).unwrap());
    let cases = &root.children[0].children;
    assert_eq!(cases.len(), 2);
    assert!(cases[0].children.is_empty());
    assert_eq!(cases[1].attr("name"), Some("wrong <&>"));
    assert_eq!(
        cases[1].children[0].attr("message"),
        Some("expected allow, got deny [dind-only-privilege]")
    );
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
    assert_eq!(report["gatekeeper_inputs"], false, "{report}");
    assert_eq!(report["deadline"], true, "{report}");
}

#[test]
fn bench_times_gatekeeper_inputs_without_the_deadline() {
    let dir = temp_dir("bench-gatekeeper");
    let file = write(&dir, "dind.json", &review("dind", true, "1").to_string());
    let output = run(&[
        "bench",
        "--json",
        "--gatekeeper",
        "--no-deadline",
        "--parse-answer",
        "--entrypoint",
        "runners/main",
        "--iterations",
        "20",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["gatekeeper_inputs"], true, "{report}");
    assert_eq!(report["deadline"], false, "{report}");
    // The input timed is `{review, parameters}`: the request plus the settings.
    let request = &report["requests"][0];
    assert!(
        request["bytes"].as_u64().unwrap() > std::fs::metadata(&file).unwrap().len(),
        "{report}"
    );
    assert!(request["median_us"].as_f64().unwrap() > 0.0, "{report}");
    let text = run(&[
        "bench",
        "--gatekeeper",
        "--no-deadline",
        "--iterations",
        "20",
    ]);
    assert_eq!(text.status.code(), Some(0), "{}", explain(&text));
    assert!(
        stdout(&text)
            .lines()
            .next()
            .is_some_and(|l| l.ends_with("per request, Gatekeeper inputs, no deadline")),
        "{}",
        stdout(&text)
    );
}

#[test]
fn bench_by_default_times_a_few_cases_and_sums_up() {
    let output = run(&["bench", "--json", "--iterations", "20"]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let requests = report["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 10, "{report}");
    let dind = requests
        .iter()
        .find(|r| r["name"] == "dind-job-pod")
        .unwrap();
    assert_eq!(report["dind_pod_median_us"], dind["median_us"]);
    let mut medians: Vec<f64> = requests
        .iter()
        .map(|r| r["median_us"].as_f64().unwrap())
        .collect();
    medians.sort_by(f64::total_cmp);
    assert_eq!(report["median_of_medians_us"].as_f64(), Some(medians[5]));
    let text = run(&["bench", "--iterations", "20"]);
    assert_eq!(text.status.code(), Some(0), "{}", explain(&text));
    let out = stdout(&text);
    let summary = out.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("summary: median over 10 requests: ")
            && summary.contains("; dind job pod (dind-job-pod): ")
            && summary.ends_with(&format!("; module {} bytes", report["module_bytes"])),
        "{out}"
    );
}
