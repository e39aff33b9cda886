//! Pod templates as JSON: labels and AppArmor annotations, containers of every list, volumes,
//! host namespaces, the pod security context and the ServiceAccount.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::super::{IMAGES, pick};
use super::obj;

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

pub(super) fn pod_template() -> impl Strategy<Value = Value> {
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
