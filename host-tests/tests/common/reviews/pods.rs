//! Pod templates: metadata, containers of every list, host namespaces, security contexts,
//! volumes and the ServiceAccount.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    CSIVolumeSource, Container, EphemeralContainer, HostPathVolumeSource, ImageVolumeSource,
    KeyToPath, PodSecurityContext, PodSpec, PodTemplateSpec, ProjectedVolumeSource, SELinuxOptions,
    SeccompProfile, SecretProjection, SecretVolumeSource, Sysctl, Volume, VolumeProjection,
    WindowsSecurityContextOptions,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use super::containers::{container, ephemeral};
use super::{opt_pick, pick, s};

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

pub(super) fn pod_template() -> impl Strategy<Value = PodTemplateSpec> {
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
