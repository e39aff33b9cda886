//! `admission.k8s.io/v1` AdmissionReviews as the API server sends them to a validating webhook.
//!
//! A small typed struct rather than kube-core's `AdmissionRequest`: kube-core serialises absent
//! `subResource`/`namespace` as `null` and `GroupVersionResource` with an extra `api_version`
//! key, while the API server omits empty optional fields (`omitempty`). `object`, `oldObject` and
//! `options` are `RawExtension`s in Go and so are always present, `null` when empty.

use k8s_openapi::Metadata;
use k8s_openapi::Resource;
use k8s_openapi::api::authentication::v1::{TokenRequest, UserInfo};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use super::fleet::Identity;

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Gvr {
    pub group: String,
    pub version: String,
    pub resource: String,
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

/// The wire form of a review; field order follows the Go struct.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview {
    kind: &'static str,
    api_version: &'static str,
    request: AdmissionRequest,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct AdmissionRequest {
    uid: String,
    kind: Gvk,
    resource: Gvr,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_resource: Option<String>,
    request_kind: Gvk,
    request_resource: Gvr,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_sub_resource: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    namespace: String,
    operation: Operation,
    user_info: UserInfo,
    object: Option<Value>,
    old_object: Option<Value>,
    dry_run: bool,
    options: Option<Options>,
}

/// `meta.k8s.io/v1` CreateOptions, UpdateOptions or DeleteOptions as the API server forwards them.
#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    kind: &'static str,
    api_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dry_run: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) field_manager: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) field_validation: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    propagation_policy: Option<&'static str>,
}

impl Options {
    /// The `kind` options of a write (CREATE, UPDATE) as `identity`'s client sends them.
    fn write(kind: &'static str, identity: Identity) -> Self {
        Self {
            kind,
            api_version: "meta.k8s.io/v1",
            field_manager: identity.field_manager(),
            field_validation: identity.field_validation(),
            ..Self::default()
        }
    }
}

/// A Kubernetes object together with its type and resource, ready to be put in a request.
#[derive(Clone, Debug)]
pub struct Object {
    kind: Gvk,
    resource: Gvr,
    name: String,
    namespace: String,
    value: Value,
}

impl Object {
    /// Any typed k8s-openapi object.
    pub fn of<K>(object: &K) -> Self
    where
        K: Resource + Metadata<Ty = ObjectMeta> + Serialize,
    {
        let meta = object.metadata();
        Self {
            kind: Gvk {
                group: K::GROUP.into(),
                version: K::VERSION.into(),
                kind: K::KIND.into(),
            },
            resource: Gvr {
                group: K::GROUP.into(),
                version: K::VERSION.into(),
                resource: K::URL_PATH_SEGMENT.into(),
            },
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            value: to_value(object),
        }
    }
}

fn to_value(object: &impl Serialize) -> Value {
    // Serialising k8s-openapi types and our own structs into a Value cannot fail: every key is
    // a string and there are no non-finite floats.
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// `core/v1` PodExecOptions, the object of a `pods/exec` CONNECT (k8s-openapi has no type for it).
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PodExecOptions {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub stdout: bool,
    pub stderr: bool,
    pub container: String,
    pub command: Vec<String>,
}

impl PodExecOptions {
    pub fn new(container: &str, command: &[&str]) -> Self {
        Self {
            kind: "PodExecOptions",
            api_version: "v1",
            stdout: true,
            stderr: true,
            container: container.into(),
            command: command.iter().map(|s| (*s).to_string()).collect(),
        }
    }
}

/// One admission request under construction.
#[derive(Clone, Debug)]
pub struct Request {
    pub(super) operation: Operation,
    pub(super) identity: Identity,
    kind: Gvk,
    pub(super) resource: Gvr,
    pub(super) sub_resource: Option<String>,
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) object: Option<Value>,
    pub(super) old_object: Option<Value>,
    pub(super) dry_run: bool,
    pub(super) options: Option<Options>,
}

impl Request {
    fn new(operation: Operation, identity: Identity, template: &Object) -> Self {
        // The API server gives a Namespace's requests its own name as their namespace.
        let namespace = if template.kind.group.is_empty() && template.kind.kind == "Namespace" {
            template.name.clone()
        } else {
            template.namespace.clone()
        };
        Self {
            operation,
            identity,
            kind: template.kind.clone(),
            resource: template.resource.clone(),
            sub_resource: None,
            name: template.name.clone(),
            namespace,
            object: None,
            old_object: None,
            dry_run: false,
            options: None,
        }
    }

    /// CREATE of `object` with the CreateOptions the caller's client sends.
    pub fn create(identity: Identity, object: Object) -> Self {
        let options = Options::write("CreateOptions", identity);
        Self {
            object: Some(object.value.clone()),
            options: Some(options),
            ..Self::new(Operation::Create, identity, &object)
        }
    }

    /// UPDATE from `old` to `new`.
    pub fn update(identity: Identity, old: Object, new: Object) -> Self {
        let options = Options::write("UpdateOptions", identity);
        Self {
            object: Some(new.value.clone()),
            old_object: Some(old.value),
            options: Some(options),
            ..Self::new(Operation::Update, identity, &new)
        }
    }

    /// DELETE of `old` (the API server sends the stored object as `oldObject`).
    pub fn delete(identity: Identity, old: Object, propagation: Option<&'static str>) -> Self {
        let options = Options {
            kind: "DeleteOptions",
            api_version: "meta.k8s.io/v1",
            propagation_policy: propagation,
            ..Options::default()
        };
        Self {
            old_object: Some(old.value.clone()),
            options: Some(options),
            ..Self::new(Operation::Delete, identity, &old)
        }
    }

    /// CONNECT to `pods/exec` of a pod; the object is the PodExecOptions, `options` is empty.
    pub fn exec(identity: Identity, namespace: &str, pod: &str, exec: &PodExecOptions) -> Self {
        Self {
            operation: Operation::Connect,
            identity,
            kind: Gvk {
                group: String::new(),
                version: "v1".into(),
                kind: exec.kind.into(),
            },
            resource: Gvr {
                group: String::new(),
                version: "v1".into(),
                resource: "pods".into(),
            },
            sub_resource: Some("exec".into()),
            name: pod.into(),
            namespace: namespace.into(),
            object: Some(to_value(exec)),
            old_object: None,
            dry_run: false,
            options: None,
        }
    }

    /// CREATE on `serviceaccounts/token` of ServiceAccount `sa` (what `kubectl create token sa`
    /// sends): the object is a TokenRequest, the request names the ServiceAccount.
    pub fn token_request(identity: Identity, sa: &str, token: &TokenRequest) -> Self {
        let mut request = Self::create(identity, Object::of(token));
        request.name = sa.into();
        request.resource = Gvr {
            group: String::new(),
            version: "v1".into(),
            resource: "serviceaccounts".into(),
        };
        request.subresource("token")
    }

    /// Address a subresource (e.g. `ephemeralcontainers`) of the object.
    pub fn subresource(mut self, sub_resource: &str) -> Self {
        self.sub_resource = Some(sub_resource.into());
        self
    }

    /// A server-side dry run (`kubectl ... --dry-run=server`).
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        if let Some(options) = &mut self.options {
            options.dry_run = Some(vec!["All"]);
        }
        self
    }

    /// The field manager the client names (Helm: `helm`).
    pub fn field_manager(mut self, manager: &'static str) -> Self {
        if let Some(options) = &mut self.options {
            options.field_manager = Some(manager);
        }
        self
    }

    /// The finished review; `uid` is the request uid.
    pub fn review(self, uid: String) -> AdmissionReview {
        AdmissionReview {
            kind: "AdmissionReview",
            api_version: "admission.k8s.io/v1",
            request: AdmissionRequest {
                uid,
                request_kind: self.kind.clone(),
                request_resource: self.resource.clone(),
                request_sub_resource: self.sub_resource.clone(),
                kind: self.kind,
                resource: self.resource,
                sub_resource: self.sub_resource,
                name: self.name,
                namespace: self.namespace,
                operation: self.operation,
                user_info: self.identity.user_info(),
                object: self.object,
                old_object: self.old_object,
                dry_run: self.dry_run,
                options: self.options,
            },
        }
    }
}
