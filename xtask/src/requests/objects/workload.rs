//! The workload kinds that carry a pod template, and the privileged one an admin might deploy.

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet,
    StatefulSetSpec,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplate, PodTemplateSpec, ReplicationController,
    ReplicationControllerSpec, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{labels, meta};
use crate::requests::review::Object;

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
