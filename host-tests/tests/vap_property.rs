//! Property: on generated admission requests the ValidatingAdmissionPolicy (through kube-rs's
//! CEL) and the policy give the same verdict, and a denial's first failing validation belongs to
//! a rule the policy reports. The requests are JSON built here (the Rego property's typed
//! generators are private to its test): Pods and workloads with random containers, security
//! contexts, env, mounts, volumes and images; RBAC objects, Secrets, ConfigMaps,
//! NetworkPolicies, TokenRequests, Namespaces; every identity, namespace and operation.
//!
//! The policy runs natively (`policy::eval::decide`, the code the module is built from).
//! Requests it denies as `valid-request` are left out (the API server refuses them first).
//! `VAP_PROPERTY_CASES=N` changes the number of cases (default 10,000).

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use runner_policy::rego::RegoPolicy;
use runner_policy::vap::{Engine, Verdict};
use serde_json::{Map, Value, json};

const RUNNERS_NS: &str = "example-runners";
const EXEMPT: &str = "cluster-admin-bob";

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    select(items).prop_map(str::to_owned)
}

/// An object with the fields that are `Some`.
fn obj(fields: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    Value::Object(map)
}

// ---------------------------------------------------------------- pods

const IMAGES: &[&str] = &[
    "alpine:3.20",
    "docker:27-dind",
    "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0",
    "gcr.io/kaniko-project/executor:debug",
    "index.docker.io/library/alpine",
    "DOCKER.IO/library/alpine",
    "Registry.GitLab.com/x/y",
    "registry.gitlab.com.evil.io/x/y:1",
    "registry.gitlab.com:443/x/y",
    "localhost:5000/app",
    "localhost/app",
    "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "alpine@sha256:0123",
    "Alpine",
    "nixos/nix:2.24",
    "[::1]:5000/app",
    "a//b",
    "a_b.c/app",
    "foo.bar",
    "foo:bar/baz",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "docker.io/library/alpine:-bad",
    "registry-1.docker.io/library/ubuntu:24.04",
    "ubuntu:24.04@sha512:00",
    "",
];

const CAPS: &[&str] = &[
    "CHOWN",
    "NET_BIND_SERVICE",
    "SYS_ADMIN",
    "cap_chown",
    "ALL",
    "NET_RAW",
];

fn security_context() -> impl Strategy<Value = Value> {
    (
        option::of(any::<bool>()),
        option::of(vec(pick(CAPS), 0..3)),
        option::of(pick(&["Default", "Unmasked"])),
        option::of(pick(&["RuntimeDefault", "Localhost", "Unconfined", ""])),
        option::of(pick(&["RuntimeDefault", "Unconfined"])),
        option::of((
            option::of(pick(&["container_t", "spc_t", ""])),
            option::of(pick(&["system_u", ""])),
            option::of(pick(&["system_r"])),
        )),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(privileged, caps, proc, seccomp, apparmor, selinux, host_process)| {
                obj(vec![
                    ("privileged", privileged.map(Value::from)),
                    ("capabilities", caps.map(|c| json!({"add": c}))),
                    ("procMount", proc.map(Value::from)),
                    ("seccompProfile", seccomp.map(|t| json!({"type": t}))),
                    ("appArmorProfile", apparmor.map(|t| json!({"type": t}))),
                    (
                        "seLinuxOptions",
                        selinux.map(|(t, u, r)| {
                            obj(vec![
                                ("type", t.map(Value::from)),
                                ("user", u.map(Value::from)),
                                ("role", r.map(Value::from)),
                            ])
                        }),
                    ),
                    (
                        "windowsOptions",
                        host_process.map(|h| json!({"hostProcess": h})),
                    ),
                ])
            },
        )
}

const ENV_NAMES: &[&str] = &[
    "CI_JOB_ID",
    "RUNNER_TOKEN",
    "runner_token",
    "CI_SERVER_TOKEN",
    "ATTIC_TOKEN",
    "attic_server_key",
    "ATTIC_ENDPOINT",
    "ATTIC_PASSWORD_FILE",
    "DOCKER_CONFIG",
];

fn env_var() -> impl Strategy<Value = Value> {
    (
        pick(ENV_NAMES),
        prop_oneof![
            Just(json!({"value": ""})),
            Just(json!({"value": "x"})),
            pick(&[
                "/kaniko/.docker",
                "/home/user",
                "$(HOME)/x",
                "/cache/a/../b",
                "/builds/cfg"
            ])
            .prop_map(|v| json!({ "value": v })),
            Just(json!({})),
            pick(&["registry-push-credentials", "attic", "other"])
                .prop_map(|s| json!({"valueFrom": {"secretKeyRef": {"name": s, "key": "k"}}})),
            Just(json!({"valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}})),
        ],
    )
        .prop_map(|(name, mut v)| {
            v["name"] = json!(name);
            v
        })
}

const MOUNT_PATHS: &[&str] = &[
    "/kaniko/.docker",
    "/root/.docker/config.json",
    "/run/containers/0",
    "/run/user/1000/containers",
    "/var/lib/containers",
    "/etc/containers/certs.d",
    "/home/user/.config/containers",
    "/builds",
    "/secrets/auth.json",
    "/cache",
    "/builds/cfg",
    "/home/user",
];

fn handler() -> impl Strategy<Value = Option<Value>> {
    option::of((
        pick(&["httpGet", "tcpSocket"]),
        option::of(pick(&["", "10.0.0.1"])),
    ))
    .prop_map(|h| {
        h.map(|(kind, host)| json!({ kind: obj(vec![("port", Some(json!(80))), ("host", host.map(Value::from))]) }))
    })
}

fn container() -> impl Strategy<Value = Value> {
    (
        pick(&["build", "helper", "svc-0", "init-permissions", "docker"]),
        option::of(pick(IMAGES)),
        option::weighted(0.25, security_context()),
        vec(option::of(select(&[0i64, 8080][..])), 0..2),
        vec(env_var(), 0..4),
        vec(
            (
                option::of(pick(&["registry-push-credentials", "other"])),
                option::of(pick(&["config", "ATTIC_", "AT", "X_"])),
            ),
            0..2,
        ),
        vec(
            (
                pick(&["v0", "v1", "v2", "v3"]),
                pick(MOUNT_PATHS),
                option::of(pick(&["", ".docker", "auth.json", "sub", ".."])),
            ),
            0..3,
        ),
        (handler(), handler()),
    )
        .prop_map(
            |(name, image, sc, ports, env, env_from, mounts, (probe, hook))| {
                let ports: Vec<Value> = ports
                    .into_iter()
                    .map(|p| {
                        obj(vec![
                            ("containerPort", Some(json!(80))),
                            ("hostPort", p.map(Value::from)),
                        ])
                    })
                    .collect();
                let env_from: Vec<Value> = env_from
                    .into_iter()
                    .map(|(secret, prefix)| match secret {
                        Some(s) if prefix.is_none() => json!({"secretRef": {"name": s}}),
                        _ => obj(vec![
                            ("configMapRef", Some(json!({"name": "settings"}))),
                            ("prefix", prefix.map(Value::from)),
                        ]),
                    })
                    .collect();
                let mounts: Vec<Value> = mounts
                    .into_iter()
                    .map(|(n, p, sub)| {
                        obj(vec![
                            ("name", Some(json!(n))),
                            ("mountPath", Some(json!(p))),
                            ("subPath", sub.map(Value::from)),
                        ])
                    })
                    .collect();
                obj(vec![
                    ("name", Some(json!(name))),
                    ("image", image.map(Value::from)),
                    ("securityContext", sc),
                    ("ports", (!ports.is_empty()).then(|| json!(ports))),
                    ("env", (!env.is_empty()).then(|| json!(env))),
                    ("envFrom", (!env_from.is_empty()).then(|| json!(env_from))),
                    ("volumeMounts", (!mounts.is_empty()).then(|| json!(mounts))),
                    ("livenessProbe", probe),
                    ("lifecycle", hook.map(|h| json!({"postStart": h}))),
                ])
            },
        )
}

fn volume() -> impl Strategy<Value = Value> {
    (
        pick(&["v0", "v1", "v2", "v3"]),
        prop_oneof![
            pick(&["/var/run/docker.sock", "/tmp", "/run/docker.sock/"])
                .prop_map(|p| json!({"hostPath": {"path": p}})),
            pick(&["registry-push-credentials", "other"])
                .prop_map(|s| json!({"secret": {"secretName": s}})),
            (
                pick(&["registry-push-credentials", "other"]),
                pick(&[".dockerconfigjson", "config.json", "a/../b", "x", "sub/auth.json"])
            )
                .prop_map(|(s, p)| json!({"secret": {"secretName": s, "items": [{"key": "k", "path": p}]}})),
            pick(&["registry-push-credentials", "other"]).prop_map(
                |s| json!({"projected": {"sources": [{"configMap": {"name": "c"}}, {"secret": {"name": s}}]}})
            ),
            Just(json!({"projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}})),
            Just(json!({"csi": {"driver": "secrets-store.csi.k8s.io"}})),
            pick(IMAGES).prop_map(|i| json!({"image": {"reference": i}})),
            Just(json!({"emptyDir": {}})),
        ],
    )
        .prop_map(|(name, mut v)| {
            v["name"] = json!(name);
            v
        })
}

fn pod_template() -> impl Strategy<Value = Value> {
    let meta = (
        option::of(pick(&["1234", "4242"])),
        option::of(pick(&[
            "pod.runner.gitlab.com/id",
            "runner.gitlab.com/x",
            "app",
        ])),
        btree_map(
            pick(&[
                "container.apparmor.security.beta.kubernetes.io/build",
                "container.apparmor.security.beta.kubernetes.io/ghost",
                "note",
            ]),
            pick(&["runtime/default", "localhost/p", "unconfined", ""]),
            0..2,
        ),
    );
    let spec = (
        vec(container(), 0..2),
        vec(container(), 1..3),
        vec(container(), 0..2),
        vec(volume(), 0..3),
        (
            option::of(any::<bool>()),
            option::of(any::<bool>()),
            option::of(any::<bool>()),
            option::of(any::<bool>()),
        ),
        option::of((
            option::of(pick(&["RuntimeDefault", "Unconfined"])),
            option::of(pick(&["container_t", "spc_t"])),
            vec(pick(&["kernel.shm_rmid_forced", "kernel.msgmax"]), 0..2),
            option::of(any::<bool>()),
        )),
        option::of(pick(&[
            "gitlab-runner-dind",
            "gitlab-runner-docker",
            "gitlab-runner-nix",
            "default",
        ])),
    );
    (meta, spec).prop_map(
        |((project, label, annotations), (init, containers, ephemeral, volumes, host, psc, sa))| {
            let mut labels = Map::new();
            if let Some(p) = project {
                labels.insert("project.runner.gitlab.com/id".to_owned(), json!(p));
            }
            if let Some(l) = label {
                labels.insert(l, json!("1"));
            }
            let ephemeral: Vec<Value> = ephemeral
                .into_iter()
                .map(|mut c| {
                    c["name"] = json!("debugger");
                    c
                })
                .collect();
            let (net, pid, ipc, users) = host;
            json!({
                "metadata": obj(vec![
                    ("labels", (!labels.is_empty()).then_some(Value::Object(labels))),
                    ("annotations", (!annotations.is_empty()).then(|| json!(annotations))),
                ]),
                "spec": obj(vec![
                    ("initContainers", (!init.is_empty()).then(|| json!(init))),
                    ("containers", Some(json!(containers))),
                    ("ephemeralContainers", (!ephemeral.is_empty()).then(|| json!(ephemeral))),
                    ("volumes", (!volumes.is_empty()).then(|| json!(volumes))),
                    ("hostNetwork", net.map(Value::from)),
                    ("hostPID", pid.map(Value::from)),
                    ("hostIPC", ipc.map(Value::from)),
                    ("hostUsers", users.map(Value::from)),
                    ("serviceAccountName", sa.map(Value::from)),
                    ("securityContext", psc.map(|(seccomp, selinux, sysctls, hp)| obj(vec![
                        ("seccompProfile", seccomp.map(|t| json!({"type": t}))),
                        ("seLinuxOptions", selinux.map(|t| json!({"type": t}))),
                        ("sysctls", (!sysctls.is_empty()).then(|| json!(sysctls.iter().map(|n| json!({"name": n, "value": "1"})).collect::<Vec<_>>()))),
                        ("windowsOptions", hp.map(|h| json!({"hostProcess": h}))),
                    ]))),
                ]),
            })
        },
    )
}

// ---------------------------------------------------------------- other objects

fn role_rules() -> impl Strategy<Value = Value> {
    vec(
        (
            vec(pick(&["", "apps", "*"]), 1..2),
            vec(pick(&["pods", "secrets", "*", "*/exec", "pods/log"]), 1..3),
            vec(
                pick(&["get", "list", "*", "ESCALATE", "bind", "impersonate"]),
                1..3,
            ),
        ),
        0..3,
    )
    .prop_map(|rules| {
        json!(
            rules
                .into_iter()
                .map(|(g, r, v)| json!({"apiGroups": g, "resources": r, "verbs": v}))
                .collect::<Vec<_>>()
        )
    })
}

fn subjects() -> impl Strategy<Value = Value> {
    vec(
        prop_oneof![
            (
                pick(&["gitlab-runner-docker", "x"]),
                option::of(pick(&[RUNNERS_NS, "default", ""]))
            )
                .prop_map(|(n, ns)| obj(vec![
                    ("kind", Some(json!("ServiceAccount"))),
                    ("name", Some(json!(n))),
                    ("namespace", ns.map(Value::from))
                ])),
            pick(&[
                "system:serviceaccount:example-runners:gitlab-runner-dind",
                "system:serviceaccount:example-runners-x:a",
                "alice"
            ])
            .prop_map(
                |n| json!({"kind": "User", "name": n, "apiGroup": "rbac.authorization.k8s.io"})
            ),
            pick(&[
                "system:serviceaccounts",
                "system:serviceaccounts:example-runners",
                "system:authenticated",
                "devs"
            ])
            .prop_map(
                |n| json!({"kind": "Group", "name": n, "apiGroup": "rbac.authorization.k8s.io"})
            ),
        ],
        0..3,
    )
    .prop_map(Value::from)
}

fn data_keys() -> impl Strategy<Value = Value> {
    btree_map(
        pick(&[
            "runner-token",
            "Runner-Registration-Token",
            "ATTIC_TOKEN",
            "attic_key",
            "ATTIC_URL",
            "config",
        ]),
        Just(json!("dmFsdWU=")),
        0..3,
    )
    .prop_map(|m| json!(m))
}

fn peer() -> impl Strategy<Value = Value> {
    let selector = |keys: &'static [&'static str], values: &'static [&'static str]| {
        (
            option::of((pick(keys), pick(values))),
            option::of((pick(keys), pick(&["In", "NotIn"]), vec(pick(values), 0..2))),
        )
            .prop_map(|(label, expr)| {
                obj(vec![
                    ("matchLabels", label.map(|(k, v)| json!({ k: v }))),
                    (
                        "matchExpressions",
                        expr.map(
                            |(k, op, vals)| json!([{"key": k, "operator": op, "values": vals}]),
                        ),
                    ),
                ])
            })
    };
    (
        option::of(selector(
            &["kubernetes.io/metadata.name", "team"],
            &["attic-cache-dev", "kube-system", "default"],
        )),
        option::of(selector(&["k8s-app", "app"], &["kube-dns", "web"])),
        any::<bool>(),
    )
        .prop_map(|(ns, pods, ip)| {
            obj(vec![
                ("namespaceSelector", ns),
                ("podSelector", pods),
                ("ipBlock", ip.then(|| json!({"cidr": "10.0.0.0/8"}))),
            ])
        })
}

/// `(group, kind, object)`.
fn object() -> impl Strategy<Value = (String, String, Value)> {
    let meta = || (pick(&["job-1", ""]), option::of(pick(&["gen-"])));
    prop_oneof![
        4 => (meta(), pod_template()).prop_map(|((name, generate), mut t)| {
            t["metadata"]["name"] = json!(name);
            if let Some(g) = generate { t["metadata"]["generateName"] = json!(g); }
            (String::new(), "Pod".to_owned(), t)
        }),
        1 => (pod_template(), select(&[("apps", "Deployment"), ("batch", "Job"), ("", "ReplicationController"), ("batch", "CronJob"), ("", "PodTemplate")][..]))
            .prop_map(|(t, (group, kind))| {
                let body = match kind {
                    "CronJob" => json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": t}}}}),
                    "PodTemplate" => json!({"template": t}),
                    _ => json!({"spec": {"template": t}}),
                };
                let mut o = body;
                o["metadata"] = json!({"name": "w"});
                (group.to_owned(), kind.to_owned(), o)
            }),
        1 => role_rules().prop_map(|r| ("rbac.authorization.k8s.io".to_owned(), "Role".to_owned(), json!({"metadata": {"name": "r"}, "rules": r}))),
        1 => (select(&["RoleBinding", "ClusterRoleBinding"][..]), select(&[("Role", "runner"), ("ClusterRole", "system:discovery"), ("ClusterRole", "system:service-account-issuer-discovery"), ("ClusterRole", "admin")][..]), subjects())
            .prop_map(|(kind, (rk, rn), s)| ("rbac.authorization.k8s.io".to_owned(), kind.to_owned(), json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": rk, "name": rn}, "subjects": s}))),
        1 => (data_keys(), option::of(pick(&["kubernetes.io/service-account-token", "Opaque"])), option::of(pick(&["gitlab-runner-docker", "gitlab-runner-dind", ""])))
            .prop_map(|(data, t, sa)| {
                let annotations = sa.map(|sa| json!({"kubernetes.io/service-account.name": sa}));
                ("".to_owned(), "Secret".to_owned(), obj(vec![
                    ("metadata", Some(obj(vec![("name", Some(json!("s"))), ("annotations", annotations)]))),
                    ("type", t.map(Value::from)),
                    ("data", Some(data)),
                ]))
            }),
        1 => (data_keys(), data_keys()).prop_map(|(d, b)| ("".to_owned(), "ConfigMap".to_owned(), json!({"metadata": {"name": "c"}, "data": d, "binaryData": b}))),
        1 => vec(option::of(vec(peer(), 0..3)), 0..3).prop_map(|egress| {
            let egress: Vec<Value> = egress.into_iter().map(|to| obj(vec![("to", to.map(Value::from))])).collect();
            ("networking.k8s.io".to_owned(), "NetworkPolicy".to_owned(), json!({"metadata": {"name": "n"}, "spec": {"podSelector": {}, "egress": egress}}))
        }),
        1 => Just(("authentication.k8s.io".to_owned(), "TokenRequest".to_owned(), json!({"spec": {"audiences": ["api"]}}))),
        1 => Just(("".to_owned(), "Namespace".to_owned(), json!({"metadata": {"name": RUNNERS_NS}}))),
        1 => Just(("".to_owned(), "Service".to_owned(), json!({"metadata": {"name": "svc"}}))),
    ]
}

// ---------------------------------------------------------------- requests

const USERS: &[&str] = &[
    "system:serviceaccount:example-runners:gitlab-runner-dind",
    "system:serviceaccount:example-runners:gitlab-runner-docker",
    "system:serviceaccount:example-runners:gitlab-runner-nix",
    "system:serviceaccount:example-runners:default",
    "system:serviceaccount:default:gitlab-runner-dind",
    "kubernetes-admin",
    EXEMPT,
];

/// `(settings variant, AdmissionRequest)`: the variant picks `dindPrivilegedContainers` and
/// whether `exemptUsers` names the operator.
fn request() -> impl Strategy<Value = (usize, Value)> {
    (
        select(
            &[
                Some(RUNNERS_NS),
                Some(RUNNERS_NS),
                Some(RUNNERS_NS),
                Some("default"),
                Some("attic-cache-dev"),
                None,
            ][..],
        ),
        select(USERS),
        select(&["CREATE", "UPDATE", "DELETE", "CONNECT"][..]),
        0..4usize,
        object(),
        object(),
        0..3u8,
        pick(&["gitlab-runner-docker", "gitlab-runner-dind"]),
    )
        .prop_map(|(ns, user, op, variant, (group, kind, mut o), (_, other_kind, other), old, name)| {
            if let (Some(ns), Some(meta)) = (ns, o.get_mut("metadata").and_then(Value::as_object_mut))
                && kind != "Namespace"
            {
                meta.insert("namespace".to_owned(), json!(ns));
            }
            let old_object = match old {
                0 => o.clone(),
                1 if other_kind == kind => other,
                _ => {
                    let mut x = o.clone();
                    x["metadata"]["labels"] = json!({"changed": "yes"});
                    x
                }
            };
            let mut request = json!({
                "uid": "00000000-0000-0000-0000-000000000000",
                "kind": {"group": group, "version": "v1", "kind": kind},
                "operation": op,
                "userInfo": {"username": user, "groups": ["system:authenticated"]},
                "name": o["metadata"]["name"].clone(),
            });
            if kind == "Namespace" {
                request["namespace"] = o["metadata"]["name"].clone();
            } else if let Some(ns) = ns {
                request["namespace"] = json!(ns);
            }
            if kind == "TokenRequest" {
                request["subResource"] = json!("token");
                request["name"] = json!(name);
            }
            match op {
                "CREATE" => request["object"] = o,
                "UPDATE" => {
                    request["object"] = o;
                    request["oldObject"] = old_object;
                }
                "DELETE" => request["oldObject"] = o,
                _ => {
                    request["kind"] = json!({"group": "", "version": "v1", "kind": "PodExecOptions"});
                    request["subResource"] = json!("exec");
                    request["object"] = json!({"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"]});
                }
            }
            (variant, request)
        })
}

fn settings(variant: usize) -> Value {
    let mut settings = runner_policy::settings::example().unwrap();
    settings["dindPrivilegedContainers"] = json!(if variant.is_multiple_of(2) {
        "all"
    } else {
        "services"
    });
    if variant >= 2 {
        settings["exemptUsers"] = json!([EXEMPT]);
    }
    settings
}

#[test]
fn vap_and_policy_agree_on_generated_requests() {
    let cases = std::env::var("VAP_PROPERTY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let engines: Vec<(Value, Engine)> = (0..4)
        .map(|v| {
            let s = settings(v);
            let e = Engine::from_settings(&s).unwrap_or_else(|e| panic!("{e:#}"));
            (s, e)
        })
        .collect();
    let counts = RefCell::new(BTreeMap::<String, usize>::new());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&request(), |(variant, request)| {
        let (settings, engine) = &engines[variant];
        let input = RegoPolicy::gatekeeper_input(&request, settings).to_string();
        let decision = policy::eval::decide(input.as_bytes(), None).decision;
        let rules: Vec<&str> = decision
            .violations
            .iter()
            .map(|v| v.rule.as_str())
            .collect();
        let mut counts = counts.borrow_mut();
        for rule in &rules {
            *counts.entry(format!("module: {rule}")).or_default() += 1;
        }
        if rules.contains(&"valid-request") {
            *counts
                .entry("(valid-request, left out)".to_owned())
                .or_default() += 1;
            return Ok(());
        }
        let verdict = engine.judge_request(&request);
        match &verdict {
            Verdict::Allowed => *counts.entry("(allowed)".to_owned()).or_default() += 1,
            Verdict::Denied { rule, .. } => *counts.entry(rule.to_string()).or_default() += 1,
            Verdict::Error { .. } => {}
        }
        let agree = match &verdict {
            Verdict::Allowed => rules.is_empty(),
            Verdict::Denied { rule, .. } => rules.contains(&rule.as_str()),
            Verdict::Error { .. } => false,
        };
        prop_assert!(
            agree,
            "policy {rules:?}, vap {verdict:?}\nrequest: {request}"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let counts = counts.into_inner();
    eprintln!(
        "{cases} generated requests; the module's violations per rule, and the first failing validation per rule: {counts:?}"
    );
    // The generators must reach every rule, or the property proves little.
    for rule in policy::decision::RuleName::ALL {
        if rule == policy::decision::RuleName::ValidRequest {
            continue;
        }
        assert!(
            cases < 1000 || counts.get(&format!("module: {rule}")).copied().unwrap_or(0) > 10,
            "the generators seldom reach {rule}: {counts:?}"
        );
    }
}
