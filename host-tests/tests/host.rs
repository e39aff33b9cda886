//! End-to-end tests of the built module (`bundles/dist/policy.wasm`) through the wasmtime host:
//! every dialect through both ABI paths, hostile inputs, a 3 MiB request, a flat heap, the
//! stack's depth.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

use std::sync::OnceLock;

use runner_policy::decision::Decision;
use runner_policy::host::{
    AbiVersion, Document, HostError, Policy, Runtime, STACK_BYTES, default_module_path,
};
use serde_json::{Value, json};

const ORG_NS: &str = "example-runners";

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Runtime::load(&default_module_path()).unwrap_or_else(|e| panic!("{e:#}")))
}

fn settings() -> Value {
    runner_policy::settings::example().unwrap()
}

fn policy() -> Policy {
    runtime().instantiate(&settings()).unwrap()
}

fn policy_with(data: &Value) -> Policy {
    runtime().instantiate(data).unwrap()
}

fn runner(kind: &str) -> String {
    format!("system:serviceaccount:{ORG_NS}:gitlab-runner-{kind}")
}

/// A GitLab Runner job pod as the runner manager of `kind` creates it; `privileged` on every
/// container (what `privileged = true` in the runner config does).
fn job_pod(kind: &str, privileged: bool) -> Value {
    let container = |name: &str, image: &str| {
        json!({
            "name": name,
            "image": image,
            "securityContext": {"privileged": privileged},
        })
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("runner-{kind}-project-42-concurrent-0-abcdef"),
            "namespace": ORG_NS,
            "labels": {
                "job.runner.gitlab.com/pod": "runner-abc-project-42-concurrent-0",
                "manager.runner.gitlab.com/name": format!("gitlab-runner-{kind}"),
                "project.runner.gitlab.com/id": "42",
            },
        },
        "spec": {
            "serviceAccountName": format!("gitlab-runner-{kind}"),
            "containers": [
                container("build", "docker.io/library/docker:27"),
                container("helper", "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-latest"),
                container("svc-0", "docker:27-dind"),
            ],
            "initContainers": [container("init-permissions", "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-latest")],
        },
    })
}

fn admission_request(user: &str, object: &Value) -> Value {
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "name": object["metadata"]["name"],
        "namespace": ORG_NS,
        "operation": "CREATE",
        "userInfo": {"username": user, "uid": "1", "groups": ["system:serviceaccounts"]},
        "object": object,
        "oldObject": null,
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    })
}

/// The three input dialects of one request.
#[derive(Debug, Clone, Copy)]
enum Dialect {
    Gatekeeper,
    Kubewarden,
    AdmissionReview,
}

const DIALECTS: [Dialect; 3] = [
    Dialect::Gatekeeper,
    Dialect::Kubewarden,
    Dialect::AdmissionReview,
];

fn input(dialect: Dialect, request: &Value) -> Value {
    match dialect {
        Dialect::Gatekeeper => json!({"review": request, "parameters": settings()}),
        Dialect::Kubewarden => json!({"request": request}),
        Dialect::AdmissionReview => json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": request,
        }),
    }
}

/// Evaluates `input` at `entrypoint` through both ABI paths and checks they agree.
fn eval_both(policy: &mut Policy, entrypoint: &str, input: &Value) -> Value {
    let bytes = serde_json::to_vec(input).unwrap();
    let fast = policy.evaluate(entrypoint, &bytes).unwrap();
    let ctx = policy.evaluate_ctx(entrypoint, &bytes).unwrap();
    assert_eq!(
        fast, ctx,
        "opa_eval and the ctx path disagree on {entrypoint}"
    );
    fast
}

fn decision(policy: &mut Policy, input: &[u8]) -> Decision {
    Decision::from_value(policy.evaluate("runners/decision", input).unwrap()).unwrap()
}

/// Checks the `runners/main` answer has the dialect's shape and verdict.
fn check_main(dialect: Dialect, main: &Value, allowed: bool, uid: &str) {
    match dialect {
        Dialect::Gatekeeper => {
            let violations = main.as_array().expect("gatekeeper: a violations list");
            assert_eq!(violations.is_empty(), allowed, "{main}");
            for v in violations {
                assert!(v["msg"].is_string() && v["details"].is_object(), "{v}");
            }
        }
        Dialect::Kubewarden | Dialect::AdmissionReview => {
            assert_eq!(main["kind"], "AdmissionReview", "{main}");
            assert_eq!(main["apiVersion"], "admission.k8s.io/v1", "{main}");
            assert_eq!(main["response"]["allowed"], allowed, "{main}");
            assert_eq!(main["response"]["uid"], uid, "{main}");
        }
    }
}

#[test]
fn module_declares_the_abi() {
    let mut policy = policy();
    let names: Vec<(&str, i32)> = policy
        .entrypoints()
        .iter()
        .map(|(name, id)| (name.as_str(), id.0))
        .collect();
    assert_eq!(
        names,
        [
            ("runners/decision", 2),
            ("runners/main", 0),
            ("runners/violation", 1)
        ]
    );
    assert!(policy.builtins().unwrap().is_empty());
    assert_eq!(
        policy.abi_version(),
        Some(AbiVersion { major: 1, minor: 3 })
    );
}

#[test]
fn every_dialect_through_both_paths() {
    // (runner identity, privileged, expected rules)
    let cases: [(&str, bool, &[&str]); 3] = [
        ("dind", true, &[]),
        ("docker", false, &[]),
        ("docker", true, &["dind-only-privilege"]),
    ];
    let mut policy = policy();
    for (kind, privileged, rules) in cases {
        let request = admission_request(&runner(kind), &job_pod(kind, privileged));
        let uid = request["uid"].as_str().unwrap().to_string();
        for dialect in DIALECTS {
            let input = input(dialect, &request);
            let what = format!("{kind} privileged={privileged} {dialect:?}");
            let decision =
                Decision::from_value(eval_both(&mut policy, "runners/decision", &input)).unwrap();
            let expected: Vec<&str> = rules.to_vec();
            assert_eq!(
                decision
                    .rules()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                expected,
                "{what}: {decision:?}"
            );
            assert_eq!(decision.allowed, rules.is_empty(), "{what}");
            if !rules.is_empty() {
                assert_eq!(decision.runner.as_deref(), Some(kind), "{what}");
            }
            let main = eval_both(&mut policy, "runners/main", &input);
            check_main(dialect, &main, rules.is_empty(), &uid);
            let violation = eval_both(&mut policy, "runners/violation", &input);
            assert_eq!(
                violation.as_array().map(Vec::len),
                Some(decision.violations.len()),
                "{what}: {violation}"
            );
        }
    }
}

/// Inputs that are not a request at all: each must be a well-formed `valid-request` denial
/// from every entrypoint, never a trap.
fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let pod = serde_json::to_vec(&input(
        Dialect::AdmissionReview,
        &admission_request(&runner("dind"), &job_pod("dind", true)),
    ))
    .unwrap();
    let half = pod.len() / 2;
    vec![
        ("empty", Vec::new()),
        ("not json", b"not json".to_vec()),
        ("truncated", pod[..half].to_vec()),
        ("trailing garbage", [pod.as_slice(), b"}}"].concat()),
        ("invalid utf-8", b"{\"request\": \"\xff\xfe\"}".to_vec()),
        ("nul bytes", b"{\"request\0\": 1}".to_vec()),
        ("null", b"null".to_vec()),
        ("number", b"42".to_vec()),
        ("array", b"[1, 2, 3]".to_vec()),
        ("empty object", b"{}".to_vec()),
        ("unknown dialect", br#"{"foo": {"bar": 1}}"#.to_vec()),
        ("request not an object", br#"{"request": "pod"}"#.to_vec()),
        (
            "review without request",
            br#"{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}"#.to_vec(),
        ),
        (
            "deep nesting",
            [vec![b'['; 100_000], vec![b']'; 100_000]].concat(),
        ),
        ("deep objects", "{\"a\":".repeat(50_000).into_bytes()),
    ]
}

#[test]
fn hostile_inputs_are_denied_as_valid_request() {
    let mut policy = policy();
    for (name, bytes) in hostile_inputs() {
        let decision = policy
            .evaluate("runners/decision", &bytes)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let decision = Decision::from_value(decision).unwrap();
        assert!(!decision.allowed, "{name}: {decision:?}");
        assert!(
            decision.rules().contains("valid-request"),
            "{name}: {decision:?}"
        );
        let violation = policy
            .evaluate("runners/violation", &bytes)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        assert!(
            violation.as_array().is_some_and(|v| !v.is_empty()),
            "{name}: {violation}"
        );
        let main = policy
            .evaluate("runners/main", &bytes)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let denied = match &main {
            Value::Array(violations) => !violations.is_empty(),
            other => other["response"]["allowed"] == false,
        };
        assert!(denied, "{name}: runners/main allowed it: {main}");
    }
    assert!(policy.host_state().aborts.is_empty());
}

/// A write with nothing to judge is malformed, not allowed, in every dialect; the answer keeps
/// the request's uid even when the request cannot be read, or the API server would not take it.
#[test]
fn writes_without_an_object_are_denied_and_answers_keep_the_uid() {
    let mut policy = policy();
    let privileged = admission_request(&runner("docker"), &job_pod("docker", true));
    for op in ["CREATE", "UPDATE"] {
        for object in [Value::Null, json!("absent")] {
            let mut request = privileged.clone();
            request["operation"] = json!(op);
            request["oldObject"] = job_pod("docker", true);
            if object.is_null() {
                request["object"] = Value::Null;
            } else {
                request.as_object_mut().unwrap().remove("object");
            }
            for dialect in DIALECTS {
                let input = input(dialect, &request);
                let d = Decision::from_value(eval_both(&mut policy, "runners/decision", &input))
                    .unwrap();
                assert_eq!(
                    d.violations
                        .iter()
                        .map(|v| (v.rule.as_str(), v.path.as_str()))
                        .collect::<Vec<_>>(),
                    [("valid-request", "request.object")],
                    "{op} {object} {dialect:?}"
                );
                let main = eval_both(&mut policy, "runners/main", &input);
                check_main(
                    dialect,
                    &main,
                    false,
                    "705ab4f5-6393-11e8-b7cc-42010a800002",
                );
            }
        }
    }
    // An unreadable request still gets its uid back.
    let mut request = privileged.clone();
    request["operation"] = json!("create");
    for dialect in [Dialect::Kubewarden, Dialect::AdmissionReview] {
        let main = eval_both(&mut policy, "runners/main", &input(dialect, &request));
        check_main(
            dialect,
            &main,
            false,
            "705ab4f5-6393-11e8-b7cc-42010a800002",
        );
    }
}

#[test]
fn ctx_path_rejects_non_json_without_trapping() {
    let mut policy = policy();
    for input in [&b"not json"[..], b"{", b""] {
        let err = policy.evaluate_ctx("runners/decision", input).unwrap_err();
        assert!(
            matches!(err, HostError::Unparsable(Document::Input)),
            "{err}"
        );
    }
    // And the instance is still usable.
    let request = admission_request(&runner("dind"), &job_pod("dind", true));
    let ok = eval_both(
        &mut policy,
        "runners/decision",
        &input(Dialect::Kubewarden, &request),
    );
    assert_eq!(ok["allowed"], true, "{ok}");
}

#[test]
fn invalid_settings_deny_every_request() {
    let request = admission_request(&runner("dind"), &job_pod("dind", true));
    let bad_settings = [
        json!({}),
        json!({"org": 5}),
        json!({"org": "example", "runners": "dind"}),
        json!({"org": "example", "runners": [{"type": "podman", "serviceAccount": "x"}]}),
        json!("not an object"),
    ];
    for data in bad_settings {
        let mut policy = policy_with(&data);
        let d = decision(
            &mut policy,
            &serde_json::to_vec(&input(Dialect::AdmissionReview, &request)).unwrap(),
        );
        assert!(
            !d.allowed && d.rules().contains("valid-request"),
            "{data}: {d:?}"
        );
    }
}

#[test]
fn settings_judge_alike_on_every_evaluation_whatever_their_size() {
    // The module keeps the settings read from the data document between evaluations, in a
    // 16 KiB area; larger settings are read again every time. Both must judge the same, on the
    // first evaluation and on later ones.
    // An operator's privileged pod: denied, unless the operator is exempt.
    const OPERATOR: &str = "cluster-operator";
    let request = input(
        Dialect::AdmissionReview,
        &admission_request(OPERATOR, &job_pod("docker", true)),
    );
    let bytes = serde_json::to_vec(&request).unwrap();
    assert!(!decision(&mut policy(), &bytes).allowed);
    let mut small = settings();
    small["exemptUsers"] = json!([OPERATOR]);
    let mut large = small.clone();
    large["exemptUsers"] = (0..3_000)
        .map(|i| json!(format!("system:serviceaccount:elsewhere:user-{i}")))
        .chain([json!(OPERATOR)])
        .collect();
    assert!(serde_json::to_vec(&large).unwrap().len() > 64 << 10);
    for data in [&small, &large] {
        let mut policy = policy_with(data);
        for round in 0..3 {
            let d = decision(&mut policy, &bytes);
            assert!(d.allowed, "round {round}: {d:?}");
        }
    }
    // Settings that cannot be read deny every time, with the same reason.
    let mut policy = policy_with(&json!({"org": 5}));
    let first = decision(&mut policy, &bytes);
    assert!(!first.allowed && first.rules().contains("valid-request"));
    assert_eq!(decision(&mut policy, &bytes), first);
}

#[test]
fn images_found_allowed_are_judged_again_under_other_settings() {
    // The module remembers the images it found allowed with the settings it keeps. Settings
    // that change between evaluations of one instance (Gatekeeper parameters) must each judge
    // the same pod by their own allowedRegistries, however often each comes back.
    let request = admission_request(&runner("docker"), &job_pod("docker", false));
    let with_registries = |registries: &[&str]| {
        let mut parameters = settings();
        parameters["allowedRegistries"] = json!(registries);
        serde_json::to_vec(&json!({"review": request, "parameters": parameters})).unwrap()
    };
    let all = with_registries(&["docker.io", "registry.gitlab.com"]);
    let no_gitlab = with_registries(&["docker.io"]);
    let gitlab_only = with_registries(&["registry.gitlab.com"]);
    let denies = |d: &Decision| d.rules().contains("public-registries");
    let mut policy = policy();
    // Two settings in turn: the module keeps both, each with what it remembers.
    for round in 0..3 {
        for (input, denied) in [(&all, false), (&no_gitlab, true)] {
            let d = decision(&mut policy, input);
            assert_eq!(denies(&d), denied, "round {round}: {d:?}");
        }
    }
    // Three in turn: each evicts the oldest.
    for round in 0..3 {
        for (input, denied) in [(&all, false), (&no_gitlab, true), (&gitlab_only, true)] {
            let d = decision(&mut policy, input);
            assert_eq!(denies(&d), denied, "round {round}: {d:?}");
        }
        let d = decision(&mut policy, &all);
        assert!(!denies(&d), "round {round}, again: {d:?}");
    }
}

#[test]
fn gatekeeper_parameters_win_over_data() {
    // The data document names another org: only `parameters` put the pod in the runners
    // namespace of a known runner.
    let mut other = settings();
    other["org"] = json!("other");
    let mut policy = policy_with(&other);
    let request = admission_request(&runner("docker"), &job_pod("docker", true));
    let d = decision(
        &mut policy,
        &serde_json::to_vec(&input(Dialect::Gatekeeper, &request)).unwrap(),
    );
    assert_eq!(
        d.rules().into_iter().collect::<Vec<_>>(),
        ["dind-only-privilege"],
        "{d:?}"
    );
}

#[test]
fn a_three_mib_request_evaluates() {
    let mut pod = job_pod("dind", true);
    pod["metadata"]["annotations"] = json!({"big": "x".repeat(3 << 20)});
    let big = serde_json::to_vec(&input(
        Dialect::AdmissionReview,
        &admission_request(&runner("dind"), &pod),
    ))
    .unwrap();
    assert!(big.len() > 3 << 20);
    let mut policy = policy();
    let d = decision(&mut policy, &big);
    assert!(d.allowed, "{d:?}");
    // Many containers instead of one big string.
    let mut pod = job_pod("docker", false);
    let container = pod["spec"]["containers"][0].clone();
    let containers: Vec<Value> = (0..12_000)
        .map(|i| {
            let mut c = container.clone();
            c["name"] = json!(format!("svc-{i}"));
            c
        })
        .collect();
    pod["spec"]["containers"] = Value::Array(containers);
    let many = serde_json::to_vec(&input(
        Dialect::Kubewarden,
        &admission_request(&runner("docker"), &pod),
    ))
    .unwrap();
    assert!(many.len() > 1 << 20, "{}", many.len());
    let d = decision(&mut policy, &many);
    assert!(d.allowed, "{d:?}");
}

#[test]
fn heap_stays_flat_over_many_evaluations() {
    let mut policy = policy();
    let inputs: Vec<Vec<u8>> = [
        input(
            Dialect::AdmissionReview,
            &admission_request(&runner("dind"), &job_pod("dind", true)),
        ),
        input(
            Dialect::Gatekeeper,
            &admission_request(&runner("docker"), &job_pod("docker", true)),
        ),
    ]
    .iter()
    .map(|v| serde_json::to_vec(v).unwrap())
    .chain([b"not json".to_vec()])
    .collect();
    let round = |policy: &mut Policy| {
        for bytes in &inputs {
            decision(policy, bytes);
            policy.evaluate("runners/main", bytes).unwrap();
        }
        policy.evaluate_ctx("runners/decision", &inputs[0]).unwrap();
    };
    round(&mut policy);
    let before = policy.memory_bytes();
    for _ in 0..5_000 {
        round(&mut policy);
    }
    assert_eq!(policy.memory_bytes(), before, "linear memory grew");
}

#[test]
fn missing_module_says_how_to_build_it() {
    let err = Runtime::load(std::path::Path::new("/nonexistent/policy.wasm")).unwrap_err();
    assert!(matches!(err, HostError::ModuleNotFound(_)), "{err}");
    assert!(err.to_string().contains("cargo xtask dist"), "{err}");
}

/// One way through the ABI: the calls a host makes for one input.
type AbiPath = fn(&mut Policy, &[u8]) -> Result<(), HostError>;

/// `n` arrays, one inside the other, around `1`.
fn nested(n: usize) -> Vec<u8> {
    [vec![b'['; n], b"1".to_vec(), vec![b']'; n]].concat()
}

/// The deepest inputs the module reads stay well clear of the stack's bottom: nothing guards
/// it, and the module is optimised on the assumption that its lowest 1 KiB is never used
/// (`--low-memory-unused`). Depth is what uses stack: JSON nested to the 256 levels the reader
/// accepts, and past them, in every place that reads it. Text that is not JSON goes on to the
/// Rego value parser (recursive, to its limit of 100 levels), which makes the deepest calls:
/// about 39,500 bytes.
#[test]
fn the_deepest_inputs_stay_in_three_quarters_of_the_stack() {
    // `doc` with `"DEEP"` replaced by arrays nested so that the innermost sits `depth` levels
    // down, `above` of them being the levels around the placeholder.
    let deep_at = |doc: Value, above: usize, depth: usize| -> Vec<u8> {
        let deep = String::from_utf8(nested(depth - above)).unwrap();
        serde_json::to_string(&doc)
            .unwrap()
            .replace("\"DEEP\"", &deep)
            .into_bytes()
    };
    let pod_at = |depth: usize| {
        let mut pod = job_pod("dind", true);
        pod["spec"]["extra"] = json!("DEEP");
        let request = admission_request(&runner("dind"), &pod);
        // {request: {object: {spec: {extra: ...}}}}
        deep_at(input(Dialect::Kubewarden, &request), 4, depth)
    };
    let params_at = |depth: usize| {
        let request = admission_request(&runner("dind"), &job_pod("dind", true));
        let mut settings = settings();
        settings["extra"] = json!("DEEP");
        // {parameters: {extra: ...}}
        deep_at(json!({"review": request, "parameters": settings}), 2, depth)
    };
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for depth in [255, 256, 257, 1_000] {
        cases.push((format!("pod spec nested {depth} deep"), pod_at(depth)));
        cases.push((format!("parameters nested {depth} deep"), params_at(depth)));
        cases.push((format!("input nested {depth} deep"), nested(depth)));
        cases.push((
            format!("input of objects nested {depth} deep"),
            [
                "{\"a\":".repeat(depth).into_bytes(),
                b"1".to_vec(),
                vec![b'}'; depth],
            ]
            .concat(),
        ));
    }
    cases.extend(
        hostile_inputs()
            .into_iter()
            .map(|(name, bytes)| (name.to_owned(), bytes)),
    );
    let mut policy = policy();
    let mut deepest = (0, String::new());
    for (name, bytes) in &cases {
        let paths: [(&str, AbiPath); 3] = [
            ("opa_eval", |p, bytes| {
                p.evaluate("runners/decision", bytes).map(drop)
            }),
            ("the ctx path", |p, bytes| {
                p.evaluate_ctx("runners/decision", bytes).map(drop)
            }),
            ("opa_json_parse and opa_json_dump", |p, bytes| {
                let value = p.parse_input(bytes)?;
                p.opa_json_dump(value).map(drop)
            }),
        ];
        for (path, run) in paths {
            policy.paint_stack();
            match run(&mut policy, bytes) {
                Ok(()) => {}
                // Past the depth limit `opa_json_parse` refuses the text: a well-formed
                // refusal (0), not a trap.
                Err(e) if matches!(e.root(), HostError::Unparsable(_)) && path != "opa_eval" => {}
                Err(e) => panic!("{name} through {path}: {e:#}"),
            }
            let used = policy.stack_used();
            assert!(
                used > 0,
                "{name} through {path}: the stack paint was not touched"
            );
            if used > deepest.0 {
                deepest = (used, format!("{name} through {path}"));
            }
        }
    }
    println!(
        "deepest stack use: {} of {STACK_BYTES} bytes ({})",
        deepest.0, deepest.1
    );
    assert!(
        deepest.0 <= STACK_BYTES / 4 * 3,
        "{} used {} bytes of the {STACK_BYTES}-byte stack",
        deepest.1,
        deepest.0
    );
}
