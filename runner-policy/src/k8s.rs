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

/// What an AdmissionRequest is made of; the user and the objects as `O`: trees ([`Value`]) or
/// JSON text (`&str`).
#[derive(Debug, Clone, Default)]
pub struct Parts<'a, O = Value> {
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
    pub user_info: O,
    pub object: Option<O>,
    pub old_object: Option<O>,
    pub dry_run: bool,
}

impl<O> Parts<'_, O> {
    /// The request's namespace: a Namespace's own name (as the API server sets it).
    fn request_namespace(&self) -> &str {
        if self.group.is_empty() && self.resource == "namespaces" {
            self.name
        } else {
            self.namespace
        }
    }

    /// The group and version of the request's kind.
    fn kind_group_version(&self) -> (&str, &str) {
        match self.kind_api_version {
            Some(v) => v.rsplit_once('/').unwrap_or(("", v)),
            None => (self.group, self.version),
        }
    }
}

/// The `admission.k8s.io/v1` AdmissionReview the API server sends for `parts`: empty optional
/// fields left out, `object` and `oldObject` always present, and a Namespace's own name as its
/// request namespace (as the API server sets it).
pub fn admission_review(parts: Parts<'_>) -> Value {
    let namespace = parts.request_namespace();
    let (kind_group, kind_version) = parts.kind_group_version();
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

/// [`admission_review`] written as JSON text to `out`, the user and the objects spliced in as
/// the JSON texts they are: what a replay hands the module, without a tree of each object.
pub fn write_admission_review(parts: &Parts<'_, &str>, out: &mut Vec<u8>) {
    let namespace = parts.request_namespace();
    let (kind_group, kind_version) = parts.kind_group_version();
    let gvk = |out: &mut Vec<u8>| {
        out.extend_from_slice(br#"{"group":"#);
        string(out, kind_group);
        out.extend_from_slice(br#","version":"#);
        string(out, kind_version);
        out.extend_from_slice(br#","kind":"#);
        string(out, parts.kind);
        out.push(b'}');
    };
    let gvr = |out: &mut Vec<u8>| {
        out.extend_from_slice(br#"{"group":"#);
        string(out, parts.group);
        out.extend_from_slice(br#","version":"#);
        string(out, parts.version);
        out.extend_from_slice(br#","resource":"#);
        string(out, parts.resource);
        out.push(b'}');
    };
    let field = |out: &mut Vec<u8>, key: &[u8]| {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key);
        out.extend_from_slice(b"\":");
    };
    out.extend_from_slice(
        br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"#,
    );
    string(out, parts.uid);
    field(out, b"kind");
    gvk(out);
    field(out, b"resource");
    gvr(out);
    if !parts.subresource.is_empty() {
        field(out, b"subResource");
        string(out, parts.subresource);
    }
    field(out, b"requestKind");
    gvk(out);
    field(out, b"requestResource");
    gvr(out);
    if !parts.subresource.is_empty() {
        field(out, b"requestSubResource");
        string(out, parts.subresource);
    }
    if !parts.name.is_empty() {
        field(out, b"name");
        string(out, parts.name);
    }
    if !namespace.is_empty() {
        field(out, b"namespace");
        string(out, namespace);
    }
    field(out, b"operation");
    string(out, parts.operation);
    field(out, b"userInfo");
    out.extend_from_slice(parts.user_info.as_bytes());
    field(out, b"object");
    out.extend_from_slice(parts.object.unwrap_or("null").as_bytes());
    field(out, b"oldObject");
    out.extend_from_slice(parts.old_object.unwrap_or("null").as_bytes());
    field(out, b"dryRun");
    out.extend_from_slice(if parts.dry_run { b"true" } else { b"false" });
    out.extend_from_slice(b"}}");
}

/// `text` as a JSON string, escaped as `serde_json` escapes it.
fn string(out: &mut Vec<u8>, text: &str) {
    // Writing to a `Vec` cannot fail.
    let _ = serde_json::to_writer(out, text);
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
    #[test]
    fn a_review_written_as_text_reads_as_the_tree() {
        // (parts, with the user and objects as JSON text)
        let user = r#"{"username":"a\"b","groups":["g\u00e9",null]}"#;
        let pod = r#"{ "kind" : "Pod", "metadata": {"name": "p\n日本"}, "spec": {"n": -1.5} }"#;
        let cases = [
            Parts {
                uid: "u",
                resource: "pods",
                version: "v1",
                kind: "Pod",
                operation: "CREATE",
                user_info: "{}",
                ..Parts::default()
            },
            Parts {
                uid: "\"quoted\" \\ back\\slash\u{1}\t",
                group: "apps",
                version: "v1",
                kind: "Deployment",
                resource: "deployments",
                subresource: "status",
                name: "é 日本 \u{1F600}",
                namespace: "ns",
                operation: "UPDATE",
                user_info: user,
                object: Some(pod),
                old_object: Some("null"),
                dry_run: true,
                ..Parts::default()
            },
            Parts {
                uid: "e",
                version: "v1",
                kind: "Eviction",
                kind_api_version: Some("policy/v1"),
                resource: "pods",
                subresource: "eviction",
                name: "p",
                namespace: "ns",
                operation: "CREATE",
                user_info: user,
                object: Some(r#"{"kind":"Eviction"}"#),
                ..Parts::default()
            },
            Parts {
                resource: "namespaces",
                name: "team-a",
                namespace: "ignored",
                operation: "DELETE",
                user_info: "[]",
                old_object: Some(pod),
                ..Parts::default()
            },
        ];
        for parts in cases {
            let tree = |text: &str| serde_json::from_str::<Value>(text).unwrap();
            let want = admission_review(Parts {
                uid: parts.uid,
                group: parts.group,
                version: parts.version,
                kind: parts.kind,
                kind_api_version: parts.kind_api_version,
                resource: parts.resource,
                subresource: parts.subresource,
                name: parts.name,
                namespace: parts.namespace,
                operation: parts.operation,
                user_info: tree(parts.user_info),
                object: parts.object.map(tree),
                old_object: parts.old_object.map(tree),
                dry_run: parts.dry_run,
            });
            let mut text = Vec::new();
            write_admission_review(&parts, &mut text);
            let got: Value = serde_json::from_slice(&text).unwrap();
            assert_eq!(got, want, "{}", String::from_utf8_lossy(&text));
        }
    }
}
