//! Every recorded request: a few lines each, built from the fleet, pod and object builders.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    AppArmorProfile, CSIVolumeSource, Capabilities, ConfigMapEnvSource, ConfigMapVolumeSource,
    Container, ContainerPort, EnvFromSource, EnvVar, EphemeralContainer, HostPathVolumeSource,
    ImageVolumeSource, KeyToPath, Pod, ProjectedVolumeSource, SELinuxOptions, SeccompProfile,
    SecretEnvSource, SecretProjection, SecretVolumeSource, SecurityContext, Sysctl, Volume,
    VolumeMount, VolumeProjection, WindowsSecurityContextOptions,
};

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::fleet::{ATTIC_NAMESPACE, Identity, NAMESPACE, Runner};
use super::objects::{
    Workload, attic_config_map, chart_default_role, cloud_config_secret, cluster_role,
    cluster_role_binding, cluster_role_in_namespace, dockercfg_secret, egress, egress_policy,
    narrow_runner_role, privileged_buildkitd, runner_egress_rules, runner_manager,
    runner_manager_deployment, runner_role_binding, runner_token, runner_token_config_map,
    runner_token_secret, runners_namespace, service_account_token_secret, token_request,
};
use super::pod::{APP, JobPod, RELEASE, container, edited, mount, pod_security, security, spec};
use super::review::{Object, PodExecOptions, Request};
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::{Value, json};

/// The settings' registry credential Secret (`registryCredentialSecrets`).
const PUSH_SECRET: &str = "registry-push-credentials";
/// Kaniko from the org's mirror in the GitLab registry (gcr.io is not an allowed registry).
const KANIKO: &str = "registry.gitlab.com/example/mirrors/kaniko-executor:v1.23.2-debug";

/// What `runner-policy test` must decide.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Allow,
    Deny(&'static [&'static str]),
}

pub struct Case {
    pub name: String,
    pub path: String,
    pub expect: Expect,
    pub request: Request,
}

const PRIVILEGE: &[&str] = &["dind-only-privilege"];
const HOST: &[&str] = &["no-host-access"];
const NAMESPACE_RULE: &[&str] = &["runner-namespace"];
const PUSH: &[&str] = &["no-push-credentials"];
const RBAC: &[&str] = &["namespaced-rbac"];
const TOKEN: &[&str] = &["runner-token-secret"];
const ATTIC: &[&str] = &["attic-credentials-from-secret"];
const REGISTRIES: &[&str] = &["public-registries"];
const EGRESS: &[&str] = &["runner-egress"];
/// A pinned image of the GitLab registry (`@sha256:` digest, no tag).
const PINNED: &str = "registry.gitlab.com/group/app@sha256:e6886c6bc9e3248ab572c40bb5f1a976831ed47399a87789c0f9924ccda0e491";

fn allow(name: impl Into<String>, path: impl Into<String>, request: Request) -> Case {
    Case {
        name: name.into(),
        path: path.into(),
        expect: Expect::Allow,
        request,
    }
}

fn deny(
    name: impl Into<String>,
    path: impl Into<String>,
    rules: &'static [&'static str],
    request: Request,
) -> Case {
    Case {
        name: name.into(),
        path: path.into(),
        expect: Expect::Deny(rules),
        request,
    }
}

/// CREATE of `pod` by `identity`.
fn create(identity: Identity, pod: &Pod) -> Request {
    Request::create(identity, Object::of(pod))
}

/// CREATE of a job pod by its own runner manager.
fn job(runner: Runner, pod: &JobPod) -> Request {
    create(Identity::Runner(runner), &pod.build())
}

/// CREATE of `runner`'s default job pod with one tweak, by that runner.
fn tweaked(runner: Runner, edit: impl FnOnce(&mut Pod)) -> Request {
    create(
        Identity::Runner(runner),
        &edited(JobPod::new(runner).build(), edit),
    )
}

/// The benchmark job: `docker build` against a `docker:27-dind` service.
fn dind_job(runner: Runner) -> JobPod {
    JobPod::new(runner)
        .privileged(true)
        .image("docker:27")
        .env(&[
            ("DOCKER_HOST", "tcp://localhost:2375"),
            ("DOCKER_TLS_CERTDIR", ""),
        ])
        .service("docker:27-dind", &[("DOCKER_TLS_CERTDIR", "")])
}

/// A Kaniko build on the docker runner.
fn kaniko_job() -> JobPod {
    JobPod::new(Runner::Docker)
        .image(KANIKO)
        .env(&[("DOCKER_CONFIG", "/kaniko/.docker")])
}

fn secret_volume(name: &str, secret: &str) -> Volume {
    Volume {
        name: name.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.into()),
            ..Default::default()
        }),
        ..Volume::default()
    }
}

/// Kaniko with the push Secret mounted where Kaniko reads its auth (`[[runners.kubernetes.volumes.secret]]`).
fn kaniko_with_push_secret() -> JobPod {
    let mut at = mount("push-credentials", "/kaniko/.docker");
    at.read_only = Some(true);
    kaniko_job().volume(secret_volume("push-credentials", PUSH_SECRET), at)
}

fn add_capability(pod: &mut Pod, capability: &str) {
    security(container(pod, "build")).capabilities = Some(Capabilities {
        add: Some(vec![capability.into()]),
        drop: Some(vec!["NET_RAW".into()]),
    });
}

fn stored(mut pod: Pod, phase: &str) -> Pod {
    pod.metadata.resource_version = Some("48213990".into());
    if let Some(status) = &mut pod.status {
        status.phase = Some(phase.into());
    }
    pod
}

fn allowed() -> Vec<Case> {
    let dind = Identity::Runner(Runner::Dind);
    let docker = Identity::Runner(Runner::Docker);
    let kaniko = kaniko_job();
    let secret_name = kaniko.pull_secret_name();
    let kaniko_pod = kaniko.build();
    let pod_name = kaniko.name();
    let pod_uid = kaniko_pod.metadata.uid.clone().unwrap_or_default();
    let mut stored_secret = dockercfg_secret(&secret_name, None);
    stored_secret.metadata.resource_version = Some("48213577".into());
    vec![
        allow(
            "dind-job-pod",
            "dind/job-pod.json",
            job(Runner::Dind, &dind_job(Runner::Dind)),
        ),
        allow(
            "docker-kaniko-build",
            "docker/kaniko-build.json",
            create(docker, &kaniko_pod),
        ),
        allow(
            "rocky8-job-pod",
            "rocky8/job-pod.json",
            job(Runner::Rocky8, &JobPod::new(Runner::Rocky8)),
        ),
        allow(
            "rocky9-job-pod",
            "rocky9/job-pod.json",
            job(Runner::Rocky9, &JobPod::new(Runner::Rocky9)),
        ),
        allow(
            "nix-job-pod-attic",
            "nix/job-pod.json",
            job(
                Runner::Nix,
                &JobPod::new(Runner::Nix)
                    .env(&[
                        (
                            "ATTIC_SERVER",
                            &format!("http://attic.{ATTIC_NAMESPACE}.svc.cluster.local:8080/"),
                        ),
                        ("ATTIC_CACHE", "example"),
                    ])
                    .env_from_secret("ATTIC_TOKEN", "attic-credentials", "token"),
            ),
        ),
        allow(
            "dockercfg-secret-create",
            "credentials/dockercfg-secret-create.json",
            Request::create(docker, Object::of(&dockercfg_secret(&secret_name, None))),
        ),
        allow(
            "dockercfg-secret-owner-update",
            "credentials/dockercfg-secret-owner-update.json",
            Request::update(
                docker,
                Object::of(&stored_secret),
                Object::of(&dockercfg_secret(&secret_name, Some((&pod_name, &pod_uid)))),
            ),
        ),
        allow(
            "runner-exec-job-pod",
            "exec/runner-exec.json",
            Request::exec(
                docker,
                NAMESPACE,
                &pod_name,
                &PodExecOptions::new(
                    "helper",
                    &[
                        "gitlab-runner-helper",
                        "read-logs",
                        "--path",
                        "/logs-1234-7301245118/output.log",
                        "--offset",
                        "0",
                        "--wait-file-timeout",
                        "1m0s",
                    ],
                ),
            ),
        ),
        allow(
            "helm-runner-manager-deployment",
            "manager/helm-deployment.json",
            Request::create(Identity::Admin, runner_manager_deployment(Runner::Dind))
                .field_manager("helm"),
        ),
        allow(
            "runner-deletes-job-pod",
            "delete/job-pod.json",
            Request::delete(
                dind,
                Object::of(&stored(dind_job(Runner::Dind).build(), "Succeeded")),
                Some("Background"),
            ),
        ),
        allow(
            "rocky8-job-pod-dry-run",
            "dryrun/rocky8-job-pod.json",
            job(
                Runner::Rocky8,
                &JobPod::new(Runner::Rocky8).job(7_301_245_200, 1),
            )
            .dry_run(),
        ),
        allow(
            "push-secret-allowed-project",
            "push/allowed-project-4242.json",
            job(Runner::Docker, &kaniko_with_push_secret().project(RELEASE)),
        ),
    ]
}

fn privilege() -> Vec<Case> {
    use Runner::{Docker, Nix, Rocky8, Rocky9};
    let rocky9_running = stored(JobPod::new(Rocky9).build(), "Running");
    let debugged = edited(rocky9_running.clone(), |pod| {
        spec(pod).ephemeral_containers = Some(vec![EphemeralContainer {
            name: "debugger-x7k2p".into(),
            image: Some("docker.io/library/busybox:1.36".into()),
            stdin: Some(true),
            tty: Some(true),
            target_container_name: Some("build".into()),
            security_context: Some(SecurityContext {
                privileged: Some(true),
                ..Default::default()
            }),
            image_pull_policy: Some("IfNotPresent".into()),
            termination_message_path: Some("/dev/termination-log".into()),
            termination_message_policy: Some("File".into()),
            ..EphemeralContainer::default()
        }]);
    });
    let lookalike = dind_job(Runner::Dind).service_account(&Nix.service_account());
    let lookalike = edited(lookalike.build(), |pod| {
        container(pod, "svc-0").image = Some("docker:dind".into());
    });
    let mut cases = vec![
        deny(
            "docker-runner-privileged-pod",
            "docker/privileged-pod.json",
            PRIVILEGE,
            job(Docker, &dind_job(Docker)),
        ),
        deny(
            "docker-runner-privileged-pod-dry-run",
            "dryrun/docker-privileged-pod.json",
            PRIVILEGE,
            job(Docker, &dind_job(Docker)).dry_run(),
        ),
        deny(
            "privileged-init-container-only",
            "privilege/init-container-only.json",
            PRIVILEGE,
            tweaked(Docker, |pod| {
                security(container(pod, "init-permissions")).privileged = Some(true)
            }),
        ),
        deny(
            "privileged-ephemeral-container",
            "privilege/ephemeral-container.json",
            PRIVILEGE,
            Request::update(
                Identity::Runner(Rocky9),
                Object::of(&rocky9_running),
                Object::of(&debugged),
            )
            .subresource("ephemeralcontainers")
            .field_manager("kubectl-debug"),
        ),
        deny(
            "cap-sys-admin",
            "privilege/cap-sys-admin.json",
            PRIVILEGE,
            tweaked(Docker, |p| add_capability(p, "SYS_ADMIN")),
        ),
        deny(
            "cap-sys-admin-lowercase-prefixed",
            "privilege/cap-sys-admin-lowercase-prefixed.json",
            PRIVILEGE,
            tweaked(Rocky8, |p| add_capability(p, "cap_sys_admin")),
        ),
        deny(
            "cap-all",
            "privilege/cap-all.json",
            PRIVILEGE,
            tweaked(Docker, |p| add_capability(p, "ALL")),
        ),
        // The API server only accepts Unmasked with hostUsers: false, and baseline (1.35+)
        // allows it there; the host-user-namespace form is kept as defence in depth.
        deny(
            "proc-mount-unmasked",
            "privilege/proc-mount-unmasked.json",
            PRIVILEGE,
            tweaked(Rocky9, |pod| {
                security(container(pod, "build")).proc_mount = Some("Unmasked".into());
            }),
        ),
        allow(
            "proc-mount-unmasked-user-namespace",
            "privilege/proc-mount-unmasked-user-namespace.json",
            tweaked(Rocky9, |pod| {
                spec(pod).host_users = Some(false);
                security(container(pod, "build")).proc_mount = Some("Unmasked".into());
            }),
        ),
        deny(
            "seccomp-unconfined-pod",
            "privilege/seccomp-unconfined-pod.json",
            PRIVILEGE,
            tweaked(Docker, |pod| {
                pod_security(pod).seccomp_profile = Some(unconfined_seccomp())
            }),
        ),
        deny(
            "seccomp-unconfined-container",
            "privilege/seccomp-unconfined-container.json",
            PRIVILEGE,
            tweaked(Docker, |pod| {
                security(container(pod, "build")).seccomp_profile = Some(unconfined_seccomp())
            }),
        ),
        deny(
            "apparmor-unconfined-field",
            "privilege/apparmor-unconfined-field.json",
            PRIVILEGE,
            tweaked(Rocky8, |pod| {
                security(container(pod, "build")).app_armor_profile = Some(AppArmorProfile {
                    type_: "Unconfined".into(),
                    localhost_profile: None,
                });
            }),
        ),
        deny(
            "apparmor-unconfined-annotation",
            "privilege/apparmor-unconfined-annotation.json",
            PRIVILEGE,
            tweaked(Rocky8, |pod| {
                pod.metadata.annotations.get_or_insert_default().insert(
                    "container.apparmor.security.beta.kubernetes.io/build".into(),
                    "unconfined".into(),
                );
            }),
        ),
        deny(
            "selinux-spc-t",
            "privilege/selinux-spc-t.json",
            PRIVILEGE,
            tweaked(Rocky9, |pod| {
                security(container(pod, "build")).se_linux_options = Some(SELinuxOptions {
                    type_: Some("spc_t".into()),
                    ..Default::default()
                });
            }),
        ),
        deny(
            "unsafe-sysctl",
            "privilege/unsafe-sysctl.json",
            PRIVILEGE,
            tweaked(Docker, |pod| {
                pod_security(pod).sysctls = Some(vec![Sysctl {
                    name: "kernel.msgmax".into(),
                    value: "65536".into(),
                }]);
            }),
        ),
        // The API server rejects hostProcess without hostNetwork, so both rules fire.
        deny(
            "windows-host-process",
            "privilege/windows-host-process.json",
            &["dind-only-privilege", "no-host-access"],
            tweaked(Rocky9, |pod| {
                spec(pod).host_network = Some(true);
                pod_security(pod).windows_options = Some(WindowsSecurityContextOptions {
                    host_process: Some(true),
                    run_as_user_name: Some("NT AUTHORITY\\SYSTEM".into()),
                    ..Default::default()
                });
            }),
        ),
        deny(
            "nix-identity-dind-lookalike",
            "privilege/nix-identity-dind-lookalike.json",
            PRIVILEGE,
            create(Identity::Runner(Nix), &lookalike),
        ),
    ];
    cases.extend(Workload::ALL.map(|kind| {
        deny(
            format!("admin-privileged-{}", kind.slug()),
            format!("workloads/privileged-{}.json", kind.slug()),
            PRIVILEGE,
            Request::create(
                Identity::Admin,
                kind.wrap(NAMESPACE, "buildkitd", privileged_buildkitd()),
            ),
        )
    }));
    cases
}

fn unconfined_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "Unconfined".into(),
        localhost_profile: None,
    }
}

fn host_access() -> Vec<Case> {
    use Runner::{Dind, Docker, Rocky8, Rocky9};
    let socket = Volume {
        name: "docker-sock".into(),
        host_path: Some(HostPathVolumeSource {
            path: "/var/run/docker.sock".into(),
            type_: Some("Socket".into()),
        }),
        ..Volume::default()
    };
    vec![
        deny(
            "dind-docker-sock-host-path",
            "host/dind-docker-sock.json",
            HOST,
            job(
                Dind,
                &dind_job(Dind).volume(socket, mount("docker-sock", "/var/run/docker.sock")),
            ),
        ),
        deny("dind-host-network", "host/dind-host-network.json", HOST, {
            create(
                Identity::Runner(Dind),
                &edited(dind_job(Dind).build(), |p| {
                    spec(p).host_network = Some(true)
                }),
            )
        }),
        deny(
            "host-pid",
            "host/host-pid.json",
            HOST,
            tweaked(Docker, |p| spec(p).host_pid = Some(true)),
        ),
        deny(
            "host-ipc",
            "host/host-ipc.json",
            HOST,
            tweaked(Rocky8, |p| spec(p).host_ipc = Some(true)),
        ),
        deny(
            "host-port",
            "host/host-port.json",
            HOST,
            create(
                Identity::Runner(Rocky9),
                &edited(
                    JobPod::new(Rocky9)
                        .service("docker.io/library/postgres:16", &[])
                        .build(),
                    |pod| {
                        container(pod, "svc-0").ports = Some(vec![ContainerPort {
                            container_port: 5432,
                            host_port: Some(5432),
                            ..Default::default()
                        }]);
                    },
                ),
            ),
        ),
    ]
}

fn namespaces() -> Vec<Case> {
    let docker = Identity::Runner(Runner::Docker);
    vec![
        deny(
            "runner-pod-in-default",
            "namespace/runner-pod-in-default.json",
            NAMESPACE_RULE,
            {
                job(
                    Runner::Docker,
                    &JobPod::new(Runner::Docker).namespace("default"),
                )
            },
        ),
        deny(
            "runner-creates-cluster-role",
            "namespace/runner-creates-cluster-role.json",
            NAMESPACE_RULE,
            Request::create(docker, Object::of(&cluster_role("ci-pod-exec"))),
        ),
        deny(
            "runner-deletes-kube-system-secret",
            "namespace/runner-deletes-kube-system-secret.json",
            NAMESPACE_RULE,
            Request::delete(docker, Object::of(&cloud_config_secret()), None),
        ),
        deny(
            "runner-exec-other-namespace",
            "namespace/runner-exec-other-namespace.json",
            NAMESPACE_RULE,
            Request::exec(
                docker,
                ATTIC_NAMESPACE,
                "attic-7d9c6b5f4-2xkqp",
                &PodExecOptions::new("attic", &["sh"]),
            ),
        ),
        deny(
            "admin-runner-pod-in-default",
            "namespace/admin-runner-pod-in-default.json",
            NAMESPACE_RULE,
            create(
                Identity::Admin,
                &JobPod::new(Runner::Rocky8).namespace("default").build(),
            ),
        ),
        deny(
            "runner-relabels-its-namespace",
            "namespace/runner-relabels-its-namespace.json",
            NAMESPACE_RULE,
            Request::update(
                docker,
                Object::of(&runners_namespace("baseline")),
                Object::of(&runners_namespace("privileged")),
            ),
        ),
        deny(
            "runner-deletes-its-namespace",
            "namespace/runner-deletes-its-namespace.json",
            NAMESPACE_RULE,
            Request::delete(
                docker,
                Object::of(&runners_namespace("baseline")),
                Some("Background"),
            ),
        ),
        deny(
            "docker-runner-requests-dind-token",
            "namespace/docker-runner-requests-dind-token.json",
            NAMESPACE_RULE,
            Request::token_request(docker, &Runner::Dind.service_account(), &token_request()),
        ),
        deny(
            "docker-runner-writes-dind-token-secret",
            "namespace/docker-runner-writes-dind-token-secret.json",
            NAMESPACE_RULE,
            Request::create(
                docker,
                Object::of(&service_account_token_secret(
                    "ci-cache-token",
                    &Runner::Dind.service_account(),
                )),
            ),
        ),
        deny(
            "docker-job-with-dind-service-account",
            "namespace/docker-job-with-dind-service-account.json",
            NAMESPACE_RULE,
            job(
                Runner::Docker,
                &JobPod::new(Runner::Docker).service_account(&Runner::Dind.service_account()),
            ),
        ),
    ]
}

fn push_credentials() -> Vec<Case> {
    let docker = Identity::Runner(Runner::Docker);
    let projected = Volume {
        name: "docker-config".into(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                secret: Some(SecretProjection {
                    name: "ci-docker-config".into(),
                    items: Some(vec![KeyToPath {
                        key: ".dockerconfigjson".into(),
                        path: "config.json".into(),
                        mode: None,
                        user: None,
                    }]),
                    optional: None,
                }),
                ..VolumeProjection::default()
            }]),
            ..Default::default()
        }),
        ..Volume::default()
    };
    let projected_at = VolumeMount {
        sub_path: Some("config.json".into()),
        ..mount("docker-config", "/root/.docker/config.json")
    };
    vec![
        deny(
            "push-secret-volume-kaniko",
            "push/secret-volume-kaniko.json",
            PUSH,
            job(Runner::Docker, &kaniko_with_push_secret()),
        ),
        allow(
            "push-registry-ca-for-buildah",
            "push/registry-ca-for-buildah.json",
            // `[[runners.kubernetes.volumes.secret]]`: a private registry's CA certificate where
            // buildah and podman look for it. A certificate is no login.
            job(
                Runner::Docker,
                &JobPod::new(Runner::Docker)
                    .image("registry.gitlab.com/example/mirrors/buildah:v1.37")
                    .volume(
                        secret_volume("registry-ca", "registry-ca"),
                        mount(
                            "registry-ca",
                            "/etc/containers/certs.d/registry.example.com:5000",
                        ),
                    ),
            ),
        ),
        deny(
            "push-csi-volume-kaniko",
            "push/csi-volume-kaniko.json",
            PUSH,
            job(
                Runner::Docker,
                // The Secrets Store CSI driver mounting a vault entry where Kaniko reads auth.
                &kaniko_job().volume(
                    Volume {
                        name: "push-credentials".into(),
                        csi: Some(CSIVolumeSource {
                            driver: "secrets-store.csi.k8s.io".into(),
                            read_only: Some(true),
                            volume_attributes: Some(
                                [(
                                    "secretProviderClass".to_string(),
                                    "registry-push".to_string(),
                                )]
                                .into(),
                            ),
                            ..CSIVolumeSource::default()
                        }),
                        ..Volume::default()
                    },
                    mount("push-credentials", "/kaniko/.docker"),
                ),
            ),
        ),
        deny(
            "push-secret-env-from",
            "push/secret-env-from.json",
            PUSH,
            create(
                docker,
                &edited(kaniko_job().build(), |pod| {
                    container(pod, "build").env_from = Some(vec![EnvFromSource {
                        secret_ref: Some(SecretEnvSource {
                            name: PUSH_SECRET.into(),
                            optional: None,
                        }),
                        ..EnvFromSource::default()
                    }]);
                }),
            ),
        ),
        deny(
            "push-secret-env-key-ref",
            "push/secret-env-key-ref.json",
            PUSH,
            job(
                Runner::Docker,
                &kaniko_job().env_from_secret("REGISTRY_AUTH", PUSH_SECRET, ".dockerconfigjson"),
            ),
        ),
        deny(
            "push-projected-docker-config",
            "push/projected-docker-config.json",
            PUSH,
            job(
                Runner::Docker,
                &JobPod::new(Runner::Docker)
                    .image("docker:27")
                    .volume(projected, projected_at),
            ),
        ),
        deny(
            "push-secret-annotation-only-4242",
            "push/annotation-only-4242.json",
            PUSH,
            create(
                docker,
                &edited(kaniko_with_push_secret().project(APP).build(), |pod| {
                    pod.metadata.annotations.get_or_insert_default().insert(
                        "project.runner.gitlab.com/id".into(),
                        RELEASE.id.to_string(),
                    );
                }),
            ),
        ),
    ]
}

/// A Secret with these `items` (`[key, path]`), named `volume`.
fn secret_items(volume: &str, secret: &str, items: &[(&str, &str)]) -> Volume {
    let mut v = secret_volume(volume, secret);
    if let Some(s) = v.secret.as_mut() {
        s.items = Some(
            items
                .iter()
                .map(|(key, path)| KeyToPath {
                    key: (*key).into(),
                    path: (*path).into(),
                    mode: None,
                    user: None,
                })
                .collect(),
        );
    }
    v
}

/// Push credentials placed by Secret items, or at a location the pod's env names, and their
/// legitimate neighbours. None of these Secrets is in `registryCredentialSecrets`.
fn push_locations() -> Vec<Case> {
    let docker = || JobPod::new(Runner::Docker).image("docker:27");
    let buildah =
        || JobPod::new(Runner::Docker).image("registry.gitlab.com/example/mirrors/buildah:v1.37");
    let dockerconfig = |volume: &str| {
        secret_items(
            volume,
            "ci-docker-config",
            &[(".dockerconfigjson", ".docker/config.json")],
        )
    };
    vec![
        deny(
            "push-items-docker-config-in-home",
            "push/items-docker-config-in-home.json",
            PUSH,
            // The item puts the config at /root/.docker/config.json.
            job(
                Runner::Docker,
                &docker().volume(dockerconfig("cfg"), mount("cfg", "/root")),
            ),
        ),
        deny(
            "push-items-docker-config-under-mount",
            "push/items-docker-config-under-mount.json",
            PUSH,
            job(
                Runner::Docker,
                &docker()
                    .env(&[("HOME", "/builds/home")])
                    .volume(dockerconfig("cfg"), mount("cfg", "/builds/home")),
            ),
        ),
        deny(
            "push-items-podman-auth-for-user",
            "push/items-podman-auth-for-user.json",
            PUSH,
            // A projected Secret item where podman, buildah and skopeo look for uid 1000.
            job(
                Runner::Docker,
                &buildah()
                    .volume(
                        Volume {
                            name: "auth".into(),
                            projected: Some(ProjectedVolumeSource {
                                sources: Some(vec![VolumeProjection {
                                    secret: Some(SecretProjection {
                                        name: "ci-docker-config".into(),
                                        items: Some(vec![KeyToPath {
                                            key: ".dockerconfigjson".into(),
                                            path: "containers/auth.json".into(),
                                            mode: None,
                                            user: None,
                                        }]),
                                        optional: None,
                                    }),
                                    ..VolumeProjection::default()
                                }]),
                                ..Default::default()
                            }),
                            ..Volume::default()
                        },
                        mount("auth", "/opt/user-1000"),
                    )
                    .env(&[("XDG_RUNTIME_DIR", "/opt/user-1000")]),
            ),
        ),
        allow(
            "push-items-registry-ca-for-buildah",
            "push/items-registry-ca-for-buildah.json",
            // Only the CA certificate of the Secret, where buildah looks for it.
            job(
                Runner::Docker,
                &buildah().volume(
                    secret_items("registry-ca", "registry-tls", &[("ca.crt", "ca.crt")]),
                    mount(
                        "registry-ca",
                        "/etc/containers/certs.d/registry.example.com:5000",
                    ),
                ),
            ),
        ),
        allow(
            "push-items-sub-path-selects-a-certificate",
            "push/items-sub-path-selects-a-certificate.json",
            // The Secret holds a docker config too, but the subPath shows only the certificate.
            job(
                Runner::Docker,
                &docker().volume(
                    secret_items(
                        "tls",
                        "ci-files",
                        &[
                            ("ca.crt", "certs/ca.crt"),
                            (".dockerconfigjson", "docker/config.json"),
                        ],
                    ),
                    VolumeMount {
                        sub_path: Some("certs/ca.crt".into()),
                        ..mount("tls", "/usr/local/share/ca-certificates/registry.crt")
                    },
                ),
            ),
        ),
        deny(
            "push-env-docker-config",
            "push/env-docker-config.json",
            PUSH,
            // crane, docker and kaniko read /creds/docker/config.json.
            job(
                Runner::Docker,
                &docker().env(&[("DOCKER_CONFIG", "/creds/docker")]).volume(
                    secret_volume("creds", "ci-docker-config"),
                    mount("creds", "/creds/docker"),
                ),
            ),
        ),
        deny(
            "push-env-registry-auth-file",
            "push/env-registry-auth-file.json",
            PUSH,
            job(
                Runner::Docker,
                &buildah()
                    .env(&[("REGISTRY_AUTH_FILE", "/creds/auth.json")])
                    .volume(
                        secret_volume("creds", "ci-docker-config"),
                        mount("creds", "/creds"),
                    ),
            ),
        ),
        deny(
            "push-env-docker-config-expanded",
            "push/env-docker-config-expanded.json",
            PUSH,
            // Kubernetes expands $(CREDS); the rule does not, so the location is unknown.
            job(
                Runner::Docker,
                &docker()
                    .env(&[("CREDS", "/creds"), ("DOCKER_CONFIG", "$(CREDS)/docker")])
                    .volume(
                        secret_volume("creds", "ci-docker-config"),
                        mount("creds", "/creds"),
                    ),
            ),
        ),
        deny(
            "push-env-docker-config-from-secret",
            "push/env-docker-config-from-secret.json",
            PUSH,
            // The value comes from a Secret the pod spec does not show.
            job(
                Runner::Docker,
                &docker()
                    .env_from_secret("DOCKER_CONFIG", "ci-settings", "docker-config")
                    .volume(
                        secret_volume("creds", "ci-docker-config"),
                        mount("creds", "/creds"),
                    ),
            ),
        ),
        allow(
            "push-env-docker-config-empty-dir",
            "push/env-docker-config-empty-dir.json",
            // The job logs in at run time with CI/CD credentials, into an emptyDir.
            job(
                Runner::Docker,
                &docker().env(&[("DOCKER_CONFIG", "/creds/docker")]).volume(
                    Volume {
                        name: "creds".into(),
                        empty_dir: Some(Default::default()),
                        ..Volume::default()
                    },
                    mount("creds", "/creds/docker"),
                ),
            ),
        ),
        allow(
            "push-env-home-config-map-docker",
            "push/env-home-config-map-docker.json",
            // A ConfigMap (credential helpers, proxies) holds no Secret.
            job(
                Runner::Docker,
                &docker().env(&[("HOME", "/home/ci")]).volume(
                    Volume {
                        name: "docker-settings".into(),
                        config_map: Some(ConfigMapVolumeSource {
                            name: "docker-settings".into(),
                            ..Default::default()
                        }),
                        ..Volume::default()
                    },
                    mount("docker-settings", "/home/ci/.docker"),
                ),
            ),
        ),
        allow(
            "push-env-kaniko-with-registry-ca",
            "push/env-kaniko-with-registry-ca.json",
            // DOCKER_CONFIG names /kaniko/.docker; the CA Secret sits elsewhere.
            job(
                Runner::Docker,
                &kaniko_job().volume(
                    secret_volume("registry-ca", "registry-tls"),
                    mount("registry-ca", "/kaniko/ssl/certs/registry"),
                ),
            ),
        ),
    ]
}

fn rbac() -> Vec<Case> {
    use Runner::Docker;
    let admin = Identity::Admin;
    vec![
        deny(
            "helm-default-runner-role",
            "rbac/helm-default-role.json",
            RBAC,
            Request::create(admin, Object::of(&chart_default_role(Docker))).field_manager("helm"),
        ),
        allow(
            "narrow-runner-role",
            "rbac/narrow-runner-role.json",
            Request::create(admin, Object::of(&narrow_runner_role(Docker))).field_manager("helm"),
        ),
        allow(
            "runner-role-binding",
            "rbac/runner-role-binding.json",
            Request::create(admin, Object::of(&runner_role_binding(Docker))).field_manager("helm"),
        ),
        deny(
            "cluster-admin-binding-to-runner",
            "rbac/cluster-admin-binding-to-runner.json",
            RBAC,
            Request::create(
                admin,
                Object::of(&cluster_role_binding(Docker, "cluster-admin")),
            ),
        ),
        deny(
            "runner-role-binding-to-cluster-role",
            "rbac/role-binding-to-cluster-role.json",
            RBAC,
            Request::create(
                admin,
                Object::of(&cluster_role_in_namespace(Docker, "edit")),
            ),
        ),
    ]
}

fn tokens() -> Vec<Case> {
    use Runner::Docker;
    let admin = Identity::Admin;
    let literal = edited_manager(Docker, |container| {
        container.env.get_or_insert_default().push(EnvVar {
            name: "RUNNER_TOKEN".into(),
            value: Some(runner_token(Docker)),
            ..EnvVar::default()
        });
    });
    vec![
        deny(
            "runner-token-secret-in-default",
            "token/secret-in-default.json",
            TOKEN,
            Request::create(admin, Object::of(&runner_token_secret(Docker, "default"))),
        ),
        allow(
            "runner-token-secret-in-runners-namespace",
            "token/secret-in-runners-namespace.json",
            Request::create(admin, Object::of(&runner_token_secret(Docker, NAMESPACE)))
                .field_manager("helm"),
        ),
        deny(
            "runner-token-in-config-map",
            "token/config-map.json",
            TOKEN,
            Request::create(admin, Object::of(&runner_token_config_map(Docker))),
        ),
        deny(
            "runner-manager-literal-token",
            "token/manager-literal-token.json",
            TOKEN,
            Request::create(admin, Object::of(&literal)),
        ),
    ]
}

/// The runner manager Deployment of `runner` with its container edited.
fn edited_manager(runner: Runner, edit: impl FnOnce(&mut Container)) -> Deployment {
    let mut deployment = runner_manager(runner);
    if let Some(container) = deployment
        .spec
        .template
        .spec
        .as_mut()
        .and_then(|spec| spec.containers.first_mut())
    {
        edit(container);
    }
    deployment
}

fn attic() -> Vec<Case> {
    let settings_from_config_map = edited(JobPod::new(Runner::Nix).build(), |pod| {
        container(pod, "build").env_from = Some(vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: "attic-client".into(),
                optional: None,
            }),
            prefix: Some("ATTIC_".into()),
            ..EnvFromSource::default()
        }]);
    });
    vec![
        deny(
            "attic-config-map-with-token",
            "nix/attic-config-map-with-token.json",
            ATTIC,
            Request::create(Identity::Admin, Object::of(&attic_config_map())),
        ),
        deny(
            "nix-job-pod-attic-config-map-prefix",
            "nix/job-pod-attic-config-map-prefix.json",
            ATTIC,
            create(Identity::Runner(Runner::Nix), &settings_from_config_map),
        ),
        deny(
            "nix-job-pod-attic-token-literal",
            "nix/job-pod-attic-token-literal.json",
            ATTIC,
            job(
                Runner::Nix,
                &JobPod::new(Runner::Nix).env(&[
                    (
                        "ATTIC_SERVER",
                        &format!("http://attic.{ATTIC_NAMESPACE}.svc.cluster.local:8080/"),
                    ),
                    ("ATTIC_CACHE", "example"),
                    (
                        "ATTIC_TOKEN",
                        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.bWFza2Vk",
                    ),
                ]),
            ),
        ),
    ]
}

fn registries() -> Vec<Case> {
    use Runner::Docker;
    vec![
        deny(
            "registry-suffix-lookalike",
            "registry/gitlab-suffix-lookalike.json",
            REGISTRIES,
            job(
                Docker,
                &JobPod::new(Docker).image("registry.gitlab.com.evil.io/group/app:1"),
            ),
        ),
        deny(
            "registry-quay",
            "registry/quay.json",
            REGISTRIES,
            job(
                Docker,
                &JobPod::new(Docker).image("quay.io/buildah/stable:v1.37"),
            ),
        ),
        deny(
            "registry-image-volume-quay",
            "registry/image-volume-quay.json",
            REGISTRIES,
            // An image volume (Kubernetes 1.31+) is pulled like a container image.
            job(
                Docker,
                &JobPod::new(Docker).volume(
                    Volume {
                        name: "tools".into(),
                        image: Some(ImageVolumeSource {
                            reference: Some("quay.io/buildah/stable:v1.37".into()),
                            pull_policy: Some("IfNotPresent".into()),
                        }),
                        ..Volume::default()
                    },
                    mount("tools", "/opt/tools"),
                ),
            ),
        ),
        allow(
            "registry-gitlab-digest",
            "registry/gitlab-digest.json",
            job(Docker, &JobPod::new(Docker).image(PINNED)),
        ),
        allow(
            "registry-index-docker-io",
            "registry/index-docker-io.json",
            job(
                Docker,
                &JobPod::new(Docker).image("index.docker.io/library/alpine:3.20"),
            ),
        ),
    ]
}

fn network() -> Vec<Case> {
    let admin = Identity::Admin;
    let with = |extra| {
        let mut rules = runner_egress_rules(ATTIC_NAMESPACE);
        rules.push(extra);
        Object::of(&egress_policy("gitlab-runner-egress", rules))
    };
    vec![
        allow(
            "runner-egress-attic-dns-registries",
            "egress/attic-dns-registries.json",
            Request::create(
                admin,
                Object::of(&egress_policy(
                    "gitlab-runner-egress",
                    runner_egress_rules(ATTIC_NAMESPACE),
                )),
            ),
        ),
        deny(
            "runner-egress-every-namespace",
            "egress/every-namespace.json",
            EGRESS,
            Request::create(
                admin,
                with(egress(
                    Some(vec![NetworkPolicyPeer {
                        namespace_selector: Some(LabelSelector::default()),
                        ..NetworkPolicyPeer::default()
                    }]),
                    &[("TCP", 443)],
                )),
            ),
        ),
        deny(
            "runner-egress-rule-without-to",
            "egress/rule-without-to.json",
            EGRESS,
            Request::create(admin, with(egress(None, &[("TCP", 443)]))),
        ),
    ]
}

const VALID: &[&str] = &["valid-request"];

/// `kubectl debug --profile=<profile>`'s ephemeral container, targeting the build container.
fn debugger(image: &str, security_context: SecurityContext) -> EphemeralContainer {
    EphemeralContainer {
        name: "debugger-q8n4d".into(),
        image: Some(image.into()),
        stdin: Some(true),
        tty: Some(true),
        target_container_name: Some("build".into()),
        security_context: Some(security_context),
        image_pull_policy: Some("IfNotPresent".into()),
        termination_message_path: Some("/dev/termination-log".into()),
        termination_message_policy: Some("File".into()),
        ..EphemeralContainer::default()
    }
}

/// What `kubectl debug --profile=restricted` asks of its container.
fn restricted() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            add: None,
            drop: Some(vec!["ALL".into()]),
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..Default::default()
    }
}

/// UPDATEs of a running dind job pod by someone else than the dind runner: judged by what they
/// add or change, not by the privileged containers the dind runner was allowed to create.
fn pod_updates() -> Vec<Case> {
    let running = stored(dind_job(Runner::Dind).build(), "Running");
    let admin = Identity::Admin;
    let debug = |c: EphemeralContainer| {
        let new = edited(running.clone(), |pod| {
            spec(pod).ephemeral_containers = Some(vec![c])
        });
        Request::update(admin, Object::of(&running), Object::of(&new))
            .subresource("ephemeralcontainers")
            .field_manager("kubectl-debug")
    };
    let change = |edit: fn(&mut Pod)| {
        Request::update(
            admin,
            Object::of(&running),
            Object::of(&edited(running.clone(), edit)),
        )
    };
    let busybox = "docker.io/library/busybox:1.36";
    vec![
        allow(
            "admin-debugs-dind-job-pod",
            "updates/admin-debugs-dind-job-pod.json",
            debug(debugger(busybox, restricted())),
        ),
        allow(
            "admin-resizes-dind-job-pod",
            "updates/admin-resizes-dind-job-pod.json",
            change(|pod| {
                let limits = [("cpu", "2"), ("memory", "4Gi")]
                    .map(|(k, v)| (k.to_owned(), Quantity(v.into())));
                container(pod, "build").resources = Some(ResourceRequirements {
                    limits: Some(limits.into_iter().collect()),
                    ..Default::default()
                });
            })
            .subresource("resize")
            .field_manager("kubectl-patch"),
        ),
        deny(
            "admin-debugs-dind-job-pod-privileged",
            "updates/admin-debugs-dind-job-pod-privileged.json",
            PRIVILEGE,
            debug(debugger(
                busybox,
                SecurityContext {
                    privileged: Some(true),
                    ..Default::default()
                },
            )),
        ),
        deny(
            "admin-debugs-dind-job-pod-from-quay",
            "updates/admin-debugs-dind-job-pod-from-quay.json",
            REGISTRIES,
            debug(debugger("quay.io/podman/stable", restricted())),
        ),
        // A new image in a privileged container is a new privileged program.
        deny(
            "admin-changes-dind-service-image",
            "updates/admin-changes-dind-service-image.json",
            PRIVILEGE,
            change(|pod| container(pod, "svc-0").image = Some("docker:28-dind".into())),
        ),
        // Anything else changed: the whole pod is judged, as for a CREATE.
        deny(
            "admin-debugs-dind-job-pod-adding-host-path",
            "updates/admin-debugs-dind-job-pod-adding-host-path.json",
            &["dind-only-privilege", "no-host-access"],
            change(|pod| {
                spec(pod).ephemeral_containers = Some(vec![debugger(
                    "docker.io/library/busybox:1.36",
                    restricted(),
                )]);
                spec(pod).volumes.get_or_insert_default().push(Volume {
                    name: "node-root".into(),
                    host_path: Some(HostPathVolumeSource {
                        path: "/".into(),
                        type_: None,
                    }),
                    ..Volume::default()
                });
            }),
        ),
    ]
}

/// Requests whose object the rules cannot read: a wrong type where the rules read, or no pod
/// spec. Each is a valid-request denial, never judged as empty.
fn unreadable() -> Vec<Case> {
    let docker = Identity::Runner(Runner::Docker);
    let with = |edit: fn(&mut Value)| {
        let mut request = create(docker, &kaniko_job().build());
        if let Some(object) = request.object.as_mut() {
            edit(object);
        }
        request
    };
    let mut deployment = Request::create(Identity::Admin, runner_manager_deployment(Runner::Dind));
    if let Some(object) = deployment.object.as_mut() {
        object["spec"]["template"] = Value::Null;
    }
    vec![
        deny(
            "object-is-a-string",
            "unreadable/object-is-a-string.json",
            VALID,
            with(|o| *o = json!("kind: Pod")),
        ),
        deny(
            "containers-not-a-list",
            "unreadable/containers-not-a-list.json",
            VALID,
            with(|o| {
                let build = o["spec"]["containers"][0].take();
                o["spec"]["containers"] = json!({"build": build});
            }),
        ),
        deny(
            "privileged-as-a-string",
            "unreadable/privileged-as-a-string.json",
            VALID,
            with(|o| o["spec"]["containers"][0]["securityContext"] = json!({"privileged": "true"})),
        ),
        deny(
            "pod-spec-null",
            "unreadable/pod-spec-null.json",
            VALID,
            with(|o| o["spec"] = Value::Null),
        ),
        deny(
            "deployment-template-null",
            "unreadable/deployment-template-null.json",
            VALID,
            deployment,
        ),
    ]
}

/// Every case, sorted by request path.
pub fn all() -> Vec<Case> {
    let mut cases: Vec<Case> = [
        allowed(),
        privilege(),
        host_access(),
        namespaces(),
        push_credentials(),
        push_locations(),
        rbac(),
        tokens(),
        attic(),
        registries(),
        network(),
        pod_updates(),
        unreadable(),
    ]
    .into_iter()
    .flatten()
    .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}
