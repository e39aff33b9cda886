//! The fleet's everyday requests, each allowed: job pods of every runner, the per-job
//! dockercfg Secret, exec into and deletion of job pods, the Helm chart's manager Deployment.

use super::Case;
use super::builders::{
    allow, attic_job, create, dind_job, job, kaniko_job, kaniko_with_push_secret, stored,
};
use crate::requests::fleet::{Identity, NAMESPACE, Runner};
use crate::requests::objects::{dockercfg_secret, runner_manager_deployment};
use crate::requests::pod::{JobPod, RELEASE};
use crate::requests::review::{Object, PodExecOptions, Request};

pub fn cases() -> Vec<Case> {
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
                &attic_job().env_from_secret("ATTIC_TOKEN", "attic-credentials", "token"),
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
