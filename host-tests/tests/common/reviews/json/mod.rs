//! AdmissionRequests built as JSON values, with the settings they are judged under, for
//! `vap_property` (the ValidatingAdmissionPolicy in kube-rs's CEL): Pods and workloads with
//! random containers, security contexts, env, mounts, volumes and images; RBAC objects, Secrets,
//! ConfigMaps, NetworkPolicies, TokenRequests, Namespaces and a Service; every identity,
//! namespace and operation. Built as JSON, they reach shapes the typed objects cannot: absent
//! and empty names, `generateName`, lifecycle hooks, `binaryData`, label selector expressions.

mod objects;
mod pods;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::{EXEMPT, RUNNERS_NS, pick};
use objects::object;

/// An object with the fields that are `Some`.
fn obj(fields: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    Value::Object(map)
}

const USERS: &[&str] = &[
    "system:serviceaccount:example-runners:gitlab-runner-dind",
    "system:serviceaccount:example-runners:gitlab-runner-docker",
    "system:serviceaccount:example-runners:gitlab-runner-nix",
    "system:serviceaccount:example-runners:default",
    "system:serviceaccount:default:gitlab-runner-dind",
    "kubernetes-admin",
    EXEMPT,
];

/// `(settings variant, AdmissionRequest)`: the variant picks `dindPrivilegedContainers` and
/// whether `exemptUsers` names the operator.
pub fn admission_request() -> impl Strategy<Value = (usize, Value)> {
    (
        select(
            &[
                Some(RUNNERS_NS),
                Some(RUNNERS_NS),
                Some(RUNNERS_NS),
                Some("default"),
                Some("attic-cache-dev"),
                None,
            ][..],
        ),
        select(USERS),
        select(&["CREATE", "UPDATE", "DELETE", "CONNECT"][..]),
        0..4usize,
        object(),
        object(),
        0..3u8,
        pick(&["gitlab-runner-docker", "gitlab-runner-dind"]),
    )
        .prop_map(|(ns, user, op, variant, (group, kind, mut o), (_, other_kind, other), old, name)| {
            if let (Some(ns), Some(meta)) = (ns, o.get_mut("metadata").and_then(Value::as_object_mut))
                && kind != "Namespace"
            {
                meta.insert("namespace".to_owned(), json!(ns));
            }
            let old_object = match old {
                0 => o.clone(),
                1 if other_kind == kind => other,
                _ => {
                    let mut x = o.clone();
                    x["metadata"]["labels"] = json!({"changed": "yes"});
                    x
                }
            };
            let mut request = json!({
                "uid": "00000000-0000-0000-0000-000000000000",
                "kind": {"group": group, "version": "v1", "kind": kind},
                "operation": op,
                "userInfo": {"username": user, "groups": ["system:authenticated"]},
                "name": o["metadata"]["name"].clone(),
            });
            if kind == "Namespace" {
                request["namespace"] = o["metadata"]["name"].clone();
            } else if let Some(ns) = ns {
                request["namespace"] = json!(ns);
            }
            if kind == "TokenRequest" {
                request["subResource"] = json!("token");
                request["name"] = json!(name);
            }
            match op {
                "CREATE" => request["object"] = o,
                "UPDATE" => {
                    request["object"] = o;
                    request["oldObject"] = old_object;
                }
                "DELETE" => request["oldObject"] = o,
                _ => {
                    request["kind"] = json!({"group": "", "version": "v1", "kind": "PodExecOptions"});
                    request["subResource"] = json!("exec");
                    request["object"] = json!({"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"]});
                }
            }
            (variant, request)
        })
}

pub fn settings(variant: usize) -> Value {
    let mut settings = runner_policy::settings::example().unwrap();
    settings["dindPrivilegedContainers"] = json!(if variant.is_multiple_of(2) {
        "all"
    } else {
        "services"
    });
    if variant >= 2 {
        settings["exemptUsers"] = json!([EXEMPT]);
    }
    settings
}
