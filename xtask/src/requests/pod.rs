//! Runner job pods as the GitLab Runner Kubernetes executor (17.x) builds them
//! (`executors/kubernetes/kubernetes.go`: `preparePodConfig`, `buildContainer`,
//! `buildPermissionsInitContainer`, `buildLabels`, `buildPodAnnotations`), after the API
//! server's defaulting - which is what a validating webhook receives.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, KeyToPath,
    LocalObjectReference, Pod, PodSecurityContext, PodSpec, PodStatus, ProjectedVolumeSource,
    SecretKeySelector, SecretProjection, SecretVolumeSource, SecurityContext, Toleration, Volume,
    VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::fleet::{HELPER_IMAGE, NAMESPACE, Runner, created_at, uuid};

/// `BuildShell.DockerCommand` of the bash shell: the command of `build` and `helper`.
const SHELL_DETECTION: &str = "if [ -x /usr/local/bin/bash ]; then\n\texec /usr/local/bin/bash \nelif [ -x /usr/bin/bash ]; then\n\texec /usr/bin/bash \nelif [ -x /bin/bash ]; then\n\texec /bin/bash \nelif [ -x /usr/local/bin/sh ]; then\n\texec /usr/local/bin/sh \nelif [ -x /usr/bin/sh ]; then\n\texec /usr/bin/sh \nelif [ -x /bin/sh ]; then\n\texec /bin/sh \nelif [ -x /busybox/sh ]; then\n\texec /busybox/sh \nelse\n\techo shell not found\n\texit 1\nfi\n\n";

/// The GitLab project a job belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Project {
    pub id: u32,
    pub path: &'static str,
}

/// The everyday project of the example org.
pub const APP: Project = Project {
    id: 1234,
    path: "example/platform/app",
};
/// The project listed in `pushAllowedProjects`.
pub const RELEASE: Project = Project {
    id: 4242,
    path: "example/platform/release-images",
};

/// A runner job pod under construction: what the runner's config.toml and the job decide.
#[derive(Clone, Debug)]
pub struct JobPod {
    runner: Runner,
    namespace: String,
    project: Project,
    job_id: u64,
    concurrent: u32,
    image: String,
    services: Vec<(String, Vec<EnvVar>)>,
    privileged: bool,
    service_account: String,
    env: Vec<EnvVar>,
    volumes: Vec<(Volume, VolumeMount)>,
}

impl JobPod {
    /// A job of `runner` with its default image, privilege and ServiceAccount.
    pub fn new(runner: Runner) -> Self {
        Self {
            runner,
            namespace: NAMESPACE.into(),
            project: APP,
            job_id: 7_301_245_118,
            concurrent: 0,
            image: runner.default_image().into(),
            services: Vec::new(),
            privileged: runner.privileged(),
            service_account: runner.service_account(),
            env: Vec::new(),
            volumes: Vec::new(),
        }
    }

    pub fn image(mut self, image: &str) -> Self {
        self.image = image.into();
        self
    }

    /// A CI service (`services:` of the job): container `svc-N`.
    pub fn service(mut self, image: &str, env: &[(&str, &str)]) -> Self {
        self.services.push((image.into(), env_vars(env)));
        self
    }

    /// `privileged` of the runner's config.toml, overriding the runner type's default.
    pub fn privileged(mut self, privileged: bool) -> Self {
        self.privileged = privileged;
        self
    }

    pub fn project(mut self, project: Project) -> Self {
        self.project = project;
        self
    }

    pub fn job(mut self, job_id: u64, concurrent: u32) -> Self {
        self.job_id = job_id;
        self.concurrent = concurrent;
        self
    }

    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// `service_account` of the runner's config (or the job's overwrite).
    pub fn service_account(mut self, service_account: &str) -> Self {
        self.service_account = service_account.into();
        self
    }

    /// Job variables (literal values) of the build container.
    pub fn env(mut self, vars: &[(&str, &str)]) -> Self {
        self.env.extend(env_vars(vars));
        self
    }

    /// An env var of the build container from `secretKeyRef` (a `pod_spec` patch in config.toml).
    pub fn env_from_secret(mut self, name: &str, secret: &str, key: &str) -> Self {
        self.env.push(EnvVar {
            name: name.into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.into(),
                    key: key.into(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
        self
    }

    /// A `[[runners.kubernetes.volumes.*]]` volume: mounted into every container, as the runner does.
    pub fn volume(mut self, volume: Volume, mount: VolumeMount) -> Self {
        self.volumes.push((volume, mount));
        self
    }

    /// `runner-<token>-project-<id>-concurrent-<n>` (`Build.ProjectUniqueName`).
    pub fn unique_name(&self) -> String {
        format!(
            "runner-{}-project-{}-concurrent-{}",
            self.runner.short_token().to_lowercase(),
            self.project.id,
            self.concurrent
        )
    }

    /// The pod's name: the unique name plus an 8-character random suffix.
    pub fn name(&self) -> String {
        format!(
            "{}-{}",
            self.unique_name(),
            suffix(&format!("pod {}", self.seed()))
        )
    }

    /// The per-job `kubernetes.io/dockercfg` Secret's name (same scheme as the pod's).
    pub fn pull_secret_name(&self) -> String {
        format!(
            "{}-{}",
            self.unique_name(),
            suffix(&format!("secret {}", self.seed()))
        )
    }

    fn seed(&self) -> String {
        format!(
            "{} {} {} {}",
            self.namespace,
            self.unique_name(),
            self.job_id,
            self.privileged
        )
    }

    fn dir(&self, base: &str) -> String {
        format!("/{base}-{}-{}", self.project.id, self.job_id)
    }

    fn labels(&self) -> BTreeMap<String, String> {
        let unique = self.unique_name();
        let (namespace, name) = self.project.path.rsplit_once('/').unwrap_or(("", ""));
        let root = namespace.split('/').next().unwrap_or_default();
        [
            ("job.runner.gitlab.com/pod", unique.clone()),
            (
                "manager.runner.gitlab.com/id-short",
                self.runner.short_token().into(),
            ),
            ("manager.runner.gitlab.com/name", self.runner.manager_name()),
            ("pod", unique),
            ("project.runner.gitlab.com/id", self.project.id.to_string()),
            ("project.runner.gitlab.com/name", name.into()),
            (
                "project.runner.gitlab.com/namespace",
                namespace.replace('/', "_"),
            ),
            ("project.runner.gitlab.com/namespace-id", "88412".into()),
            ("project.runner.gitlab.com/root-namespace", root.into()),
            (
                "project.runner.gitlab.com/root-namespace-id",
                "88410".into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn annotations(&self) -> BTreeMap<String, String> {
        let url = format!(
            "https://gitlab.com/{}/-/jobs/{}",
            self.project.path, self.job_id
        );
        [
            ("job.runner.gitlab.com/before_sha", "9f1c2e7d4b3a"),
            ("job.runner.gitlab.com/id", &self.job_id.to_string()),
            ("job.runner.gitlab.com/name", "build"),
            ("job.runner.gitlab.com/ref", "main"),
            ("job.runner.gitlab.com/sha", "4e8a1b6c0d2f"),
            ("job.runner.gitlab.com/timeout", "1h0m0s"),
            ("job.runner.gitlab.com/url", &url),
            ("project.runner.gitlab.com/id", &self.project.id.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The predefined CI/CD variables the runner passes to the build container.
    fn ci_env(&self) -> Vec<EnvVar> {
        let job = self.job_id.to_string();
        let project = self.project.id.to_string();
        let dir = format!("/builds/{}", self.project.path);
        let registry_image = format!("registry.gitlab.com/{}", self.project.path);
        env_vars(&[
            ("CI", "true"),
            ("GITLAB_CI", "true"),
            ("CI_SERVER_URL", "https://gitlab.com"),
            ("CI_PROJECT_ID", &project),
            ("CI_PROJECT_DIR", &dir),
            ("CI_JOB_ID", &job),
            ("CI_COMMIT_SHA", "4e8a1b6c0d2f"),
            ("CI_REGISTRY_IMAGE", &registry_image),
        ])
    }

    fn mounts(&self) -> Vec<VolumeMount> {
        let mut mounts = vec![
            mount("scripts", &self.dir("scripts")),
            mount("logs", &self.dir("logs")),
        ];
        mounts.extend(self.volumes.iter().map(|(_, m)| m.clone()));
        mounts.push(mount("repo", "/builds"));
        mounts
    }

    fn container(&self, name: &str, image: &str, env: Vec<EnvVar>) -> Container {
        Container {
            name: name.into(),
            image: Some(image.into()),
            command: (name == "build" || name == "helper")
                .then(|| vec!["sh".into(), "-c".into(), SHELL_DETECTION.into()]),
            env: (!env.is_empty()).then_some(env),
            volume_mounts: Some(self.mounts()),
            security_context: Some(SecurityContext {
                capabilities: Some(Capabilities {
                    add: None,
                    drop: Some(vec!["NET_RAW".into()]),
                }),
                privileged: Some(self.privileged),
                ..SecurityContext::default()
            }),
            stdin: Some(true),
            image_pull_policy: Some("IfNotPresent".into()),
            resources: Some(Default::default()),
            termination_message_path: Some("/dev/termination-log".into()),
            termination_message_policy: Some("File".into()),
            ..Container::default()
        }
    }

    fn init_permissions(&self) -> Container {
        let log = format!("{}/output.log", self.dir("logs"));
        Container {
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                format!("touch {log} && (chmod 777 {log} || exit 0)"),
            ]),
            stdin: None,
            ..self.container("init-permissions", HELPER_IMAGE, Vec::new())
        }
    }

    /// The pod the runner creates, as the webhook sees it (defaults applied, status Pending).
    pub fn build(&self) -> Pod {
        let mut env = self.ci_env();
        env.extend(self.env.iter().cloned());
        let mut containers = vec![
            self.container("build", &self.image, env),
            self.container("helper", HELPER_IMAGE, Vec::new()),
        ];
        for (i, (image, env)) in self.services.iter().enumerate() {
            containers.push(self.container(&format!("svc-{i}"), image, env.clone()));
        }
        let mut volumes: Vec<Volume> = self.volumes.iter().map(|(v, _)| v.clone()).collect();
        volumes.extend(["repo", "scripts", "logs"].map(empty_dir));
        let name = self.name();
        Pod {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(self.namespace.clone()),
                uid: Some(uuid(&format!("uid {name}"))),
                creation_timestamp: Some(created_at()),
                labels: Some(self.labels()),
                annotations: Some(self.annotations()),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                volumes: Some(volumes),
                init_containers: Some(vec![self.init_permissions()]),
                containers,
                restart_policy: Some("Never".into()),
                termination_grace_period_seconds: Some(30),
                dns_policy: Some("ClusterFirst".into()),
                service_account_name: Some(self.service_account.clone()),
                service_account: Some(self.service_account.clone()),
                automount_service_account_token: Some(false),
                security_context: Some(PodSecurityContext::default()),
                image_pull_secrets: Some(vec![LocalObjectReference {
                    name: self.pull_secret_name(),
                }]),
                scheduler_name: Some("default-scheduler".into()),
                tolerations: Some(["not-ready", "unreachable"].map(toleration).into()),
                priority: Some(0),
                enable_service_links: Some(true),
                preemption_policy: Some("PreemptLowerPriority".into()),
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some("Pending".into()),
                qos_class: Some("BestEffort".into()),
                ..PodStatus::default()
            }),
        }
    }
}

/// Literal env vars, `$` escaped as the runner does (`buildVariables`).
fn env_vars(vars: &[(&str, &str)]) -> Vec<EnvVar> {
    vars.iter()
        .map(|(name, value)| EnvVar {
            name: (*name).into(),
            value: Some(value.replace('$', "$$")),
            ..EnvVar::default()
        })
        .collect()
}

/// Eight lowercase alphanumerics, as `generateNameForK8sResources` appends.
fn suffix(seed: &str) -> String {
    uuid(seed)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .skip(3)
        .take(8)
        .collect()
}

pub fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        ..VolumeMount::default()
    }
}

/// A volume of the whole Secret `secret`, named `name`.
pub fn secret_volume(name: &str, secret: &str) -> Volume {
    Volume {
        name: name.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.into()),
            ..Default::default()
        }),
        ..Volume::default()
    }
}

/// A volume of these `items` (`[key, path]`) of the Secret `secret`, named `name`.
pub fn secret_items(name: &str, secret: &str, items: &[(&str, &str)]) -> Volume {
    let mut volume = secret_volume(name, secret);
    if let Some(source) = volume.secret.as_mut() {
        source.items = Some(key_to_path(items));
    }
    volume
}

/// A projected volume of these `items` (`[key, path]`) of the Secret `secret`, named `name`.
pub fn projected_secret(name: &str, secret: &str, items: &[(&str, &str)]) -> Volume {
    Volume {
        name: name.into(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                secret: Some(SecretProjection {
                    name: secret.into(),
                    items: Some(key_to_path(items)),
                    optional: None,
                }),
                ..VolumeProjection::default()
            }]),
            ..Default::default()
        }),
        ..Volume::default()
    }
}

fn key_to_path(items: &[(&str, &str)]) -> Vec<KeyToPath> {
    items
        .iter()
        .map(|(key, path)| KeyToPath {
            key: (*key).into(),
            path: (*path).into(),
            mode: None,
            user: None,
        })
        .collect()
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

/// The tolerations the DefaultTolerationSeconds admission plugin adds.
fn toleration(condition: &str) -> Toleration {
    Toleration {
        key: Some(format!("node.kubernetes.io/{condition}")),
        operator: Some("Exists".into()),
        effect: Some("NoExecute".into()),
        toleration_seconds: Some(300),
        ..Toleration::default()
    }
}

/// The pod's spec (every pod built here has one).
pub fn spec(pod: &mut Pod) -> &mut PodSpec {
    pod.spec.get_or_insert_with(PodSpec::default)
}

/// The container `name` of the pod (containers or initContainers).
pub fn container<'a>(pod: &'a mut Pod, name: &str) -> &'a mut Container {
    let spec = spec(pod);
    let all = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    let mut found = all.filter(|c| c.name == name);
    match found.next() {
        Some(c) => c,
        None => panic!("the job pod has no container `{name}`"),
    }
}

/// The security context of a container, created if absent.
pub fn security(container: &mut Container) -> &mut SecurityContext {
    container
        .security_context
        .get_or_insert_with(SecurityContext::default)
}

/// The pod-level security context, created if absent.
pub fn pod_security(pod: &mut Pod) -> &mut PodSecurityContext {
    spec(pod)
        .security_context
        .get_or_insert_with(PodSecurityContext::default)
}

/// `pod` with `edit` applied: the tweak a case makes to an otherwise real job pod.
pub fn edited(mut pod: Pod, edit: impl FnOnce(&mut Pod)) -> Pod {
    edit(&mut pod);
    pod
}
