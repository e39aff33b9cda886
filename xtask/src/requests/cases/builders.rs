//! What several case modules build: the case constructors, requests of job pods and the job
//! pods the fleet runs.

use k8s_openapi::api::core::v1::{
    Capabilities, EphemeralContainer, Pod, SeccompProfile, SecurityContext,
};
use policy::decision::RuleName;

use super::{Case, Expect};
use crate::requests::fleet::{Identity, Runner, attic_server};
use crate::requests::pod::{JobPod, edited, mount, secret_volume};
use crate::requests::review::{Object, Request};

/// The settings' registry credential Secret (`registryCredentialSecrets`).
pub const PUSH_SECRET: &str = "registry-push-credentials";
/// Kaniko from the org's mirror in the GitLab registry (gcr.io is not an allowed registry).
const KANIKO: &str = "registry.gitlab.com/example/mirrors/kaniko-executor:v1.23.2-debug";
/// Buildah from the org's mirror in the GitLab registry.
pub const BUILDAH: &str = "registry.gitlab.com/example/mirrors/buildah:v1.37";
pub const BUSYBOX: &str = "docker.io/library/busybox:1.36";

pub fn allow(name: impl Into<String>, path: impl Into<String>, request: Request) -> Case {
    Case {
        name: name.into(),
        path: path.into(),
        expect: Expect::Allow,
        request,
    }
}

pub fn deny(
    name: impl Into<String>,
    path: impl Into<String>,
    rules: &'static [RuleName],
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
pub fn create(identity: Identity, pod: &Pod) -> Request {
    Request::create(identity, Object::of(pod))
}

/// CREATE of a job pod by its own runner manager.
pub fn job(runner: Runner, pod: &JobPod) -> Request {
    create(Identity::Runner(runner), &pod.build())
}

/// CREATE of `runner`'s default job pod with one tweak, by that runner.
pub fn tweaked(runner: Runner, edit: impl FnOnce(&mut Pod)) -> Request {
    create(
        Identity::Runner(runner),
        &edited(JobPod::new(runner).build(), edit),
    )
}

/// `pod` as the API server stores it once scheduled, in `phase`.
pub fn stored(mut pod: Pod, phase: &str) -> Pod {
    pod.metadata.resource_version = Some("48213990".into());
    if let Some(status) = &mut pod.status {
        status.phase = Some(phase.into());
    }
    pod
}

/// The benchmark job: `docker build` against a `docker:27-dind` service.
pub fn dind_job(runner: Runner) -> JobPod {
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
pub fn kaniko_job() -> JobPod {
    JobPod::new(Runner::Docker)
        .image(KANIKO)
        .env(&[("DOCKER_CONFIG", "/kaniko/.docker")])
}

/// Kaniko with the push Secret mounted where Kaniko reads its auth (`[[runners.kubernetes.volumes.secret]]`).
pub fn kaniko_with_push_secret() -> JobPod {
    let mut at = mount("push-credentials", "/kaniko/.docker");
    at.read_only = Some(true);
    kaniko_job().volume(secret_volume("push-credentials", PUSH_SECRET), at)
}

/// A Nix job with the Attic cache's server and cache name; the token is up to the case.
pub fn attic_job() -> JobPod {
    JobPod::new(Runner::Nix).env(&[
        ("ATTIC_SERVER", &attic_server()),
        ("ATTIC_CACHE", "example"),
    ])
}

/// `kubectl debug --profile=<profile>`'s ephemeral container, targeting the build container.
pub fn debugger(image: &str, security_context: SecurityContext) -> EphemeralContainer {
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

/// What `kubectl debug --profile=sysadmin` asks of its container.
pub fn privileged() -> SecurityContext {
    SecurityContext {
        privileged: Some(true),
        ..Default::default()
    }
}

/// What `kubectl debug --profile=restricted` asks of its container.
pub fn restricted() -> SecurityContext {
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
