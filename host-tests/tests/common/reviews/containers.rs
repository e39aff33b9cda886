//! Containers: images, security contexts, ports, env, envFrom, mounts and probes.

use k8s_openapi::api::core::v1::{
    AppArmorProfile, Capabilities, ConfigMapEnvSource, Container, ContainerPort, EnvFromSource,
    EnvVar, EnvVarSource, EphemeralContainer, HTTPGetAction, Probe, SELinuxOptions, SeccompProfile,
    SecretEnvSource, SecretKeySelector, SecurityContext, VolumeMount,
    WindowsSecurityContextOptions,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use super::{IMAGES, opt_pick, pick, s};

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

pub(super) fn container() -> impl Strategy<Value = Container> {
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

pub(super) fn ephemeral(c: Container) -> EphemeralContainer {
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
