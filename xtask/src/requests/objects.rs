//! Objects other than job pods: workload kinds wrapping a pod template, the runner manager's
//! Deployment from the Helm chart, the per-job dockercfg Secret, RBAC and foreign objects.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet,
    StatefulSetSpec,
};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, KeyToPath, Namespace, PodSecurityContext, PodSpec, PodTemplate, PodTemplateSpec,
    ProjectedVolumeSource, ReplicationController, ReplicationControllerSpec, Secret,
    SecretProjection, SecurityContext, Volume, VolumeProjection,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

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
    Object::of(&runner_manager(runner))
}

/// [`runner_manager_deployment`] as a typed Deployment, for cases that edit it.
pub fn runner_manager(runner: Runner) -> Deployment {
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

/// The runners Namespace as an admin labels it: Pod Security baseline enforced, as the
/// README's rollout asks (privileged for the dind runner's pods, which this policy narrows).
pub fn runners_namespace(enforce: &str) -> Namespace {
    let mut metadata = meta("", NAMESPACE);
    metadata.resource_version = Some("1042".into());
    metadata.labels = Some(labels(&[
        ("kubernetes.io/metadata.name", NAMESPACE),
        ("pod-security.kubernetes.io/enforce", enforce),
    ]));
    Namespace {
        metadata,
        ..Namespace::default()
    }
}

/// What `kubectl create token` sends: a TokenRequest without a name (the request names the
/// ServiceAccount).
pub fn token_request() -> TokenRequest {
    TokenRequest {
        metadata: ObjectMeta {
            namespace: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        spec: Some(TokenRequestSpec {
            audiences: Some(vec!["https://kubernetes.default.svc.cluster.local".into()]),
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    }
}

/// A legacy ServiceAccount token Secret: the token controller fills it with a token of `sa`.
pub fn service_account_token_secret(name: &str, sa: &str) -> Secret {
    let mut metadata = meta(NAMESPACE, name);
    metadata.annotations = Some(labels(&[("kubernetes.io/service-account.name", sa)]));
    Secret {
        metadata,
        type_: Some("kubernetes.io/service-account-token".into()),
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

/// The labels the `gitlab-runner` Helm chart puts on every object of `release`.
fn chart_meta(release: &str) -> ObjectMeta {
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

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|i| (*i).to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// The Role of the Helm chart with `rbac.rules` left empty: everything in the core group.
pub fn chart_default_role(runner: Runner) -> Role {
    Role {
        metadata: chart_meta(&runner.service_account()),
        rules: Some(vec![rule(&[""], &["*"], &["*"])]),
    }
}

/// The Role the Kubernetes executor needs ("Configure runner API permissions" of the GitLab
/// Runner docs), set through `rbac.rules` of the chart.
pub fn narrow_runner_role(runner: Runner) -> Role {
    // The very list the rule accepts, so the recorded allow case cannot drift from it.
    let rules = policy::rules::namespaced_rbac::RUNNER_RULES;
    Role {
        metadata: chart_meta(&runner.service_account()),
        rules: Some(
            rules
                .iter()
                .map(|(resource, verbs)| rule(&[""], &[resource], verbs))
                .collect(),
        ),
    }
}

fn runner_subject(runner: Runner) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: runner.service_account(),
        namespace: Some(NAMESPACE.into()),
        api_group: None,
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: kind.into(),
        name: name.into(),
    }
}

/// The chart's RoleBinding of its Role to the runner's ServiceAccount.
pub fn runner_role_binding(runner: Runner) -> RoleBinding {
    let release = runner.service_account();
    RoleBinding {
        metadata: chart_meta(&release),
        role_ref: role_ref("Role", &release),
        subjects: Some(vec![runner_subject(runner)]),
    }
}

/// A RoleBinding in the runners namespace of the ClusterRole `cluster_role` to the runner.
pub fn cluster_role_in_namespace(runner: Runner, cluster_role: &str) -> RoleBinding {
    RoleBinding {
        metadata: meta(
            NAMESPACE,
            &format!("{}-{cluster_role}", runner.service_account()),
        ),
        role_ref: role_ref("ClusterRole", cluster_role),
        subjects: Some(vec![runner_subject(runner)]),
    }
}

/// A ClusterRoleBinding of the ClusterRole `cluster_role` to the runner's ServiceAccount.
pub fn cluster_role_binding(runner: Runner, cluster_role: &str) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta("", &format!("{}-{cluster_role}", runner.service_account())),
        role_ref: role_ref("ClusterRole", cluster_role),
        subjects: Some(vec![runner_subject(runner)]),
    }
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

/// A ConfigMap someone filled with the runner token.
pub fn runner_token_config_map(runner: Runner) -> ConfigMap {
    ConfigMap {
        metadata: meta(NAMESPACE, &format!("{}-token", runner.service_account())),
        data: Some(
            [
                (
                    "ci-server-url".to_string(),
                    "https://gitlab.com/".to_string(),
                ),
                ("runner-token".to_string(), runner_token(runner)),
            ]
            .into(),
        ),
        ..ConfigMap::default()
    }
}

/// The Attic client's settings as a ConfigMap, written with its token among them.
pub fn attic_config_map() -> ConfigMap {
    ConfigMap {
        metadata: meta(NAMESPACE, "attic-client"),
        data: Some(
            [
                (
                    "ATTIC_SERVER".to_string(),
                    "http://attic.attic-cache-dev.svc.cluster.local:8080/".to_string(),
                ),
                ("ATTIC_CACHE".to_string(), "example".to_string()),
                (
                    "ATTIC_TOKEN".to_string(),
                    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.bWFza2Vk".to_string(),
                ),
            ]
            .into(),
        ),
        ..ConfigMap::default()
    }
}

fn peer_namespace(name: &str, pods: Option<(&str, &str)>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(labels(&[("kubernetes.io/metadata.name", name)])),
            ..LabelSelector::default()
        }),
        pod_selector: pods.map(|pair| LabelSelector {
            match_labels: Some(labels(&[pair])),
            ..LabelSelector::default()
        }),
        ip_block: None,
    }
}

fn ports(pairs: &[(&str, i32)]) -> Option<Vec<NetworkPolicyPort>> {
    Some(
        pairs
            .iter()
            .map(|(protocol, port)| NetworkPolicyPort {
                protocol: Some((*protocol).into()),
                port: Some(IntOrString::Int(*port)),
                end_port: None,
            })
            .collect(),
    )
}

/// One egress rule: `to` the peers (absent when `None`) on `ports`.
pub fn egress(to: Option<Vec<NetworkPolicyPeer>>, on: &[(&str, i32)]) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to,
        ports: ports(on),
    }
}

/// The runners' egress: the Attic cache, cluster DNS and registries outside the cluster.
pub fn runner_egress_rules(attic: &str) -> Vec<NetworkPolicyEgressRule> {
    vec![
        egress(Some(vec![peer_namespace(attic, None)]), &[("TCP", 8080)]),
        egress(
            Some(vec![peer_namespace(
                "kube-system",
                Some(("k8s-app", "kube-dns")),
            )]),
            &[("UDP", 53), ("TCP", 53)],
        ),
        egress(
            Some(vec![NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: "0.0.0.0/0".into(),
                    except: Some(vec!["10.0.0.0/8".into()]),
                }),
                ..NetworkPolicyPeer::default()
            }]),
            &[("TCP", 443)],
        ),
    ]
}

/// A NetworkPolicy named `name` over every pod of the runners namespace, egress only.
pub fn egress_policy(name: &str, egress: Vec<NetworkPolicyEgressRule>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta(NAMESPACE, name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(egress),
            ingress: None,
        }),
    }
}
