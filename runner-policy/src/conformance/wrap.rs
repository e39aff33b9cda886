//! How a corpus Pod reaches the policy: an AdmissionReview of a Pod or Deployment, by the docker
//! or the dind runner identity.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Value, json};

use super::{DIND_USER, DOCKER_USER, NAMESPACE};

/// How a corpus object reaches the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wrapping {
    /// A Pod CREATE by the docker runner identity.
    DockerPod,
    /// A Deployment CREATE (the pod as its template) by the docker runner identity.
    DockerDeployment,
    /// A Pod CREATE by the dind runner identity.
    DindPod,
    /// A Deployment CREATE by the dind runner identity.
    DindDeployment,
    /// A Pod UPDATE by the docker runner identity (the library's UPDATE wrappers).
    DockerPodUpdate,
}

impl Wrapping {
    /// The four wrappings of every PSA baseline fixture, in table column order.
    pub const PSA: [Wrapping; 4] = [
        Wrapping::DockerPod,
        Wrapping::DockerDeployment,
        Wrapping::DindPod,
        Wrapping::DindDeployment,
    ];

    /// A column title.
    pub fn title(self) -> &'static str {
        match self {
            Wrapping::DockerPod => "docker pod",
            Wrapping::DockerDeployment => "docker deployment",
            Wrapping::DindPod => "dind pod",
            Wrapping::DindDeployment => "dind deployment",
            Wrapping::DockerPodUpdate => "docker pod UPDATE",
        }
    }

    fn user(self) -> &'static str {
        match self {
            Wrapping::DindPod | Wrapping::DindDeployment => DIND_USER,
            _ => DOCKER_USER,
        }
    }

    fn deployment(self) -> bool {
        matches!(self, Wrapping::DockerDeployment | Wrapping::DindDeployment)
    }
}

/// Wraps a Pod as an `admission.k8s.io/v1` AdmissionReview in the runners namespace: a Pod or
/// Deployment CREATE, or a Pod UPDATE with a null `oldObject` (for the caller to set).
///
/// # Errors
/// When the pod has no `metadata.name`.
pub fn wrap(pod: &Value, wrapping: Wrapping, seq: usize) -> Result<Value> {
    let name = pod["metadata"]["name"]
        .as_str()
        .context("the pod has no metadata.name")?;
    let mut pod = pod.clone();
    pod["metadata"]["namespace"] = json!(NAMESPACE);
    let (kind, resource, object) = if wrapping.deployment() {
        let mut labels = pod["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        labels["app"] = json!(name);
        let mut template_meta = json!({ "labels": labels });
        if pod["metadata"]["annotations"].is_object() {
            template_meta["annotations"] = pod["metadata"]["annotations"].clone();
        }
        let deployment = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": template_meta, "spec": pod["spec"].clone()},
            },
        });
        (
            json!({"group": "apps", "version": "v1", "kind": "Deployment"}),
            json!({"group": "apps", "version": "v1", "resource": "deployments"}),
            deployment,
        )
    } else {
        (
            json!({"group": "", "version": "v1", "kind": "Pod"}),
            json!({"group": "", "version": "v1", "resource": "pods"}),
            pod,
        )
    };
    // An UPDATE's oldObject is the caller's to set (the corpus wrappers carry none).
    let (operation, options_kind) = if wrapping == Wrapping::DockerPodUpdate {
        ("UPDATE", "UpdateOptions")
    } else {
        ("CREATE", "CreateOptions")
    };
    let (sa, user_uid) = if wrapping.user() == DIND_USER {
        ("gitlab-runner-dind", "5a0c0f4e-7d1a-4c55-9d7e-000000000001")
    } else {
        (
            "gitlab-runner-docker",
            "5a0c0f4e-7d1a-4c55-9d7e-000000000002",
        )
    };
    Ok(json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("00000000-0000-4000-8000-{seq:012}"),
            "kind": kind,
            "resource": resource,
            "requestKind": kind,
            "requestResource": resource,
            "name": name,
            "namespace": NAMESPACE,
            "operation": operation,
            "userInfo": {
                "username": wrapping.user(),
                "uid": user_uid,
                "groups": [
                    "system:serviceaccounts",
                    format!("system:serviceaccounts:{NAMESPACE}"),
                    "system:authenticated",
                ],
                "extra": {
                    "authentication.kubernetes.io/credential-id": [format!("JTI=conformance-{sa}")],
                },
            },
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": options_kind},
        },
    }))
}
