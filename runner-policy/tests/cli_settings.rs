//! `runner-policy settings` and `--settings`: every problem of a settings file reported, and
//! invalid settings stopping every command before it judges anything.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

mod common;

use common::{
    DEPLOYER, assert_fails, explain, manifests, review, run, stderr, stdout, temp_dir, write,
};

#[test]
fn settings_are_checked_with_every_problem_or_explained() {
    let output = run(&["settings"]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let out = stdout(&output);
    assert!(
        out.starts_with("the bundled example settings: valid"),
        "{out}"
    );
    assert!(
        out.contains(
            "dind    system:serviceaccount:example-runners:gitlab-runner-dind  privileged\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("docker  system:serviceaccount:example-runners:gitlab-runner-docker\n"),
        "{out}"
    );
    let dir = temp_dir("settings");
    let bad = write(
        &dir,
        "bad.yaml",
        "org: Bad_Org\nrunners:\n  - {type: dind, serviceAccount: x}\n  - {type: dind, serviceAccount: x}\nprivilegedRunnerTypes: [dindx]\nallowedRegistries: 5\n",
    );
    let output = run(&["settings", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let out = stdout(&output);
    assert!(out.contains("bad.yaml: invalid, 4 problems\n"), "{out}");
    for setting in [
        // The org gives the namespace: reported where the user wrote it.
        "settings.org: the runners namespace `Bad_Org-runners` is not",
        "settings.runners[1].serviceAccount: ",
        "settings.privilegedRunnerTypes[0]: ",
        "settings.allowedRegistries: ",
    ] {
        assert!(
            out.contains(&format!("\n  - {setting}")),
            "{setting}\n{out}"
        );
    }
    let missing = dir.join("missing.yaml");
    assert_fails(
        &run(&["settings", missing.to_str().unwrap()]),
        2,
        "cannot read settings file",
    );
}

#[test]
fn invalid_settings_stop_every_command_with_the_settings_report() {
    let dir = temp_dir("typo-settings");
    let settings = write(
        &dir,
        "settings.yaml",
        "org: example\nrunners:\n  - {type: dind, serviceAccount: gitlab-runner-dind}\nallowedRegistrie: [quay.io]\n",
    );
    let request = write(&dir, "deny.json", &review("docker", true, "d").to_string());
    let suite = write(
        &dir,
        "suite.yaml",
        "cases:\n- {name: d, request: deny.json, expect: allow}\n",
    );
    manifests(&dir.join("in"));
    let problem =
        "  - settings.allowedRegistrie: unknown setting; did you mean `allowedRegistries`?\n";
    let report = run(&["settings", settings.to_str().unwrap()]);
    assert_eq!(report.status.code(), Some(1), "{}", explain(&report));
    let report = stdout(&report);
    assert!(
        report.contains(": invalid, 1 problem\n") && report.ends_with(problem),
        "{report}"
    );
    let (s, r, q, i) = (
        settings.to_str().unwrap(),
        request.to_str().unwrap(),
        suite.to_str().unwrap(),
        dir.join("in"),
    );
    let commands: [&[&str]; 6] = [
        &["replay", r],
        &["replay", "--engine", "rego", r],
        &["eval", r],
        &["check", "--as", DEPLOYER, i.to_str().unwrap()],
        &["test", q],
        &["bench", "--iterations", "1", r],
    ];
    for command in commands {
        let mut args = vec!["--settings", s];
        args.extend_from_slice(command);
        let output = run(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command:?}: {}",
            explain(&output)
        );
        // The same report as `runner-policy settings`, and nothing judged.
        assert_eq!(stderr(&output), format!("error: {report}"), "{command:?}");
        assert_eq!(stdout(&output), "", "{command:?}");
    }
}
