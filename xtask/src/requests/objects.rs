//! Objects other than job pods: workload kinds wrapping a pod template, the runner manager's
//! Deployment from the Helm chart, the per-job dockercfg Secret, RBAC and foreign objects.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet,
    StatefulSetSpec,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    KeyToPath, PodSecurityContext, PodSpec, PodTemplate, PodTemplateSpec, ProjectedVolumeSource,
    ReplicationController, ReplicationControllerSpec, Secret, SecretProjection, SecurityContext,
    Volume, VolumeProjection,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};

use super::fleet::{NAMESPACE, RUNNER_IMAGE, Runner, created_at, uuid};
use super::pod::mount;
use super::review::Object;

/// Metadata of a stored object: name, namespace, uid and creation time.
pub fn meta(namespace: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: (!namespace.is_empty()).then(|| namespace.into()),
        uid: Some(uuid(&format!("uid {namespace}/{name}"))),
        creation_timestamp: Some(created_at()),
        ..ObjectMeta::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

/// The workload kinds that carry a pod template.
#[derive(Clone, Copy, Debug)]
pub enum Workload {
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ReplicationController,
    PodTemplate,
}

impl Workload {
    pub const ALL: [Self; 8] = [
        Self::Deployment,
        Self::ReplicaSet,
        Self::StatefulSet,
        Self::DaemonSet,
        Self::Job,
        Self::CronJob,
        Self::ReplicationController,
        Self::PodTemplate,
    ];

    /// `template` wrapped in this kind, named `name` in `namespace`.
    pub fn wrap(self, namespace: &str, name: &str, template: PodTemplateSpec) -> Object {
        let metadata = meta(namespace, name);
        let selector = LabelSelector {
            match_labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
            ..LabelSelector::default()
        };
        match self {
            Self::Deployment => Object::of(&Deployment {
                metadata,
                spec: DeploymentSpec {
                    replicas: Some(1),
                    selector,
                    template,
                    ..Default::default()
                },
                status: None,
            }),
            Self::ReplicaSet => Object::of(&ReplicaSet {
                metadata,
                spec: ReplicaSetSpec {
                    replicas: Some(1),
                    selector,
                    template: Some(template),
                    ..Default::default()
                },
                status: None,
            }),
            Self::StatefulSet => Object::of(&StatefulSet {
                metadata,
                spec: StatefulSetSpec {
                    replicas: Some(1),
                    selector,
                    service_name: Some(name.into()),
                    template,
                    ..Default::default()
                },
                status: None,
            }),
            Self::DaemonSet => Object::of(&DaemonSet {
                metadata,
                spec: DaemonSetSpec {
                    selector,
                    template,
                    ..Default::default()
                },
                status: None,
            }),
            Self::Job => Object::of(&Job {
                metadata,
                spec: Some(job_spec(template)),
                status: None,
            }),
            Self::CronJob => Object::of(&CronJob {
                metadata,
                spec: CronJobSpec {
                    schedule: "*/15 * * * *".into(),
                    job_template: JobTemplateSpec {
                        metadata: None,
                        spec: Some(job_spec(template)),
                    },
                    ..Default::default()
                },
                status: None,
            }),
            Self::ReplicationController => Object::of(&ReplicationController {
                metadata,
                spec: Some(ReplicationControllerSpec {
                    replicas: Some(1),
                    selector: selector.match_labels,
                    template: Some(template),
                    ..Default::default()
                }),
                status: None,
            }),
            Self::PodTemplate => Object::of(&PodTemplate {
                metadata,
                template: Some(template),
            }),
        }
    }

    /// File stem and case-name part: `deployment`, `cron-job`, ...
    pub fn slug(self) -> &'static str {
        match self {
            Self::Deployment => "deployment",
            Self::ReplicaSet => "replica-set",
            Self::StatefulSet => "stateful-set",
            Self::DaemonSet => "daemon-set",
            Self::Job => "job",
            Self::CronJob => "cron-job",
            Self::ReplicationController => "replication-controller",
            Self::PodTemplate => "pod-template",
        }
    }
}

fn job_spec(mut template: PodTemplateSpec) -> JobSpec {
    if let Some(spec) = &mut template.spec {
        spec.restart_policy = Some("Never".into());
    }
    JobSpec {
        backoff_limit: Some(0),
        template,
        ..Default::default()
    }
}

/// A privileged BuildKit daemon: what an admin might deploy next to the runners.
pub fn privileged_buildkitd() -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(&[("app", "buildkitd")])),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "buildkitd".into(),
                image: Some("docker.io/moby/buildkit:v0.16.0".into()),
                args: Some(vec!["--addr".into(), "tcp://0.0.0.0:1234".into()]),
                ports: Some(vec![ContainerPort {
                    container_port: 1234,
                    ..Default::default()
                }]),
                security_context: Some(SecurityContext {
                    privileged: Some(true),
                    ..Default::default()
                }),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
    }
}

/// The runner manager Deployment of the `gitlab-runner` Helm chart (0.75, runner 17.11).
pub fn runner_manager_deployment(runner: Runner) -> Object {
    let release = runner.service_account();
    let app = [("app", release.as_str()), ("release", release.as_str())];
    let mut metadata = meta(NAMESPACE, &release);
    metadata.labels = Some(labels(&[
        ("app", &release),
        ("chart", "gitlab-runner-0.75.0"),
        ("heritage", "Helm"),
        ("release", &release),
    ]));
    metadata.annotations = Some(labels(&[
        ("meta.helm.sh/release-name", &release),
        ("meta.helm.sh/release-namespace", NAMESPACE),
    ]));
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
    let token_items = ["runner-registration-token", "runner-token"].map(|key| KeyToPath {
        key: key.into(),
        path: key.into(),
        mode: None,
        user: None,
    });
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
        Volume {
            name: "init-runner-secrets".into(),
            projected: Some(ProjectedVolumeSource {
                sources: Some(vec![VolumeProjection {
                    secret: Some(SecretProjection {
                        name: release.clone(),
                        items: Some(token_items.into()),
                        optional: None,
                    }),
                    ..VolumeProjection::default()
                }]),
                ..Default::default()
            }),
            ..Volume::default()
        },
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
    Object::of(&Deployment {
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
    })
}

/// The per-job `kubernetes.io/dockercfg` Secret (`setupCredentials`): pull credentials for the
/// job's images, password masked here. `owner` is the job pod (name, uid) once it exists.
pub fn dockercfg_secret(name: &str, owner: Option<(&str, &str)>) -> Secret {
    let dockercfg = r#"{"registry.gitlab.com":{"username":"gitlab-ci-token","password":"[MASKED]","serveraddress":"registry.gitlab.com"}}"#;
    let mut metadata = meta(NAMESPACE, name);
    if let Some((pod, uid)) = owner {
        metadata.resource_version = Some("48213577".into());
        metadata.owner_references = Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: pod.into(),
            uid: uid.into(),
            ..OwnerReference::default()
        }]);
    }
    Secret {
        metadata,
        type_: Some("kubernetes.io/dockercfg".into()),
        data: Some([(".dockercfg".to_string(), ByteString(dockercfg.into()))].into()),
        ..Secret::default()
    }
}

/// An unrelated Secret of the control plane.
pub fn cloud_config_secret() -> Secret {
    let mut metadata = meta("kube-system", "cloud-config");
    metadata.resource_version = Some("1287".into());
    Secret {
        metadata,
        type_: Some("Opaque".into()),
        data: Some(
            [(
                "cloud.conf".to_string(),
                ByteString(b"[Global]\nregion = eu-west-1\n".to_vec()),
            )]
            .into(),
        ),
        ..Secret::default()
    }
}

/// A ClusterRole a runner identity has no business creating.
pub fn cluster_role(name: &str) -> ClusterRole {
    ClusterRole {
        metadata: meta("", name),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into(), "pods/exec".into()]),
            verbs: ["get", "list", "create"].map(Into::into).into(),
            ..PolicyRule::default()
        }]),
        aggregation_rule: None,
    }
}
