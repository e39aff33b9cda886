//! The object under review, parsed into the shape of its kind.

use super::de::{List, Pairs, Str};
use super::pod::{ObjectMeta, PodSpec};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The object of a request, in the shape of its kind. Kinds no rule reads in depth keep only
/// their metadata.
#[derive(Debug, Clone)]
pub enum Object<'a> {
    /// DELETE and CONNECT carry no new object.
    Absent,
    Pod(PodObject<'a>),
    /// A workload whose pod template sits at `prefix` (`spec.template.`, ...).
    Workload(Workload<'a>),
    Role(RoleObject<'a>),
    ClusterRole(RoleObject<'a>),
    RoleBinding(BindingObject<'a>),
    ClusterRoleBinding(BindingObject<'a>),
    Secret(DataObject<'a>),
    ConfigMap(DataObject<'a>),
    NetworkPolicy(NetworkPolicyObject<'a>),
    Other(MetaOnly<'a>),
}

/// One pod spec to judge, wherever it sits in the object.
#[derive(Debug, Clone, Copy)]
pub struct PodView<'o, 'a> {
    /// Field path of the pod template (empty for a Pod), ending in `.` when not empty.
    pub prefix: &'static str,
    /// The pod's own metadata (the template's, for workloads).
    pub meta: &'o ObjectMeta<'a>,
    pub spec: &'o PodSpec<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetaOnly<'a> {
    #[serde(borrow, default)]
    pub metadata: ObjectMeta<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodObject<'a> {
    #[serde(borrow, default)]
    pub metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    pub spec: PodSpec<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodTemplateSpec<'a> {
    #[serde(borrow, default)]
    pub metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    pub spec: PodSpec<'a>,
}

#[derive(Debug, Clone, Default)]
pub struct Workload<'a> {
    pub metadata: ObjectMeta<'a>,
    pub prefix: &'static str,
    pub template: PodTemplateSpec<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule<'a> {
    #[serde(borrow, default)]
    pub api_groups: List<Str<'a>>,
    #[serde(borrow, default)]
    pub resources: List<Str<'a>>,
    #[serde(borrow, default)]
    pub verbs: List<Str<'a>>,
    #[serde(borrow, default)]
    pub resource_names: List<Str<'a>>,
    #[serde(borrow, default, rename = "nonResourceURLs")]
    pub non_resource_urls: List<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoleObject<'a> {
    #[serde(borrow, default)]
    pub metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    pub rules: List<PolicyRule<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef<'a> {
    #[serde(borrow, default)]
    pub api_group: Str<'a>,
    #[serde(borrow, default)]
    pub kind: Str<'a>,
    #[serde(borrow, default)]
    pub name: Str<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject<'a> {
    #[serde(borrow, default)]
    pub kind: Str<'a>,
    #[serde(borrow, default)]
    pub name: Str<'a>,
    #[serde(borrow, default)]
    pub namespace: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingObject<'a> {
    #[serde(borrow, default)]
    pub metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    pub role_ref: RoleRef<'a>,
    #[serde(borrow, default)]
    pub subjects: List<Subject<'a>>,
}

/// A Secret or ConfigMap: only the keys of its data matter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataObject<'a> {
    #[serde(borrow, default)]
    pub metadata: ObjectMeta<'a>,
    #[serde(borrow, default, rename = "type")]
    pub secret_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub data: Pairs<'a>,
    #[serde(borrow, default)]
    pub string_data: Pairs<'a>,
    #[serde(borrow, default)]
    pub binary_data: Pairs<'a>,
}

impl DataObject<'_> {
    /// Every data key with the field it sits in.
    pub fn keys(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let fields = [("data", &self.data), ("stringData", &self.string_data), ("binaryData", &self.binary_data)];
        fields
            .into_iter()
            .flat_map(|(field, pairs)| pairs.0.iter().map(move |(k, _)| (field, k.as_ref())))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NetworkPolicyObject<'a> {
    #[serde(borrow, default)]
    pub metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    pub spec: NetworkPolicySpec<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NetworkPolicySpec<'a> {
    #[serde(borrow, default)]
    pub egress: List<EgressRule<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EgressRule<'a> {
    /// `None`: the rule has no `to`, so it allows every destination.
    #[serde(borrow, default)]
    pub to: Option<Vec<Peer<'a>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer<'a> {
    #[serde(borrow, default)]
    pub namespace_selector: Option<LabelSelector<'a>>,
    #[serde(borrow, default)]
    pub pod_selector: Option<LabelSelector<'a>>,
    #[serde(default)]
    pub ip_block: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector<'a> {
    #[serde(borrow, default)]
    pub match_labels: Pairs<'a>,
    #[serde(borrow, default)]
    pub match_expressions: List<SelectorRequirement<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SelectorRequirement<'a> {
    #[serde(borrow, default)]
    pub key: Str<'a>,
    #[serde(borrow, default)]
    pub operator: Str<'a>,
    #[serde(borrow, default)]
    pub values: List<Str<'a>>,
}

#[derive(Default, Deserialize)]
struct TemplateOnly<'a> {
    #[serde(borrow, default)]
    template: PodTemplateSpec<'a>,
}

#[derive(Default, Deserialize)]
struct WithSpec<T> {
    #[serde(default)]
    spec: Option<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobTemplateOnly<'a> {
    #[serde(borrow, default)]
    job_template: Option<WithSpec<TemplateOnly<'a>>>,
}

#[derive(Deserialize)]
struct SpecWorkload<'a> {
    #[serde(borrow, default)]
    metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    spec: Option<TemplateOnly<'a>>,
}

#[derive(Deserialize)]
struct CronWorkload<'a> {
    #[serde(borrow, default)]
    metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    spec: Option<JobTemplateOnly<'a>>,
}

#[derive(Deserialize)]
struct PodTemplateObject<'a> {
    #[serde(borrow, default)]
    metadata: ObjectMeta<'a>,
    #[serde(borrow, default)]
    template: PodTemplateSpec<'a>,
}

/// How a kind is read.
enum Shape {
    Pod,
    SpecTemplate,
    CronJob,
    PodTemplate,
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
    Secret,
    ConfigMap,
    NetworkPolicy,
    Other,
}

fn shape(group: &str, kind: &str) -> Shape {
    match (group, kind) {
        ("", "Pod") => Shape::Pod,
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job")
        | ("", "ReplicationController") => Shape::SpecTemplate,
        ("batch", "CronJob") => Shape::CronJob,
        ("", "PodTemplate") => Shape::PodTemplate,
        ("rbac.authorization.k8s.io", "Role") => Shape::Role,
        ("rbac.authorization.k8s.io", "ClusterRole") => Shape::ClusterRole,
        ("rbac.authorization.k8s.io", "RoleBinding") => Shape::RoleBinding,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => Shape::ClusterRoleBinding,
        ("", "Secret") => Shape::Secret,
        ("", "ConfigMap") => Shape::ConfigMap,
        ("networking.k8s.io", "NetworkPolicy") => Shape::NetworkPolicy,
        _ => Shape::Other,
    }
}

impl<'a> Object<'a> {
    /// Parses a raw object as the kind the request names.
    ///
    /// # Errors
    /// The object does not have the shape of its kind (a field of the wrong type).
    pub fn parse(group: &str, kind: &str, raw: Option<&'a RawValue>) -> Result<Object<'a>, serde_json::Error> {
        let Some(raw) = raw else {
            return Ok(Object::Absent);
        };
        let json = raw.get();
        let workload = |metadata, prefix, template: Option<PodTemplateSpec<'a>>| {
            Object::Workload(Workload {
                metadata,
                prefix,
                template: template.unwrap_or_default(),
            })
        };
        Ok(match shape(group, kind) {
            Shape::Pod => Object::Pod(serde_json::from_str(json)?),
            Shape::SpecTemplate => {
                let w: SpecWorkload = serde_json::from_str(json)?;
                workload(w.metadata, "spec.template.", w.spec.map(|s| s.template))
            }
            Shape::CronJob => {
                let w: CronWorkload = serde_json::from_str(json)?;
                let template = w.spec.and_then(|s| s.job_template).and_then(|j| j.spec).map(|s| s.template);
                workload(w.metadata, "spec.jobTemplate.spec.template.", template)
            }
            Shape::PodTemplate => {
                let w: PodTemplateObject = serde_json::from_str(json)?;
                workload(w.metadata, "template.", Some(w.template))
            }
            Shape::Role => Object::Role(serde_json::from_str(json)?),
            Shape::ClusterRole => Object::ClusterRole(serde_json::from_str(json)?),
            Shape::RoleBinding => Object::RoleBinding(serde_json::from_str(json)?),
            Shape::ClusterRoleBinding => Object::ClusterRoleBinding(serde_json::from_str(json)?),
            Shape::Secret => Object::Secret(serde_json::from_str(json)?),
            Shape::ConfigMap => Object::ConfigMap(serde_json::from_str(json)?),
            Shape::NetworkPolicy => Object::NetworkPolicy(serde_json::from_str(json)?),
            Shape::Other => Object::Other(serde_json::from_str(json)?),
        })
    }

    /// The object's own metadata, when there is an object.
    pub fn meta(&self) -> Option<&ObjectMeta<'a>> {
        match self {
            Object::Absent => None,
            Object::Pod(o) => Some(&o.metadata),
            Object::Workload(o) => Some(&o.metadata),
            Object::Role(o) | Object::ClusterRole(o) => Some(&o.metadata),
            Object::RoleBinding(o) | Object::ClusterRoleBinding(o) => Some(&o.metadata),
            Object::Secret(o) | Object::ConfigMap(o) => Some(&o.metadata),
            Object::NetworkPolicy(o) => Some(&o.metadata),
            Object::Other(o) => Some(&o.metadata),
        }
    }

    /// The pod spec this object runs, if it runs one.
    pub fn pod(&self) -> Option<PodView<'_, 'a>> {
        match self {
            Object::Pod(p) => Some(PodView {
                prefix: "",
                meta: &p.metadata,
                spec: &p.spec,
            }),
            Object::Workload(w) => Some(PodView {
                prefix: w.prefix,
                meta: &w.template.metadata,
                spec: &w.template.spec,
            }),
            _ => None,
        }
    }
}

/// The raw pod-bearing part of an object (`spec`, or `template` for a PodTemplate), to tell
/// whether an UPDATE changed what runs.
pub fn raw_pod_part<'a>(kind: &str, raw: &'a RawValue) -> Option<&'a RawValue> {
    #[derive(Deserialize)]
    struct Parts<'a> {
        #[serde(borrow, default)]
        spec: Option<&'a RawValue>,
        #[serde(borrow, default)]
        template: Option<&'a RawValue>,
    }
    let parts: Parts<'a> = serde_json::from_str(raw.get()).ok()?;
    if kind == "PodTemplate" { parts.template } else { parts.spec }
}
