//! `runner-namespace`: a runner identity acts in its own namespace, on its own objects only.

use policy::decision::RuleName::RunnerNamespace;

use super::Case;
use super::builders::{create, deny, job};
use crate::requests::fleet::{ATTIC_NAMESPACE, Identity, Runner};
use crate::requests::objects::{
    cloud_config_secret, cluster_role, runners_namespace, service_account_token_secret,
    token_request,
};
use crate::requests::pod::JobPod;
use crate::requests::review::{Object, PodExecOptions, Request};

pub fn cases() -> Vec<Case> {
    let docker = Identity::Runner(Runner::Docker);
    vec![
        deny(
            "runner-pod-in-default",
            "namespace/runner-pod-in-default.json",
            &[RunnerNamespace],
            job(
                Runner::Docker,
                &JobPod::new(Runner::Docker).namespace("default"),
            ),
        ),
        deny(
            "runner-creates-cluster-role",
            "namespace/runner-creates-cluster-role.json",
            &[RunnerNamespace],
            Request::create(docker, Object::of(&cluster_role("ci-pod-exec"))),
        ),
        deny(
            "runner-deletes-kube-system-secret",
            "namespace/runner-deletes-kube-system-secret.json",
            &[RunnerNamespace],
            Request::delete(docker, Object::of(&cloud_config_secret()), None),
        ),
        deny(
            "runner-exec-other-namespace",
            "namespace/runner-exec-other-namespace.json",
            &[RunnerNamespace],
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
            &[RunnerNamespace],
            create(
                Identity::Admin,
                &JobPod::new(Runner::Rocky8).namespace("default").build(),
            ),
        ),
        deny(
            "runner-relabels-its-namespace",
            "namespace/runner-relabels-its-namespace.json",
            &[RunnerNamespace],
            Request::update(
                docker,
                Object::of(&runners_namespace("baseline")),
                Object::of(&runners_namespace("privileged")),
            ),
        ),
        deny(
            "runner-deletes-its-namespace",
            "namespace/runner-deletes-its-namespace.json",
            &[RunnerNamespace],
            Request::delete(
                docker,
                Object::of(&runners_namespace("baseline")),
                Some("Background"),
            ),
        ),
        deny(
            "docker-runner-requests-dind-token",
            "namespace/docker-runner-requests-dind-token.json",
            &[RunnerNamespace],
            Request::token_request(docker, &Runner::Dind.service_account(), &token_request()),
        ),
        deny(
            "docker-runner-writes-dind-token-secret",
            "namespace/docker-runner-writes-dind-token-secret.json",
            &[RunnerNamespace],
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
            &[RunnerNamespace],
            job(
                Runner::Docker,
                &JobPod::new(Runner::Docker).service_account(&Runner::Dind.service_account()),
            ),
        ),
    ]
}
