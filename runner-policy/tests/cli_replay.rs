//! `runner-policy replay`: directories of requests in JSON, YAML and JSON lines, audit logs, and
//! the report of each denial.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

mod common;

use serde_json::{Value, json};

use common::{explain, review, run, sample_audit_log, stderr, stdout, temp_dir, write, xml};

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
    // --json: one record per request on stdout, nothing else; the summary on stderr.
    let output = run(&["replay", "--json", path]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let records: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(records.len(), 6);
    let denied: Vec<&Value> = records.iter().filter(|r| r["verdict"] == "DENY").collect();
    assert_eq!(denied.len(), 2);
    assert!(
        denied
            .iter()
            .all(|r| r["violations"][0]["rule"] == "dind-only-privilege")
    );
    assert!(
        records
            .iter()
            .all(|r| r["operation"] == "CREATE" && r["kind"] == "Pod")
    );
    assert!(
        stderr(&output).contains("6 requests"),
        "{}",
        explain(&output)
    );
}

#[test]
fn replay_reads_an_audit_log_and_says_what_it_skipped() {
    let dir = temp_dir("audit");
    let sample = sample_audit_log();
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
    // Against the sample alone: the relabel is judged too; the `list` and the earlier stage are
    // skipped; the broken event is unreadable.
    let alone = run(&[
        "replay",
        write(&dir, "alone/sample.jsonl", &sample).to_str().unwrap(),
    ]);
    assert_eq!(alone.status.code(), Some(0), "{}", explain(&alone));
    let alone = stdout(&alone);
    let figures = |text: &str| -> Vec<usize> {
        let line = text
            .lines()
            .find(|l| l.starts_with("audit events: "))
            .unwrap_or_else(|| panic!("{text}"));
        line.split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect()
    };
    let skipped_for = |text: &str, reason: &str| -> usize {
        text.lines()
            .find_map(|l| l.trim_start().strip_suffix(reason)?.trim().parse().ok())
            .unwrap_or(0)
    };
    let [read, replayed, skipped, 0] = figures(&alone)[..] else {
        panic!("{alone}")
    };
    assert_eq!(
        figures(&out),
        [read + 4, replayed + 1, skipped + 2, 1],
        "{out}"
    );
    assert!(
        out.contains(&format!("{} requests in 1 file:", replayed + 1)),
        "{out}"
    );
    for reason in [
        "  an earlier stage of a request logged again when it completed",
        "  reads and other verbs admission does not see",
    ] {
        assert_eq!(
            skipped_for(&out, reason),
            skipped_for(&alone, reason) + 1,
            "{reason}\n{out}"
        );
    }
    assert!(
        out.contains("  1 UPDATEs of pod-bearing objects were judged as if their pod spec changed"),
        "{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.ends_with("(previous state not in the log)"))
            .count(),
        1,
        "{out}"
    );
    let err = stderr(&output);
    assert!(err.contains("an audit event cannot be read"), "{err}");
    // The cut line follows the four extra events and the sample's lines.
    let cut = 4 + sample.lines().count() + 1;
    assert!(
        err.contains(&format!(".log.gz:{cut}: not a JSON line")),
        "{err}"
    );
    assert!(
        err.contains("error: 1 line could not be read or parsed"),
        "{err}"
    );
}

#[test]
fn replay_prints_each_denials_messages_and_writes_a_junit_report() {
    let dir = temp_dir("replay-junit");
    let log = write(
        &dir,
        "log.jsonl",
        &format!(
            "{}\n{}\n",
            review("dind", true, "1"),
            review("docker", true, "2")
        ),
    );
    let junit = dir.join("replay.xml");
    let output = run(&[
        "replay",
        "--junit",
        junit.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let out = stdout(&output);
    assert!(
        out.contains("2 requests in 1 file: 1 allowed, 1 denied"),
        "{out}"
    );
    assert!(
        out.contains(
            "\n       dind-only-privilege  spec.containers[0].securityContext.privileged  build  "
        ),
        "{out}"
    );
    // Requests are not manifests: no file and document line.
    assert!(!out.contains("document 1"), "{out}");
    let root = xml::parse(&std::fs::read_to_string(&junit).unwrap());
    let suite = &root.children[0];
    assert_eq!(suite.attr("name"), Some("runner-policy replay"));
    assert_eq!(suite.attr("tests"), Some("2"));
    assert_eq!(suite.attr("failures"), Some("1"));
    assert_eq!(
        suite.children[1].attr("name"),
        Some(
            "CREATE Pod example-runners/runner-docker-2 by system:serviceaccount:example-runners:gitlab-runner-docker"
        )
    );
    let compact = run(&["replay", "--compact", log.to_str().unwrap()]);
    assert_eq!(
        stdout(&compact)
            .lines()
            .take_while(|l| !l.is_empty())
            .count(),
        2,
        "{}",
        explain(&compact)
    );
}

#[test]
fn several_workers_print_what_one_prints_in_the_same_order() {
    let dir = temp_dir("replay-jobs");
    // Enough events that every worker judges many, in a log with states to follow.
    let log = write(&dir, "audit.log", &sample_audit_log().repeat(5));
    let reviews = write(
        &dir,
        "reviews.jsonl",
        &(1..=40)
            .map(|n| review(["dind", "docker"][n % 2], n % 3 == 0, &n.to_string()).to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for extra in [&[][..], &["--json"], &["--compact", "--denials-only"]] {
        let runs: Vec<(String, String)> = ["1", "2", "5"]
            .iter()
            .map(|jobs| {
                let junit = dir.join(format!("junit-{jobs}.xml"));
                let mut args = vec!["replay", "--jobs", jobs, "--junit", junit.to_str().unwrap()];
                args.extend_from_slice(extra);
                args.extend([log.to_str().unwrap(), reviews.to_str().unwrap()]);
                let output = run(&args);
                assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
                (stdout(&output), std::fs::read_to_string(&junit).unwrap())
            })
            .collect();
        assert!(runs[0].0.lines().count() > 100, "{extra:?}: {}", runs[0].0);
        for run in &runs[1..] {
            assert!(run == &runs[0], "{extra:?}");
        }
    }
}

#[test]
fn progress_is_a_bar_only_when_asked_or_on_a_terminal() {
    let dir = temp_dir("replay-progress");
    let log = write(&dir, "audit.log", &sample_audit_log());
    let path = log.to_str().unwrap();
    // (arguments, a bar drawn) with standard error not a terminal.
    let cases: [(&[&str], bool); 4] = [
        (&[], false),
        (&["--progress", "lines"], false),
        (&["--progress", "off"], false),
        (&["--progress", "bar"], true),
    ];
    let plain = stdout(&run(&["replay", path]));
    for (args, bar) in cases {
        let mut all = vec!["replay"];
        all.extend_from_slice(args);
        all.push(path);
        let output = run(&all);
        assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
        let err = stderr(&output);
        assert_eq!(err.contains("\x1b[K"), bar, "{args:?}: {err:?}");
        assert_eq!(err.contains("events/s"), bar, "{args:?}: {err:?}");
        // Never in standard output.
        assert_eq!(stdout(&output), plain, "{args:?}");
    }
}
