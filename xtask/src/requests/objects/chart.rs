//! The `gitlab-runner` Helm chart's runner manager: its Deployment and its token Secret.

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    PodSecurityContext, PodSpec, PodTemplateSpec, Secret, SecurityContext, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{labels, meta};
use crate::requests::fleet::{NAMESPACE, RUNNER_IMAGE, Runner};
use crate::requests::pod::{mount, projected_secret};
use crate::requests::review::Object;

/// The runner manager Deployment of the `gitlab-runner` Helm chart (0.75, runner 17.11).
pub fn runner_manager_deployment(runner: Runner) -> Object {
    Object::of(&runner_manager(runner))
}

/// [`runner_manager_deployment`] as a typed Deployment, for cases that edit it.
pub fn runner_manager(runner: Runner) -> Deployment {
    let release = runner.service_account();
    let app = [("app", release.as_str()), ("release", release.as_str())];
    let metadata = chart_meta(&release);
    let env = [
        ("CI_SERVER_URL", "https://gitlab.com/"),
        ("RUNNER_EXECUTOR", "kubernetes"),
        ("REGISTER_LOCKED", "true"),
        ("RUNNER_TAG_LIST", runner.kind()),
        ("KUBERNETES_NAMESPACE", NAMESPACE),
    ]
    .map(|(name, value)| EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    });
    let memory = || EmptyDirVolumeSource {
        medium: Some("Memory".into()),
        ..Default::default()
    };
    let volumes = vec![
        Volume {
            name: "runner-secrets".into(),
            empty_dir: Some(memory()),
            ..Volume::default()
        },
        Volume {
            name: "etc-gitlab-runner".into(),
            empty_dir: Some(memory()),
            ..Volume::default()
        },
        projected_secret(
            "init-runner-secrets",
            &release,
            &[
                ("runner-registration-token", "runner-registration-token"),
                ("runner-token", "runner-token"),
            ],
        ),
        Volume {
            name: "configmaps".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: release.clone(),
                ..Default::default()
            }),
            ..Volume::default()
        },
    ];
    let container = Container {
        name: release.clone(),
        image: Some(RUNNER_IMAGE.into()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(
            [
                "/usr/bin/dumb-init",
                "--",
                "/bin/bash",
                "/configmaps/entrypoint",
            ]
            .map(Into::into)
            .into(),
        ),
        env: Some(env.into()),
        ports: Some(vec![ContainerPort {
            name: Some("metrics".into()),
            container_port: 9252,
            ..Default::default()
        }]),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                add: None,
                drop: Some(vec!["ALL".into()]),
            }),
            privileged: Some(false),
            read_only_root_filesystem: Some(false),
            run_as_non_root: Some(true),
            ..Default::default()
        }),
        volume_mounts: Some(vec![
            mount("runner-secrets", "/secrets"),
            mount("etc-gitlab-runner", "/home/gitlab-runner/.gitlab-runner"),
            mount("configmaps", "/configmaps"),
        ]),
        ..Container::default()
    };
    Deployment {
        metadata,
        spec: DeploymentSpec {
            replicas: Some(1),
            revision_history_limit: Some(10),
            selector: LabelSelector {
                match_labels: Some(labels(&app)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&app)),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    security_context: Some(PodSecurityContext {
                        run_as_user: Some(100),
                        fs_group: Some(65533),
                        ..Default::default()
                    }),
                    termination_grace_period_seconds: Some(3600),
                    service_account_name: Some(release.clone()),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..Default::default()
        },
        status: None,
    }
}

/// The labels the `gitlab-runner` Helm chart puts on every object of `release`.
pub(super) fn chart_meta(release: &str) -> ObjectMeta {
    let mut metadata = meta(NAMESPACE, release);
    metadata.labels = Some(labels(&[
        ("app", release),
        ("chart", "gitlab-runner-0.75.0"),
        ("heritage", "Helm"),
        ("release", release),
    ]));
    metadata.annotations = Some(labels(&[
        ("meta.helm.sh/release-name", release),
        ("meta.helm.sh/release-namespace", NAMESPACE),
    ]));
    metadata
}

/// The runner authentication token of `runner` (a `glrt-` token, fake).
pub fn runner_token(runner: Runner) -> String {
    format!("glrt-{}Ve3yQw8sLk2Dn", runner.short_token())
}

/// The chart's runner Secret (`runners.secret`): the token keys the manager reads, the
/// registration token empty as with runner authentication tokens.
pub fn runner_token_secret(runner: Runner, namespace: &str) -> Secret {
    let release = runner.service_account();
    let mut metadata = chart_meta(&release);
    metadata.uid = meta(namespace, &release).uid;
    metadata.namespace = Some(namespace.into());
    if let Some(annotations) = &mut metadata.annotations {
        annotations.insert("meta.helm.sh/release-namespace".into(), namespace.into());
    }
    Secret {
        metadata,
        type_: Some("Opaque".into()),
        data: Some(
            [
                (
                    "runner-registration-token".to_string(),
                    ByteString(Vec::new()),
                ),
                (
                    "runner-token".to_string(),
                    ByteString(runner_token(runner).into_bytes()),
                ),
            ]
            .into(),
        ),
        ..Secret::default()
    }
}
