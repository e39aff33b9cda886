//! Plain Kubernetes objects (manifests, `helm template` output) as the CREATE requests applying
//! them would send: what `runner-policy check` judges before anything reaches a cluster.
//!
//! The API server fills in what a manifest may leave out before admission sees it: the
//! namespace of a namespaced object (`kubectl apply -n`, else `default`). Defaults that the API
//! server adds to pod specs are not needed by any rule. Identity is never guessed: the
//! requester is named by the caller (`--as`), because every rule depends on who applies.

use serde_json::{Value, json};

use crate::k8s::{Parts, admission_review, is_cluster_scoped, resource_of};

/// Whether `value` is a Kubernetes object: a string `apiVersion` and `kind` and an object
/// `metadata` (an AdmissionReview, an audit Event and a `*List` are not).
pub fn is_object(value: &Value) -> bool {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    value.get("apiVersion").and_then(Value::as_str).is_some()
        && !kind.is_empty()
        && !kind.ends_with("List")
        && value.get("metadata").is_some_and(Value::is_object)
}

/// Who applies the objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub username: String,
    /// Groups besides `system:authenticated`, which every authenticated user is in.
    pub groups: Vec<String>,
}

/// The CREATE AdmissionReview that applying `object` as `requester` sends, with `uid`.
/// A namespaced object without a namespace gets `namespace` (else `default`), in the request
/// and in its metadata, as the API server fills it from the request path.
pub fn create_review(
    mut object: Value,
    requester: &Requester,
    namespace: Option<&str>,
    uid: &str,
) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_owned();
    let kind = object["kind"].as_str().unwrap_or_default().to_owned();
    let (group, version) = api_version
        .split_once('/')
        .unwrap_or(("", api_version.as_str()));
    let cluster_scoped = is_cluster_scoped(group, &kind);
    let namespace = match object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
    {
        Some(ns) if !ns.is_empty() => ns.to_owned(),
        _ if cluster_scoped => String::new(),
        _ => {
            let ns = namespace.unwrap_or("default").to_owned();
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.insert("namespace".into(), ns.clone().into());
            }
            ns
        }
    };
    let name = ["/metadata/name", "/metadata/generateName"]
        .iter()
        .find_map(|p| object.pointer(p).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let mut groups: Vec<Value> = requester.groups.iter().map(|g| g.as_str().into()).collect();
    groups.push("system:authenticated".into());
    admission_review(Parts {
        uid,
        group,
        version,
        kind: &kind,
        resource: &resource_of(group, &kind),
        name: &name,
        namespace: &namespace,
        operation: "CREATE",
        user_info: json!({"username": requester.username, "groups": groups}),
        object: Some(object),
        ..Parts::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Requester {
        Requester {
            username: "ci-deployer".into(),
            groups: vec!["deployers".into()],
        }
    }

    #[test]
    fn objects_are_told_from_other_documents() {
        let cases = [
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}}),
                true,
            ),
            (
                json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": []}),
                false,
            ),
            (
                json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}}),
                false,
            ),
            (json!({"apiVersion": "v1", "kind": "Pod"}), false),
            (json!({"kind": "Pod", "metadata": {}}), false),
            (
                json!({"apiVersion": "v1", "kind": "", "metadata": {}}),
                false,
            ),
        ];
        for (value, want) in cases {
            assert_eq!(is_object(&value), want, "{value}");
        }
    }

    #[test]
    fn a_manifest_becomes_the_create_that_applies_it() {
        // (object, --namespace, request namespace, group, version, resource)
        let cases = [
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
                Some("acme-runners"),
                "acme-runners",
                "apps",
                "v1",
                "deployments",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}}),
                Some("other"),
                "ns",
                "",
                "v1",
                "pods",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
                None,
                "default",
                "",
                "v1",
                "secrets",
            ),
            (
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"}}),
                None,
                "default",
                "networking.k8s.io",
                "v1",
                "networkpolicies",
            ),
            (
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "c"}}),
                Some("acme-runners"),
                "",
                "rbac.authorization.k8s.io",
                "v1",
                "clusterrolebindings",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Ingress", "metadata": {"name": "i"}}),
                None,
                "default",
                "",
                "v1",
                "ingresses",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Gateway", "metadata": {"name": "g"}}),
                None,
                "default",
                "",
                "v1",
                "gateways",
            ),
        ];
        for (object, default_ns, namespace, group, version, resource) in cases {
            let review = create_review(object.clone(), &admin(), default_ns, "u1");
            let request = &review["request"];
            assert_eq!(request["operation"], "CREATE");
            assert_eq!(request["uid"], "u1");
            assert_eq!(request["name"], object["metadata"]["name"]);
            assert_eq!(request["kind"]["kind"], object["kind"]);
            assert_eq!(request["kind"]["group"], group);
            assert_eq!(request["kind"]["version"], version);
            assert_eq!(request["resource"]["resource"], resource, "{object}");
            if namespace.is_empty() {
                assert!(request.get("namespace").is_none(), "{object}");
                assert!(request["object"]["metadata"].get("namespace").is_none());
            } else {
                assert_eq!(request["namespace"], namespace, "{object}");
                assert_eq!(request["object"]["metadata"]["namespace"], namespace);
            }
            assert_eq!(
                request["userInfo"],
                json!({"username": "ci-deployer", "groups": ["deployers", "system:authenticated"]})
            );
        }
    }
}
