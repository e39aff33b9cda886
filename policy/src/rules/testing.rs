//! Small builders for rule tests: requests from a few facts, decisions as rule lists.

use crate::decision::{Decision, RuleName};
use serde_json::{Value, json};

pub const NS: &str = "acme-runners";

pub fn settings() -> Value {
    json!({
        "org": "acme",
        "runners": [
            {"type": "dind", "serviceAccount": "gitlab-runner-dind"},
            {"type": "docker", "serviceAccount": "gitlab-runner-docker"},
            {"type": "rocky8", "serviceAccount": "gitlab-runner-rocky8"},
            {"type": "rocky9", "serviceAccount": "gitlab-runner-rocky9"},
            {"type": "nix", "serviceAccount": "gitlab-runner-nix"},
        ],
        "registryCredentialSecrets": ["registry-push"],
        "pushAllowedProjects": ["42"],
        "exemptUsers": ["cluster-operator"],
    })
}

/// The username of a runner manager of this type.
pub fn runner(t: &str) -> String {
    format!("system:serviceaccount:{NS}:gitlab-runner-{t}")
}

pub const ADMIN: &str = "kubernetes-admin";

/// A job pod with the given containers, as the runner creates it.
pub fn pod(containers: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "runner-abc-project-42-concurrent-0",
            "namespace": NS,
            "labels": {"job.runner.gitlab.com/pod": "runner-abc", "project.runner.gitlab.com/id": "7"}
        },
        "spec": {"containers": containers}
    })
}

/// A job pod with one `build` container and these extra pod spec fields.
pub fn pod_with_spec(extra: Value) -> Value {
    let mut p = pod(json!([container("build", json!({}))]));
    if let (Some(spec), Some(extra)) = (p["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    p
}

pub fn container(name: &str, extra: Value) -> Value {
    let mut c = json!({"name": name, "image": "alpine:3.20"});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    c
}

/// A Gatekeeper-dialect input for one request.
pub fn request(
    op: &str,
    user: &str,
    namespace: &str,
    group: &str,
    kind: &str,
    object: Value,
) -> Value {
    json!({
        "parameters": settings(),
        "review": {
            "uid": "0000",
            "kind": {"group": group, "version": "v1", "kind": kind},
            "namespace": namespace,
            "operation": op,
            "userInfo": {"username": user, "groups": ["system:authenticated"]},
            "object": if object.is_null() { Value::Null } else { object },
        }
    })
}

pub fn create_pod(user: &str, pod: Value) -> Value {
    request("CREATE", user, NS, "", "Pod", pod)
}

pub fn decide(input: &Value) -> Decision {
    let bytes = serde_json::to_vec(input).unwrap();
    crate::eval::decide(&bytes, None).decision
}

/// The rules a request breaks, sorted and distinct.
pub fn rules(input: &Value) -> Vec<RuleName> {
    decide(input).rules()
}

/// The (rule, path) pairs of a decision.
pub fn paths(input: &Value) -> Vec<(RuleName, String)> {
    decide(input)
        .violations
        .into_iter()
        .map(|v| (v.rule, v.path))
        .collect()
}
