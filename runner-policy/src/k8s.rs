//! Kubernetes facts that the request builders share: which resource holds which kind, which
//! kinds have no namespace, and how the API server writes an AdmissionReview.
//! [`crate::audit`] rebuilds reviews from audit events, [`crate::manifest`] from manifests.

use serde_json::{Map, Value, json};

include!("kinds.rs");

/// The kind a resource holds, for the kinds listed.
pub fn kind_of(group: &str, resource: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|(g, r, _, _)| *g == group && *r == resource)
        .map(|(_, _, kind, _)| *kind)
}

/// The resource a kind is served as: the table's, else the lowercase plural the API server's
/// naming convention gives (`Gateway` -> `gateways`, `Policy` -> `policies`).
pub fn resource_of(group: &str, kind: &str) -> String {
    if let Some((_, resource, _, _)) = KINDS.iter().find(|(g, _, k, _)| *g == group && *k == kind) {
        return (*resource).to_owned();
    }
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if lower.ends_with('s') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// Whether objects of this kind have no namespace (unlisted kinds are taken as namespaced).
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    KINDS
        .iter()
        .any(|(g, _, k, namespaced)| *g == group && *k == kind && !namespaced)
}

/// What an AdmissionRequest is made of.
#[derive(Debug, Clone, Default)]
pub struct Parts<'a> {
    pub uid: &'a str,
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    /// The kind's `apiVersion` when it is not the resource's group and version: a
    /// subresource's kind (`serviceaccounts/token` takes an `authentication.k8s.io/v1`
    /// TokenRequest, `pods/eviction` a `policy/v1` Eviction).
    pub kind_api_version: Option<&'a str>,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    pub operation: &'a str,
    pub user_info: Value,
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    pub dry_run: bool,
}

/// The `admission.k8s.io/v1` AdmissionReview the API server sends for `parts`: empty optional
/// fields left out, `object` and `oldObject` always present, and a Namespace's own name as its
/// request namespace (as the API server sets it).
pub fn admission_review(parts: Parts<'_>) -> Value {
    let namespace = if parts.group.is_empty() && parts.resource == "namespaces" {
        parts.name
    } else {
        parts.namespace
    };
    let (kind_group, kind_version) = match parts.kind_api_version {
        Some(v) => v.rsplit_once('/').unwrap_or(("", v)),
        None => (parts.group, parts.version),
    };
    let gvk = json!({"group": kind_group, "version": kind_version, "kind": parts.kind});
    let gvr = json!({"group": parts.group, "version": parts.version, "resource": parts.resource});
    let mut request = Map::new();
    request.insert("uid".into(), parts.uid.into());
    request.insert("kind".into(), gvk.clone());
    request.insert("resource".into(), gvr.clone());
    if !parts.subresource.is_empty() {
        request.insert("subResource".into(), parts.subresource.into());
    }
    request.insert("requestKind".into(), gvk);
    request.insert("requestResource".into(), gvr);
    if !parts.subresource.is_empty() {
        request.insert("requestSubResource".into(), parts.subresource.into());
    }
    if !parts.name.is_empty() {
        request.insert("name".into(), parts.name.into());
    }
    if !namespace.is_empty() {
        request.insert("namespace".into(), namespace.into());
    }
    request.insert("operation".into(), parts.operation.into());
    request.insert("userInfo".into(), parts.user_info);
    request.insert("object".into(), parts.object.unwrap_or(Value::Null));
    request.insert("oldObject".into(), parts.old_object.unwrap_or(Value::Null));
    request.insert("dryRun".into(), parts.dry_run.into());
    json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_resources_and_scopes_come_from_one_table() {
        // (group, kind, resource, cluster-scoped)
        let cases = [
            ("", "Pod", "pods", false),
            (
                "networking.k8s.io",
                "NetworkPolicy",
                "networkpolicies",
                false,
            ),
            (
                "rbac.authorization.k8s.io",
                "ClusterRoleBinding",
                "clusterrolebindings",
                true,
            ),
            ("", "Namespace", "namespaces", true),
            ("networking.k8s.io", "Ingress", "ingresses", false),
            ("gateway.networking.k8s.io", "Gateway", "gateways", false),
            ("example.com", "Policy", "policies", false),
        ];
        for (group, kind, resource, cluster) in cases {
            assert_eq!(resource_of(group, kind), resource, "{kind}");
            assert_eq!(is_cluster_scoped(group, kind), cluster, "{kind}");
            if let Some(back) = kind_of(group, resource) {
                assert_eq!(back, kind);
            }
        }
        assert_eq!(kind_of("", "pods"), Some("Pod"));
        assert_eq!(kind_of("apps", "pods"), None);
    }

    #[test]
    fn a_namespace_is_its_own_request_namespace() {
        let review = |resource, name, namespace| {
            admission_review(Parts {
                resource,
                name,
                namespace,
                ..Parts::default()
            })
        };
        assert_eq!(
            review("namespaces", "team-a", "")["request"]["namespace"],
            "team-a"
        );
        assert_eq!(review("pods", "p", "ns")["request"]["namespace"], "ns");
        assert!(
            review("clusterroles", "c", "")["request"]
                .get("namespace")
                .is_none()
        );
    }
}
