//! Generated AdmissionReviews, as Gatekeeper input documents, shared by `rego_property` (the
//! Rego twin in regorus) and `opa_real` (real OPA). The objects are typed `k8s-openapi` objects:
//! Pods and every workload kind, RBAC objects, Secrets, ConfigMaps, NetworkPolicies and a
//! Namespace, with random security contexts, identities (each runner, admin, other
//! ServiceAccounts, exempt), namespaces (runners, others, cluster-scoped), operations, images and
//! volumes; sometimes a value of the wrong type somewhere.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet,
    StatefulSetSpec,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    AppArmorProfile, CSIVolumeSource, Capabilities, ConfigMap, ConfigMapEnvSource, Container,
    ContainerPort, EnvFromSource, EnvVar, EnvVarSource, EphemeralContainer, HTTPGetAction,
    HostPathVolumeSource, ImageVolumeSource, KeyToPath, Namespace, Pod, PodSecurityContext,
    PodSpec, PodTemplate, PodTemplateSpec, Probe, ProjectedVolumeSource, ReplicationController,
    ReplicationControllerSpec, SELinuxOptions, SeccompProfile, Secret, SecretEnvSource,
    SecretKeySelector, SecretProjection, SecretVolumeSource, SecurityContext, Sysctl, Volume,
    VolumeMount, VolumeProjection, WindowsSecurityContextOptions,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use runner_policy::rego::RegoPolicy;
use serde_json::{Value, json};

const RUNNERS_NS: &str = "example-runners";
const EXEMPT: &str = "cluster-admin-bob";

fn s(x: &str) -> String {
    x.to_owned()
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    select(items).prop_map(str::to_owned)
}

fn opt_pick(items: &'static [&'static str]) -> impl Strategy<Value = Option<String>> + Clone {
    option::of(pick(items))
}

// ---------------------------------------------------------------- containers

const IMAGES: &[&str] = &[
    "alpine:3.20",
    "docker:27-dind",
    "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0",
    "gcr.io/kaniko-project/executor:debug",
    "index.docker.io/library/alpine",
    "DOCKER.IO/library/alpine",
    "registry.gitlab.com.evil.io/x/y:1",
    "registry.gitlab.com:443/x/y",
    "localhost:5000/app",
    "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "alpine@sha256:0123",
    "Alpine",
    "nixos/nix:2.24",
    "quay.io/podman/stable",
    "[::1]:5000/app",
    "a//b",
    "",
];

fn security_context() -> impl Strategy<Value = SecurityContext> {
    (
        option::of(any::<bool>()),
        option::of(vec(
            pick(&[
                "CHOWN",
                "SYS_ADMIN",
                "cap_sys_admin",
                "ALL",
                "NET_RAW",
                "net_bind_service",
                "SETUID",
            ]),
            0..3,
        )),
        opt_pick(&["Default", "Unmasked", ""]),
        opt_pick(&["RuntimeDefault", "Unconfined", "Localhost"]),
        opt_pick(&["RuntimeDefault", "Unconfined", "Localhost"]),
        option::of((
            opt_pick(&["container_t", "spc_t", ""]),
            opt_pick(&["system_u", ""]),
            opt_pick(&["system_r", ""]),
        )),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(privileged, add, proc_mount, seccomp, apparmor, selinux, host_process)| {
                SecurityContext {
                    privileged,
                    capabilities: add.map(|add| Capabilities {
                        add: Some(add),
                        drop: None,
                    }),
                    proc_mount,
                    seccomp_profile: seccomp.map(|type_| SeccompProfile {
                        type_,
                        localhost_profile: None,
                    }),
                    app_armor_profile: apparmor.map(|type_| AppArmorProfile {
                        type_,
                        localhost_profile: None,
                    }),
                    se_linux_options: selinux.map(|(type_, user, role)| SELinuxOptions {
                        type_,
                        user,
                        role,
                        level: None,
                    }),
                    windows_options: host_process.map(|h| WindowsSecurityContextOptions {
                        host_process: Some(h),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
            },
        )
}

fn env_var() -> impl Strategy<Value = EnvVar> {
    (
        pick(&[
            "RUNNER_TOKEN",
            "ATTIC_TOKEN",
            "ATTIC_SERVER",
            "CI_SERVER_TOKEN",
            "FOO",
            "DOCKER_AUTH_CONFIG",
            "DOCKER_CONFIG",
            "REGISTRY_AUTH_FILE",
            "HOME",
            "XDG_RUNTIME_DIR",
        ]),
        prop_oneof![
            Just((Some(s("literal")), None)),
            // Where a registry auth variable may point: literal, relative, expanded, empty.
            pick(&[
                "/data",
                "/data/",
                "/run",
                "/creds/x",
                "data",
                "/x/../data",
                "$(FOO)/d",
                "",
                "/"
            ])
            .prop_map(|v| (Some(v), None)),
            pick(&["registry-push-credentials", "attic-credentials", "other"])
                .prop_map(|name| (None, Some(name))),
        ],
    )
        .prop_map(|(name, (value, secret))| EnvVar {
            name,
            value,
            value_from: secret.map(|name| EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name,
                    key: s("token"),
                    optional: None,
                }),
                ..Default::default()
            }),
        })
}

fn container() -> impl Strategy<Value = Container> {
    (
        select(IMAGES),
        option::of(security_context()),
        vec(option::of(select(&[0, 8080, 2376][..])), 0..2),
        vec(env_var(), 0..3),
        vec(
            (
                pick(&["registry-push-credentials", "other"]),
                any::<bool>(),
                // `attı`: Rego's upper would make it ATTI; the rules compare ASCII only.
                opt_pick(&["ATTIC_", "att", "NIX_", "", "attı"]),
            ),
            0..2,
        ),
        vec(
            (
                pick(&["v0", "v1", "v2"]),
                pick(&[
                    "/kaniko/.docker",
                    "/root/.docker/config.json",
                    "/data",
                    "/etc/containers",
                    "/run",
                    "/run/containers/0",
                    "/var/lib/containers",
                    "/etc/containers/certs.d/r:5000",
                    "/root",
                    "/run/user/1000",
                    "/creds",
                    "/data/x",
                ]),
                opt_pick(&[
                    "auth.json",
                    "x",
                    "./config.json",
                    "containers/0",
                    "12",
                    "certs",
                    "certs/ca.crt",
                    "../x",
                ]),
            ),
            0..3,
        ),
        opt_pick(&["", "10.0.0.1", "example.com"]),
    )
        .prop_map(
            |(image, security_context, ports, env, env_from, mounts, probe_host)| Container {
                name: String::new(),
                image: (!image.is_empty()).then(|| image.to_owned()),
                security_context,
                ports: Some(
                    ports
                        .into_iter()
                        .map(|host_port| ContainerPort {
                            container_port: 80,
                            host_port,
                            ..Default::default()
                        })
                        .collect(),
                ),
                env: Some(env),
                env_from: Some(
                    env_from
                        .into_iter()
                        .map(|(name, config_map, prefix)| EnvFromSource {
                            secret_ref: (!config_map).then(|| SecretEnvSource {
                                name: name.clone(),
                                optional: None,
                            }),
                            config_map_ref: config_map.then_some(ConfigMapEnvSource {
                                name,
                                optional: None,
                            }),
                            prefix,
                        })
                        .collect(),
                ),
                volume_mounts: Some(
                    mounts
                        .into_iter()
                        .map(|(name, mount_path, sub_path)| VolumeMount {
                            name,
                            mount_path,
                            sub_path,
                            ..Default::default()
                        })
                        .collect(),
                ),
                liveness_probe: probe_host.map(|host| Probe {
                    http_get: Some(HTTPGetAction {
                        host: Some(host),
                        port: IntOrString::Int(8080),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
}

fn ephemeral(c: Container) -> EphemeralContainer {
    EphemeralContainer {
        name: c.name,
        image: c.image,
        security_context: c.security_context,
        ports: c.ports,
        env: c.env,
        env_from: c.env_from,
        volume_mounts: c.volume_mounts,
        ..Default::default()
    }
}

// ---------------------------------------------------------------- pods

fn volume() -> impl Strategy<Value = Option<Volume>> {
    prop_oneof![
        Just(None),
        pick(&["/var/run/docker.sock", "/tmp", "/run/docker.sock/"]).prop_map(|path| Some(
            Volume {
                host_path: Some(HostPathVolumeSource { path, type_: None }),
                ..Default::default()
            }
        )),
        (
            opt_pick(&["registry-push-credentials", "other"]),
            key_to_paths()
        )
            .prop_map(|(secret_name, items)| Some(Volume {
                secret: Some(SecretVolumeSource {
                    secret_name,
                    items,
                    ..Default::default()
                }),
                ..Default::default()
            })),
        opt_pick(&["quay.io/x/tools:1", "registry.gitlab.com/g/tools:1", ""]).prop_map(
            |reference| Some(Volume {
                image: Some(ImageVolumeSource {
                    reference,
                    ..Default::default()
                }),
                ..Default::default()
            })
        ),
        Just(Some(Volume {
            csi: Some(CSIVolumeSource {
                driver: s("secrets-store.csi.k8s.io"),
                ..Default::default()
            }),
            ..Default::default()
        })),
        (
            pick(&["registry-push-credentials", "other"]),
            key_to_paths()
        )
            .prop_map(|(name, items)| Some(Volume {
                projected: Some(ProjectedVolumeSource {
                    sources: Some(vec![VolumeProjection {
                        secret: Some(SecretProjection {
                            name,
                            items,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            })),
    ]
}

/// Secret items (absent: every key at its name), at auth paths, beside them, or with a backstep.
fn key_to_paths() -> impl Strategy<Value = Option<Vec<KeyToPath>>> {
    option::of(vec(
        pick(&[
            ".docker/config.json",
            "containers/auth.json",
            "ca.crt",
            "certs/ca.crt",
            "x/../y",
            "./.dockercfg",
            "certs",
        ])
        .prop_map(|path| KeyToPath {
            key: s("k"),
            path,
            ..Default::default()
        }),
        0..3,
    ))
}

fn pod_meta() -> impl Strategy<Value = ObjectMeta> {
    (
        option::of(pick(&["4242", "1234"])),
        any::<bool>(),
        option::of(pick(&["app"])),
        vec(
            (
                pick(&["build", "ghost", "svc-0"]),
                pick(&["unconfined", "runtime/default", "localhost/x"]),
            ),
            0..2,
        ),
    )
        .prop_map(|(project, job_label, other_label, apparmor)| {
            let mut labels = BTreeMap::new();
            if let Some(p) = project {
                labels.insert(s("project.runner.gitlab.com/id"), p);
            }
            if job_label {
                labels.insert(s("job.runner.gitlab.com/pod"), s("runner-x"));
            }
            if let Some(app) = other_label {
                labels.insert(s("app"), app);
            }
            let annotations: BTreeMap<String, String> = apparmor
                .into_iter()
                .map(|(c, v)| {
                    (
                        format!("container.apparmor.security.beta.kubernetes.io/{c}"),
                        v,
                    )
                })
                .collect();
            ObjectMeta {
                labels: Some(labels),
                annotations: Some(annotations),
                ..Default::default()
            }
        })
}

fn pod_security_context() -> impl Strategy<Value = PodSecurityContext> {
    (
        opt_pick(&["RuntimeDefault", "Unconfined"]),
        option::of((opt_pick(&["container_t", "spc_t"]), opt_pick(&["system_u"]))),
        vec(
            pick(&[
                "kernel.shm_rmid_forced",
                "kernel.msgmax",
                "net.ipv4.tcp_syncookies",
            ]),
            0..2,
        ),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(seccomp, selinux, sysctls, host_process)| PodSecurityContext {
                seccomp_profile: seccomp.map(|type_| SeccompProfile {
                    type_,
                    localhost_profile: None,
                }),
                se_linux_options: selinux.map(|(type_, user)| SELinuxOptions {
                    type_,
                    user,
                    ..Default::default()
                }),
                sysctls: Some(
                    sysctls
                        .into_iter()
                        .map(|name| Sysctl {
                            name,
                            value: s("1"),
                        })
                        .collect(),
                ),
                windows_options: host_process.map(|h| WindowsSecurityContextOptions {
                    host_process: Some(h),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
}

const CONTAINER_NAMES: &[&str] = &[
    "build",
    "helper",
    "svc-0",
    "init-permissions",
    "docker",
    "app",
];

fn pod_template() -> impl Strategy<Value = PodTemplateSpec> {
    (
        pod_meta(),
        vec((select(CONTAINER_NAMES), container()), 1..4),
        vec((select(CONTAINER_NAMES), container()), 0..2),
        vec((select(CONTAINER_NAMES), container()), 0..2),
        (
            option::of(any::<bool>()),
            option::of(any::<bool>()),
            option::of(any::<bool>()),
            option::of(any::<bool>()),
        ),
        option::of(pod_security_context()),
        vec(volume(), 0..3),
        opt_pick(&[
            "gitlab-runner-dind",
            "gitlab-runner-docker",
            "gitlab-runner-nix",
            "default",
            "",
        ]),
    )
        .prop_map(
            |(meta, containers, inits, ephemerals, (net, pid, ipc, users), sc, volumes, sa)| {
                // Container names are unique in a pod (the API server rejects duplicates).
                let mut seen = std::collections::BTreeSet::new();
                let mut name = |n: &str| {
                    let mut n = n.to_owned();
                    while !seen.insert(n.clone()) {
                        n.push('x');
                    }
                    n
                };
                let named = |list: Vec<(&str, Container)>, name: &mut dyn FnMut(&str) -> String| {
                    list.into_iter()
                        .map(|(n, c)| Container { name: name(n), ..c })
                        .collect::<Vec<_>>()
                };
                let containers = named(containers, &mut name);
                let init_containers = named(inits, &mut name);
                let ephemeral_containers: Vec<EphemeralContainer> = named(ephemerals, &mut name)
                    .into_iter()
                    .map(ephemeral)
                    .collect();
                let volumes = volumes
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| Volume {
                        name: format!("v{i}"),
                        ..v.unwrap_or_default()
                    })
                    .collect();
                PodTemplateSpec {
                    metadata: Some(meta),
                    spec: Some(PodSpec {
                        containers,
                        init_containers: Some(init_containers),
                        ephemeral_containers: Some(ephemeral_containers),
                        host_network: net,
                        host_pid: pid,
                        host_ipc: ipc,
                        host_users: users,
                        security_context: sc,
                        volumes: Some(volumes),
                        service_account_name: sa,
                        ..Default::default()
                    }),
                }
            },
        )
}

// ---------------------------------------------------------------- objects

/// `(group, kind, object)` of every kind the rules read, and one they do not.
fn object(namespace: Option<String>) -> impl Strategy<Value = (String, String, Value)> {
    let meta = move |name: &str| ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.clone(),
        ..Default::default()
    };
    let selector = LabelSelector::default();
    let m = meta.clone();
    let workloads = (pod_template(), 0..9usize).prop_map(move |(t, which)| {
        let meta = m("w");
        let sel = selector.clone();
        let (group, kind, v) = match which {
            0 => (
                "",
                "Pod",
                serde_json::to_value(Pod {
                    metadata: ObjectMeta {
                        labels: t.metadata.as_ref().and_then(|m| m.labels.clone()),
                        annotations: t.metadata.as_ref().and_then(|m| m.annotations.clone()),
                        ..meta
                    },
                    spec: t.spec,
                    status: None,
                }),
            ),
            1 => (
                "apps",
                "Deployment",
                serde_json::to_value(Deployment {
                    metadata: meta,
                    spec: DeploymentSpec {
                        selector: sel,
                        template: t,
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            2 => (
                "apps",
                "ReplicaSet",
                serde_json::to_value(ReplicaSet {
                    metadata: meta,
                    spec: ReplicaSetSpec {
                        selector: sel,
                        template: Some(t),
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            3 => (
                "apps",
                "StatefulSet",
                serde_json::to_value(StatefulSet {
                    metadata: meta,
                    spec: StatefulSetSpec {
                        selector: sel,
                        template: t,
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            4 => (
                "apps",
                "DaemonSet",
                serde_json::to_value(DaemonSet {
                    metadata: meta,
                    spec: DaemonSetSpec {
                        selector: sel,
                        template: t,
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            5 => (
                "batch",
                "Job",
                serde_json::to_value(Job {
                    metadata: meta,
                    spec: Some(JobSpec {
                        template: t,
                        ..Default::default()
                    }),
                    status: None,
                }),
            ),
            6 => (
                "batch",
                "CronJob",
                serde_json::to_value(CronJob {
                    metadata: meta,
                    spec: CronJobSpec {
                        schedule: s("* * * * *"),
                        job_template: JobTemplateSpec {
                            metadata: None,
                            spec: Some(JobSpec {
                                template: t,
                                ..Default::default()
                            }),
                        },
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            7 => (
                "",
                "ReplicationController",
                serde_json::to_value(ReplicationController {
                    metadata: meta,
                    spec: Some(ReplicationControllerSpec {
                        template: Some(t),
                        ..Default::default()
                    }),
                    status: None,
                }),
            ),
            _ => (
                "",
                "PodTemplate",
                serde_json::to_value(PodTemplate {
                    metadata: meta,
                    template: Some(t),
                }),
            ),
        };
        (s(group), s(kind), v.unwrap())
    });
    let m = meta.clone();
    let rule = (
        vec(pick(&["", "*", "apps", "rbac.authorization.k8s.io"]), 0..2),
        vec(pick(&["pods", "*", "secrets", "pods/exec"]), 0..2),
        vec(
            pick(&[
                "get",
                "*",
                "escalate",
                "bind",
                "impersonate",
                "create",
                "İmpersonate",
            ]),
            0..3,
        ),
    )
        .prop_map(|(api_groups, resources, verbs)| PolicyRule {
            api_groups: Some(api_groups),
            resources: Some(resources),
            verbs,
            ..Default::default()
        });
    let roles = (vec(rule, 0..3), any::<bool>()).prop_map(move |(rules, cluster)| {
        if cluster {
            (
                s("rbac.authorization.k8s.io"),
                s("ClusterRole"),
                serde_json::to_value(ClusterRole {
                    metadata: m("r"),
                    rules: Some(rules),
                    aggregation_rule: None,
                })
                .unwrap(),
            )
        } else {
            (
                s("rbac.authorization.k8s.io"),
                s("Role"),
                serde_json::to_value(Role {
                    metadata: m("r"),
                    rules: Some(rules),
                })
                .unwrap(),
            )
        }
    });
    let m = meta.clone();
    let subject = (
        pick(&["ServiceAccount", "User", "Group"]),
        pick(&[
            "gitlab-runner-dind",
            "gitlab-runner-nix",
            "default",
            "alice",
        ]),
        opt_pick(&[RUNNERS_NS, "default", ""]),
    )
        .prop_map(|(kind, name, namespace)| Subject {
            api_group: None,
            kind,
            name,
            namespace,
        });
    let bindings = (
        pick(&["Role", "ClusterRole"]),
        vec(subject, 0..3),
        any::<bool>(),
    )
        .prop_map(move |(role_kind, subjects, cluster)| {
            let role_ref = RoleRef {
                api_group: Some(s("rbac.authorization.k8s.io")),
                kind: role_kind,
                name: s("r"),
            };
            if cluster {
                (
                    s("rbac.authorization.k8s.io"),
                    s("ClusterRoleBinding"),
                    serde_json::to_value(ClusterRoleBinding {
                        metadata: m("b"),
                        role_ref,
                        subjects: Some(subjects),
                    })
                    .unwrap(),
                )
            } else {
                (
                    s("rbac.authorization.k8s.io"),
                    s("RoleBinding"),
                    serde_json::to_value(RoleBinding {
                        metadata: m("b"),
                        role_ref,
                        subjects: Some(subjects),
                    })
                    .unwrap(),
                )
            }
        });
    let m = meta.clone();
    let data = (
        vec(
            pick(&[
                "runner-registration-token",
                "runner-token",
                "ATTIC_TOKEN",
                "attıc_token",
                "config.json",
                ".dockerconfigjson",
                "token",
            ]),
            0..3,
        ),
        any::<bool>(),
        opt_pick(&[
            "kubernetes.io/dockercfg",
            "Opaque",
            "kubernetes.io/service-account-token",
        ]),
        opt_pick(&["gitlab-runner-dind", "gitlab-runner-docker", "default"]),
    )
        .prop_map(move |(keys, secret, type_, token_of)| {
            if secret {
                let data: BTreeMap<String, ByteString> = keys
                    .into_iter()
                    .map(|k| (k, ByteString(b"x".to_vec())))
                    .collect();
                let mut metadata = m("s");
                metadata.annotations = token_of
                    .map(|sa| BTreeMap::from([(s("kubernetes.io/service-account.name"), sa)]));
                (
                    s(""),
                    s("Secret"),
                    serde_json::to_value(Secret {
                        metadata,
                        data: Some(data),
                        type_,
                        ..Default::default()
                    })
                    .unwrap(),
                )
            } else {
                let data: BTreeMap<String, String> =
                    keys.into_iter().map(|k| (k, s("x"))).collect();
                (
                    s(""),
                    s("ConfigMap"),
                    serde_json::to_value(ConfigMap {
                        metadata: m("c"),
                        data: Some(data),
                        ..Default::default()
                    })
                    .unwrap(),
                )
            }
        });
    let m = meta.clone();
    let peer = prop_oneof![
        pick(&["attic-cache-dev", "kube-system", "default"]).prop_map(|ns| NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(s("kubernetes.io/metadata.name"), ns)])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        (
            pick(&["kube-system", "default"]),
            opt_pick(&["kube-dns", "other"])
        )
            .prop_map(|(ns, app)| NetworkPolicyPeer {
                namespace_selector: Some(LabelSelector {
                    match_labels: Some(BTreeMap::from([(s("kubernetes.io/metadata.name"), ns)])),
                    ..Default::default()
                }),
                pod_selector: app.map(|a| LabelSelector {
                    match_labels: Some(BTreeMap::from([(s("k8s-app"), a)])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        Just(NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector::default()),
            ..Default::default()
        }),
        Just(NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: s("0.0.0.0/0"),
                except: None
            }),
            ..Default::default()
        }),
    ];
    let netpol = vec(option::of(vec(peer, 0..3)), 0..3).prop_map(move |rules| {
        let egress = rules
            .into_iter()
            .map(|to| NetworkPolicyEgressRule { to, ports: None })
            .collect();
        let spec = NetworkPolicySpec {
            egress: Some(egress),
            policy_types: Some(vec![s("Egress")]),
            ..Default::default()
        };
        (
            s("networking.k8s.io"),
            s("NetworkPolicy"),
            serde_json::to_value(NetworkPolicy {
                metadata: m("n"),
                spec: Some(spec),
            })
            .unwrap(),
        )
    });
    let namespace_object = Just((
        s(""),
        s("Namespace"),
        serde_json::to_value(Namespace {
            metadata: meta("ns"),
            ..Default::default()
        })
        .unwrap(),
    ));
    // The request of a TokenRequest names the ServiceAccount (see `gatekeeper_input`).
    let m = meta.clone();
    let token_request = pick(&["gitlab-runner-dind", "gitlab-runner-nix", "default"]).prop_map(
        move |sa| {
            let mut metadata = m("t");
            metadata.name = Some(sa);
            (
                s("authentication.k8s.io"),
                s("TokenRequest"),
                json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": metadata, "spec": {"audiences": ["api"]}}),
            )
        },
    );
    prop_oneof![6 => workloads, 1 => roles, 1 => bindings, 1 => data, 1 => netpol, 1 => namespace_object, 1 => token_request]
}

// ---------------------------------------------------------------- requests

const USERS: &[&str] = &[
    "system:serviceaccount:example-runners:gitlab-runner-dind",
    "system:serviceaccount:example-runners:gitlab-runner-docker",
    "system:serviceaccount:example-runners:gitlab-runner-rocky8",
    "system:serviceaccount:example-runners:gitlab-runner-rocky9",
    "system:serviceaccount:example-runners:gitlab-runner-nix",
    "system:serviceaccount:example-runners:default",
    "system:serviceaccount:default:gitlab-runner-dind",
    "kubernetes-admin",
    EXEMPT,
    "",
];

/// A Gatekeeper input document: `{"review": AdmissionRequest, "parameters": settings}`.
pub fn gatekeeper_input() -> impl Strategy<Value = Value> {
    let namespace = select(
        &[
            Some(RUNNERS_NS),
            Some("default"),
            Some("attic-cache-dev"),
            None,
        ][..],
    );
    (namespace, select(USERS), select(&["CREATE", "UPDATE", "DELETE", "CONNECT"][..]), select(&["all", "services"][..]), any::<bool>())
        .prop_flat_map(|(ns, user, op, mode, exempt)| {
            let ns = ns.map(str::to_owned);
            (Just((ns.clone(), user, op, mode, exempt)), object(ns.clone()), object(ns), 0..6u8, (0..10u8, any::<usize>(), select(WRONG_TYPED)))
        })
        .prop_map(|((ns, user, op, mode, exempt), (group, kind, mut obj), (_, old_kind, other), old_choice, (wrong_at, node, wrong))| {
            let mut settings = runner_policy::settings::example().unwrap();
            settings["dindPrivilegedContainers"] = json!(mode);
            if exempt {
                // Sometimes the requester too: allowed if an operator, a settings error if a
                // runner manager.
                settings["exemptUsers"] = if old_choice == 1 && !user.is_empty() {
                    json!([EXEMPT, user])
                } else {
                    json!([EXEMPT])
                };
            }
            // UPDATE: the object as it was (pod spec unchanged), another of the same kind, or
            // the same with a label added (metadata change only).
            // For a Pod also: the same without its ephemeral containers (kubectl debug added
            // them), with other resources in its first container (a resize) or another image.
            let first = |edit: fn(&mut serde_json::Map<String, Value>)| {
                let mut o = obj.clone();
                let c = o.pointer_mut("/spec/containers/0").and_then(Value::as_object_mut);
                c.map(edit);
                o
            };
            let old = match old_choice {
                0 => obj.clone(),
                1 if old_kind == kind => other,
                3 => {
                    let mut o = obj.clone();
                    o.get_mut("spec").and_then(Value::as_object_mut).map(|s| s.remove("ephemeralContainers"));
                    o
                }
                4 => first(|c| {
                    c.insert(s("resources"), json!({"limits": {"cpu": "3"}}));
                }),
                5 => first(|c| {
                    c.insert(s("image"), json!("alpine:3.19"));
                }),
                _ => {
                    let mut o = obj.clone();
                    o["metadata"]["labels"] = json!({"changed": "yes"});
                    o
                }
            };
            let mut request = json!({
                "uid": "00000000-0000-0000-0000-000000000000",
                "kind": {"group": group, "version": "v1", "kind": kind},
                "operation": op,
                "userInfo": if user.is_empty() { json!({}) } else { json!({"username": user, "groups": ["system:authenticated"]}) },
                "name": obj["metadata"]["name"],
            });
            if let Some(ns) = &ns {
                request["namespace"] = json!(ns);
            }
            if kind == "TokenRequest" {
                // Clients send no name in the body: the ServiceAccount is the request's name.
                request["subResource"] = json!("token");
                if let Some(meta) = obj["metadata"].as_object_mut() {
                    meta.remove("name");
                }
            }
            match op {
                // (`old_choice` is free for a CREATE: it sometimes sends no object at all.)
                "CREATE" if old_choice == 2 => {}
                "CREATE" => request["object"] = obj,
                "UPDATE" => {
                    request["object"] = obj;
                    request["oldObject"] = old;
                }
                "DELETE" => request["oldObject"] = obj,
                _ => {
                    request["kind"] = json!({"group": "", "version": "v1", "kind": "PodExecOptions"});
                    request["subResource"] = json!("exec");
                    request["object"] = json!({"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"]});
                }
            }
            // Sometimes a value of another type somewhere in the object, the old object or the
            // request: both must refuse what the module's reader refuses.
            let wrong: Value = serde_json::from_str(wrong).unwrap();
            match wrong_at {
                0 | 2 => {
                    let at = if wrong_at == 0 { "object" } else { "oldObject" };
                    if let Some(o) = request.get_mut(at) {
                        replace_node(o, node, &wrong);
                    }
                }
                1 => replace_node(&mut request, node, &wrong),
                _ => {}
            }
            RegoPolicy::gatekeeper_input(&request, &settings)
        })
}

/// Values put in place of a generated one, of every JSON type.
const WRONG_TYPED: &[&str] = &[
    "\"x\"",
    "7",
    "1.5",
    "true",
    "null",
    "{}",
    "[]",
    "[\"x\"]",
    "[1]",
    "[null]",
    "{\"a\": 1}",
];

/// Replaces the `n`-th value of `v` in document order (counted modulo the number of values).
fn replace_node(v: &mut Value, n: usize, with: &Value) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn go(v: &mut Value, n: &mut usize, with: &Value) -> bool {
        if *n == 0 {
            *v = with.clone();
            return true;
        }
        *n -= 1;
        match v {
            Value::Array(a) => a.iter_mut().any(|x| go(x, n, with)),
            Value::Object(o) => o.values_mut().any(|x| go(x, n, with)),
            _ => false,
        }
    }
    let mut n = n % count(v);
    go(v, &mut n, with);
}

/// The (rule, path) pairs the policy (natively, the code the module is built from) reports on
/// an input document, sorted.
pub fn module_rule_paths(input: &str) -> Vec<(String, String)> {
    let decision = policy::eval::decide(input.as_bytes(), None).decision;
    let mut out: Vec<(String, String)> = decision
        .violations
        .iter()
        .map(|v| (v.rule.as_str().to_owned(), v.path.clone()))
        .collect();
    out.sort();
    out
}
