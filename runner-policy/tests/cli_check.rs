//! `runner-policy check`: manifests judged as the creates that apply them, the JUnit report, and
//! the GitLab CI template that runs it.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

mod common;

use std::path::{Path, PathBuf};

use serde_json::json;

use common::{
    DEPLOYER, ORG_NS, assert_fails, explain, manifests, review, run, run_with_input, stderr,
    stdout, temp_dir, write, xml,
};

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
    // `helm template ... | runner-policy check ... -`: the same objects from standard input.
    let rendered = std::fs::read_to_string(dir.join("chart/rendered.yaml")).unwrap();
    let piped = run_with_input(
        &[
            "check",
            "--as",
            "system:serviceaccount:ci:deployer",
            "-n",
            "example-runners",
            "-",
        ],
        &rendered,
    );
    assert_eq!(piped.status.code(), Some(1), "{}", explain(&piped));
    assert!(
        stdout(&piped).contains("2 requests in 1 file: 1 allowed, 1 denied"),
        "{}",
        explain(&piped)
    );
    assert!(
        stdout(&piped).contains("       standard input, document 1\n"),
        "{}",
        explain(&piped)
    );
    // A gate that judged nothing fails (`helm template` printed nothing).
    let empty = run_with_input(&["check", "--as", "x", "-"], "");
    assert_fails(&empty, 2, "nothing to check");
    // Outside the runners namespace neither rule applies, and a warning says nothing landed there.
    let output = check("team-a");
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert!(
        stderr(&output).contains(
            "warning: none of the 3 objects landed in the runners namespace `example-runners`"
        ) && stderr(&output).contains("`-n example-runners`"),
        "{}",
        explain(&output)
    );
    assert!(
        !stderr(&check("example-runners")).contains("warning"),
        "objects in the runners namespace need no warning"
    );
    // `replay` does not judge manifests, says which command does, and fails: it judged nothing.
    let output = run(&["replay", path]);
    assert_fails(&output, 2, "nothing to replay");
    assert!(stdout(&output).contains("3 Kubernetes objects that are not requests were not judged: `runner-policy check --as USER`"), "{}", explain(&output));
    // The identity is never guessed.
    assert_fails(&run(&["check", path]), 2, "--as <USER>");
}

#[test]
fn check_prints_each_denial_and_writes_a_junit_report() {
    let dir = temp_dir("check-junit");
    manifests(&dir.join("in"));
    let junit = dir.join("out.xml");
    let input = dir.join("in");
    let output = run(&[
        "check",
        "-n",
        ORG_NS,
        "--as",
        DEPLOYER,
        "--junit",
        junit.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let out = stdout(&output);
    // Each denial: its line, where it came from, and each violation's rule, path, container and
    // message (the message without the rule name it would repeat).
    let deployment = out
        .split_once("DENY   CREATE   Deployment")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{out}"));
    let mut lines = deployment.lines().skip(1);
    assert!(
        lines.next().is_some_and(
            |l| l.trim() == format!("{}, document 1", input.join("list.json").display())
        ),
        "{out}"
    );
    let violation = lines.next().unwrap_or_default();
    assert!(
        violation.trim_start().starts_with(
            "dind-only-privilege  spec.template.spec.containers[0].securityContext.privileged  c  "
        ),
        "{out}"
    );
    assert!(!violation.contains("dind-only-privilege:"), "{out}");
    assert!(out.contains("rendered.yaml, document 2\n"), "{out}");
    assert!(out.contains("namespaced-rbac  "), "{out}");
    // --compact: today's one line per object.
    let compact = run(&[
        "check",
        "--compact",
        "-n",
        ORG_NS,
        "--as",
        DEPLOYER,
        input.to_str().unwrap(),
    ]);
    assert_eq!(compact.status.code(), Some(1), "{}", explain(&compact));
    let verdicts = |text: &str| {
        text.lines()
            .take_while(|l| !l.is_empty())
            .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        verdicts(&stdout(&compact)),
        ["ALLOW", "DENY", "DENY"],
        "{}",
        explain(&compact)
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let root = xml::parse(&xml);
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.attr("tests"), Some("3"));
    assert_eq!(root.attr("failures"), Some("2"));
    let [suite] = root.children.as_slice() else {
        panic!("one testsuite expected: {xml}")
    };
    assert_eq!(suite.name, "testsuite");
    assert_eq!(suite.attr("name"), Some("runner-policy check"));
    let cases: Vec<(&str, &str, Option<&xml::Element>)> = suite
        .children
        .iter()
        .map(|c| {
            assert_eq!(c.name, "testcase", "{xml}");
            (
                c.attr("classname").unwrap(),
                c.attr("name").unwrap(),
                c.children.first(),
            )
        })
        .collect();
    let rendered = input.join("chart/rendered.yaml").display().to_string();
    let list = input.join("list.json").display().to_string();
    let names: Vec<(&str, &str, bool)> = cases
        .iter()
        .map(|(class, name, failure)| (*class, *name, failure.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            (rendered.as_str(), "Role example-runners/narrow", false),
            (rendered.as_str(), "Role example-runners/wide", true),
            (list.as_str(), "Deployment example-runners/build", true),
        ],
        "{xml}"
    );
    let failure = cases[2].2.unwrap();
    assert_eq!(failure.name, "failure");
    assert_eq!(failure.attr("message"), Some("denied: dind-only-privilege"));
    assert!(
        failure.text.contains("securityContext.privileged  c  ")
            && failure
                .text
                .contains("container \"c\" of Deployment example-runners/build: privileged: true"),
        "{xml}"
    );
}

#[test]
fn check_refuses_admission_reviews_whose_requester_is_not_as() {
    let dir = temp_dir("check-review");
    let file = write(
        &dir,
        "review.json",
        &review("docker", true, "r").to_string(),
    );
    let output = run(&["check", "--as", DEPLOYER, file.to_str().unwrap()]);
    assert_fails(
        &output,
        2,
        "document 1: an AdmissionReview names its own requester, so `check --as` cannot judge it",
    );
    assert!(
        stderr(&output).contains("`runner-policy replay`"),
        "{}",
        explain(&output)
    );
}

/// The words of a shell command line, with `$VAR` and `${VAR}` replaced from `vars`: double
/// quotes group, nothing else of the shell is needed by the template's command.
fn shell_words(line: &str, vars: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    let mut expanded = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('$') {
        expanded.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let (name, after) = match after.strip_prefix('{') {
            Some(braced) => braced.split_once('}').unwrap(),
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        expanded.push_str(
            vars.get(name)
                .unwrap_or_else(|| panic!("${name} is not set")),
        );
        rest = after;
    }
    expanded.push_str(rest);
    let (mut words, mut word, mut quoted) = (Vec::new(), None::<String>, false);
    for c in expanded.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_default();
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_default().push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes in {line}");
    words.extend(word);
    words
}

#[test]
fn the_gitlab_ci_template_gates_rendered_manifests_with_check() {
    use clap::Parser as _;
    use runner_policy::cli::{Cli, Command as Subcommand};

    let path =
        runner_policy::host::workspace_root().join("bundles/gitlab-ci/runner-policy.gitlab-ci.yml");
    let template: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut vars: std::collections::BTreeMap<String, String> = template["variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for name in [
        "RUNNER_POLICY_IMAGE",
        "RUNNER_POLICY_MODULE",
        "RUNNER_POLICY_SETTINGS",
        "RUNNERS_NAMESPACE",
        "RUNNER_POLICY_AS",
        "RUNNER_POLICY_MANIFESTS",
        "RUNNER_VALUES",
        "RUNNER_POLICY_JUNIT",
    ] {
        assert!(vars.contains_key(name), "no variable {name}");
    }
    let render = &template["runner-policy-render"];
    let check = &template["runner-policy-check"];
    let script = |job: &serde_yaml::Value| -> Vec<String> {
        job["script"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect()
    };
    let rendered = "runner-policy-rendered";
    assert!(script(render).concat().contains("helm template"));
    assert_eq!(
        render["artifacts"]["paths"][0].as_str(),
        Some("runner-policy-rendered/")
    );
    // Rendering is skipped when the user names a directory of manifests.
    assert_eq!(
        render["rules"][0]["if"].as_str(),
        Some("$RUNNER_POLICY_MANIFESTS")
    );
    assert_eq!(render["rules"][0]["when"].as_str(), Some("never"));
    assert_eq!(
        check["needs"][0]["job"].as_str(),
        Some("runner-policy-render")
    );
    assert_eq!(check["needs"][0]["optional"].as_bool(), Some(true));
    // The report is uploaded whatever the verdict: a denial is when it matters.
    assert_eq!(check["artifacts"]["when"].as_str(), Some("always"));
    assert_eq!(
        check["artifacts"]["reports"]["junit"].as_str(),
        Some("$RUNNER_POLICY_JUNIT")
    );
    let lines = script(check);
    assert_eq!(
        lines[0],
        format!("manifests=\"${{RUNNER_POLICY_MANIFESTS:-{rendered}}}\"")
    );
    let command = lines
        .iter()
        .find(|l| l.starts_with("runner-policy "))
        .expect("a runner-policy command");

    // The command line as the job runs it: clap accepts every flag.
    vars.insert("manifests".into(), rendered.into());
    let cli = Cli::try_parse_from(shell_words(command, &vars)).unwrap_or_else(|e| panic!("{e}"));
    let Subcommand::Check(args) = &cli.command else {
        panic!("not check: {command}")
    };
    assert_eq!(
        cli.settings.as_deref(),
        Some(Path::new(&vars["RUNNER_POLICY_SETTINGS"]))
    );
    assert_eq!(args.user, vars["RUNNER_POLICY_AS"]);
    assert_eq!(
        args.namespace.as_deref(),
        Some(vars["RUNNERS_NAMESPACE"].as_str())
    );
    assert_eq!(
        args.common.junit.as_deref(),
        Some(Path::new(&vars["RUNNER_POLICY_JUNIT"]))
    );
    assert_eq!(args.common.paths, [PathBuf::from(rendered)]);

    // And it gates: run with the example settings on manifests with two denials.
    let dir = temp_dir("gitlab-ci");
    manifests(&dir.join(rendered));
    vars.insert(
        "RUNNER_POLICY_SETTINGS".into(),
        runner_policy::host::workspace_root()
            .join("bundles/settings.example.yaml")
            .display()
            .to_string(),
    );
    vars.insert("manifests".into(), dir.join(rendered).display().to_string());
    vars.insert(
        "RUNNER_POLICY_JUNIT".into(),
        dir.join("junit.xml").display().to_string(),
    );
    let words = shell_words(command, &vars);
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let report = xml::parse(&std::fs::read_to_string(dir.join("junit.xml")).unwrap());
    assert_eq!(report.attr("failures"), Some("2"));
}
