//! The object under review, parsed into the shape of its kind.

use super::de::{List, Pairs, Str};
use super::json::{FromJson, Json, JsonError, Kind, Reader, Slot, read, same_bytes};
use super::pod::{Container, ContainerList, EnvVar, ObjectMeta, PodSpec, Volume};
use alloc::{boxed::Box, format, vec::Vec};
use json_pass::{common_prefix, from_json};

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
    /// For an UPDATE of a Pod that changes only containers: the containers it leaves as they
    /// were (see [`PodSpec::containers_but`]), which the rules do not judge again, nor the
    /// pod-level fields. `None`: the whole pod is judged.
    pub unchanged: Option<[u64; 3]>,
    /// The containers to judge, listed once per evaluation (see [`PodView::new`]).
    judged: &'o [ContainerAt<'o, 'a>],
}

/// A container with its list and its index there.
pub type ContainerAt<'o, 'a> = (ContainerList, usize, &'o Container<'a>);

/// Where an object keeps the pod spec it runs: the field path prefix of the template (as
/// [`PodView::prefix`]), the pod's metadata and its spec.
pub type PodAt<'o, 'a> = (&'static str, &'o ObjectMeta<'a>, &'o PodSpec<'a>);

impl<'o, 'a> PodView<'o, 'a> {
    /// The pod an object keeps where [`Object::pod_parts`] found it, judging the containers
    /// `judged`: every one but those whose bit is set in `unchanged`
    /// ([`PodSpec::containers_but`]), listed once per evaluation.
    pub fn new(
        (prefix, meta, spec): PodAt<'o, 'a>,
        unchanged: Option<[u64; 3]>,
        judged: &'o [ContainerAt<'o, 'a>],
    ) -> Self {
        PodView {
            prefix,
            meta,
            spec,
            unchanged,
            judged,
        }
    }

    /// The containers to judge: every one, or those an UPDATE adds or changes. A slice walk:
    /// every pod rule walks them, and a cursor over the three lists is a call per container.
    pub fn containers(&self) -> core::iter::Copied<core::slice::Iter<'o, ContainerAt<'o, 'a>>> {
        self.judged.iter().copied()
    }

    /// Whether the pod-level fields are judged (not when an UPDATE left them as they were).
    pub fn whole(&self) -> bool {
        self.unchanged.is_none()
    }

    /// The volumes to judge: none when an UPDATE left them as they were.
    pub fn volumes(&self) -> &'o [Volume<'a>] {
        if self.whole() {
            &self.spec.volumes
        } else {
            &[]
        }
    }

    /// Every env var of every container, with where it sits (formatted only when a rule reports
    /// it: a job pod carries dozens of CI variables per container) and its container.
    pub fn env_vars(&self) -> EnvVars<'o, 'a> {
        EnvVars {
            prefix: self.prefix,
            containers: self.judged.iter(),
            current: None,
            next: 0,
        }
    }
}

/// The env vars of a pod's containers: a cursor over the containers to judge (several rules
/// walk every env var, and a job pod has dozens).
#[derive(Debug, Clone)]
pub struct EnvVars<'o, 'a> {
    prefix: &'static str,
    containers: core::slice::Iter<'o, ContainerAt<'o, 'a>>,
    /// The container being walked, and the index of its next env var.
    current: Option<(ContainerList, usize, &'o Container<'a>)>,
    next: usize,
}

impl<'o, 'a> Iterator for EnvVars<'o, 'a> {
    type Item = (EnvPath, &'o Container<'a>, &'o EnvVar<'a>);

    #[inline(always)] // two rules walk it: in place, each is smaller and a call per env var fewer
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((list, i, c)) = self.current
                && let Some(env) = c.env.get(self.next)
            {
                let j = self.next;
                self.next = j.saturating_add(1);
                let at = EnvPath {
                    prefix: self.prefix,
                    list,
                    i,
                    j,
                };
                return Some((at, c, env));
            }
            self.current = Some(*self.containers.next()?);
            self.next = 0;
        }
    }
}

/// The field path of one env var: `spec.containers[0].env[3]` (under the template prefix).
#[derive(Debug, Clone, Copy)]
pub struct EnvPath {
    prefix: &'static str,
    list: ContainerList,
    i: usize,
    j: usize,
}

impl core::fmt::Display for EnvPath {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}spec.{}[{}].env[{}]",
            self.prefix,
            self.list.field(),
            self.i,
            self.j
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct MetaOnly<'a> {
    pub metadata: ObjectMeta<'a>,
}

from_json!(MetaOnly<'a> { metadata: "metadata" });

/// A pod spec is `None` only while it is read: an object without one is refused.
#[derive(Debug, Clone, Default)]
pub struct PodObject<'a> {
    pub metadata: ObjectMeta<'a>,
    pub spec: Option<WithText<'a, PodSpec<'a>>>,
}

/// A value and the text it was read from: an UPDATE compares the two pod specs' texts, which
/// a second walk over each object would otherwise find again.
#[derive(Debug, Clone, Default)]
pub struct WithText<'a, T> {
    pub value: T,
    pub text: Json<'a>,
}

impl<'a, T: Slot<'a>> Slot<'a> for WithText<'a, T> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        let start = r.mark();
        self.value.fill(r)?;
        self.text = r.since(start);
        Ok(())
    }
}

from_json!(PodObject<'a> { metadata: "metadata", spec: "spec" });

#[derive(Debug, Clone, Default)]
pub struct PodTemplateSpec<'a> {
    pub metadata: ObjectMeta<'a>,
    /// With its text only because a Pod's spec has it: one reader for both.
    pub spec: Option<WithText<'a, PodSpec<'a>>>,
}

from_json!(PodTemplateSpec<'a> { metadata: "metadata", spec: "spec" });

#[derive(Debug, Clone, Default)]
pub struct Workload<'a> {
    pub metadata: ObjectMeta<'a>,
    pub prefix: &'static str,
    pub template: PodTemplateSpec<'a>,
}

#[derive(Debug, Clone, Default)]
pub struct PolicyRule<'a> {
    pub api_groups: List<Str<'a>>,
    pub resources: List<Str<'a>>,
    pub verbs: List<Str<'a>>,
    pub resource_names: List<Str<'a>>,
    pub non_resource_urls: List<Str<'a>>,
}

from_json!(PolicyRule<'a> { api_groups: "apiGroups", resources: "resources", resource_names: "resourceNames", verbs: "verbs", non_resource_urls: "nonResourceURLs" });

#[derive(Debug, Clone, Default)]
pub struct RoleObject<'a> {
    pub metadata: ObjectMeta<'a>,
    pub rules: List<PolicyRule<'a>>,
}

from_json!(RoleObject<'a> { metadata: "metadata", rules: "rules" });

#[derive(Debug, Clone, Default)]
pub struct RoleRef<'a> {
    pub api_group: Str<'a>,
    pub kind: Str<'a>,
    pub name: Str<'a>,
}

from_json!(RoleRef<'a> { api_group: "apiGroup", kind: "kind", name: "name" });

#[derive(Debug, Clone, Default)]
pub struct Subject<'a> {
    pub kind: Str<'a>,
    pub name: Str<'a>,
    pub namespace: Option<Str<'a>>,
}

from_json!(Subject<'a> { kind: "kind", name: "name", namespace: "namespace" });

#[derive(Debug, Clone, Default)]
pub struct BindingObject<'a> {
    pub metadata: ObjectMeta<'a>,
    pub role_ref: RoleRef<'a>,
    pub subjects: List<Subject<'a>>,
}

from_json!(BindingObject<'a> { metadata: "metadata", role_ref: "roleRef", subjects: "subjects" });

/// A Secret or ConfigMap: only the keys of its data matter.
#[derive(Debug, Clone, Default)]
pub struct DataObject<'a> {
    pub metadata: ObjectMeta<'a>,
    pub secret_type: Option<Str<'a>>,
    pub data: Pairs<'a>,
    pub string_data: Pairs<'a>,
    pub binary_data: Pairs<'a>,
}

from_json!(DataObject<'a> { metadata: "metadata", secret_type: "type", data: "data", string_data: "stringData", binary_data: "binaryData" });

impl DataObject<'_> {
    /// Every data key that `wanted` picks, with the field it sits in. One plain loop shared by
    /// the rules that look for keys: an iterator per caller costs the module a kilobyte each.
    pub fn keys_where(&self, wanted: fn(&str) -> bool) -> Vec<(&'static str, &str)> {
        let mut found = Vec::new();
        for (field, pairs) in [
            ("data", &self.data),
            ("stringData", &self.string_data),
            ("binaryData", &self.binary_data),
        ] {
            for (key, _) in &pairs.0 {
                if wanted(key) {
                    found.push((field, key.as_ref()));
                }
            }
        }
        found
    }
}

#[derive(Debug, Clone, Default)]
pub struct NetworkPolicyObject<'a> {
    pub metadata: ObjectMeta<'a>,
    pub spec: NetworkPolicySpec<'a>,
}

from_json!(NetworkPolicyObject<'a> { metadata: "metadata", spec: "spec" });

#[derive(Debug, Clone, Default)]
pub struct NetworkPolicySpec<'a> {
    pub egress: List<EgressRule<'a>>,
}

from_json!(NetworkPolicySpec<'a> { egress: "egress" });

#[derive(Debug, Clone, Default)]
pub struct EgressRule<'a> {
    /// `None`: the rule has no `to`, so it allows every destination.
    pub to: Option<Vec<Peer<'a>>>,
}

from_json!(EgressRule<'a> { to: "to" });

#[derive(Debug, Clone, Default)]
pub struct Peer<'a> {
    pub namespace_selector: Option<LabelSelector<'a>>,
    pub pod_selector: Option<LabelSelector<'a>>,
    pub ip_block: Option<Json<'a>>,
}

from_json!(Peer<'a> { namespace_selector: "namespaceSelector", pod_selector: "podSelector", ip_block: "ipBlock" });

#[derive(Debug, Clone, Default)]
pub struct LabelSelector<'a> {
    pub match_labels: Pairs<'a>,
    pub match_expressions: List<SelectorRequirement<'a>>,
}

from_json!(LabelSelector<'a> { match_labels: "matchLabels", match_expressions: "matchExpressions" });

#[derive(Debug, Clone, Default)]
pub struct SelectorRequirement<'a> {
    pub key: Str<'a>,
    pub operator: Str<'a>,
    pub values: List<Str<'a>>,
}

from_json!(SelectorRequirement<'a> { key: "key", operator: "operator", values: "values" });

#[derive(Default)]
struct TemplateOnly<'a> {
    template: PodTemplateSpec<'a>,
}
from_json!(TemplateOnly<'a> { template: "template" });

#[derive(Default)]
struct JobSpec<'a> {
    spec: Option<TemplateOnly<'a>>,
}
from_json!(JobSpec<'a> { spec: "spec" });

#[derive(Default)]
struct CronJobSpec<'a> {
    job_template: Option<JobSpec<'a>>,
}
from_json!(CronJobSpec<'a> { job_template: "jobTemplate" });

#[derive(Default)]
struct SpecWorkload<'a> {
    metadata: ObjectMeta<'a>,
    spec: Option<TemplateOnly<'a>>,
}
from_json!(SpecWorkload<'a> { metadata: "metadata", spec: "spec" });

#[derive(Default)]
struct CronWorkload<'a> {
    metadata: ObjectMeta<'a>,
    spec: Option<CronJobSpec<'a>>,
}
from_json!(CronWorkload<'a> { metadata: "metadata", spec: "spec" });

#[derive(Default)]
struct PodTemplateObject<'a> {
    metadata: ObjectMeta<'a>,
    template: PodTemplateSpec<'a>,
}
from_json!(PodTemplateObject<'a> { metadata: "metadata", template: "template" });

#[derive(Default)]
struct PodParts<'a> {
    spec: Option<Json<'a>>,
    template: Option<Json<'a>>,
}
from_json!(PodParts<'a> { spec: "spec", template: "template" });

/// How a kind is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
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

/// Whether objects of this kind carry a pod spec that the pod rules judge (a Pod, a workload's
/// template, a CronJob's job template, a PodTemplate): the kinds whose previous state an
/// UPDATE is compared with. For host tools; left out of the module, where a second caller of
/// `shape` changed its inlining (86 bytes).
#[cfg(not(target_arch = "wasm32"))]
pub fn carries_pod(group: &str, kind: &str) -> bool {
    matches!(
        shape(group, kind),
        Shape::Pod | Shape::SpecTemplate | Shape::CronJob | Shape::PodTemplate
    )
}

impl Shape {
    pub(crate) fn of(group: &str, kind: &str) -> Shape {
        shape(group, kind)
    }
}

fn shape(group: &str, kind: &str) -> Shape {
    // The kind of nearly every request, without the `memcmp` call (a byte loop in wasm) that
    // each string pattern below costs.
    if group.is_empty() && same_bytes(kind.as_bytes(), b"Pod") {
        return Shape::Pod;
    }
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
    /// Reads an object kept as text as the kind the request names.
    ///
    /// # Errors
    /// The object does not have the shape of its kind (a field of the wrong type).
    pub fn parse(group: &str, kind: &str, raw: Option<Json<'a>>) -> Result<Object<'a>, JsonError> {
        let mut object = Object::Absent;
        if let Some(json) = raw {
            object.read_into(shape(group, kind), &mut Reader::over(json))?;
        }
        Ok(object)
    }

    /// Reads the object at the reader's cursor into `self` in the shape `shape`: a Pod where
    /// it lies.
    ///
    /// # Errors
    /// The object does not have the shape (a field of the wrong type), or is not JSON.
    pub(crate) fn read_into(&mut self, shape: Shape, r: &mut Reader<'a>) -> Result<(), JsonError> {
        match shape {
            Shape::Pod => {
                *self = Object::Pod(PodObject::default());
                if let Object::Pod(pod) = self {
                    pod.fill(r)?;
                }
            }
            _ => *self = Object::read(shape, r)?,
        }
        // The API server always sends the pod spec of a pod-bearing object (its Go types have
        // no way to leave it out): one that is missing or null is no pod to judge as empty.
        let prefix = match self {
            Object::Pod(p) if p.spec.is_none() => "",
            Object::Workload(w) if w.template.spec.is_none() => w.prefix,
            _ => return Ok(()),
        };
        Err(JsonError::new(format!(
            "{prefix}spec is missing or null, so there is no pod spec to judge"
        )))
    }

    /// Reads the object at the reader's cursor in the shape `shape`.
    fn read(shape: Shape, r: &mut Reader<'a>) -> Result<Object<'a>, JsonError> {
        let workload = |metadata, prefix, template: Option<PodTemplateSpec<'a>>| {
            Object::Workload(Workload {
                metadata,
                prefix,
                template: template.unwrap_or_default(),
            })
        };
        let object = match shape {
            Shape::Pod => Object::Pod(read(r)?),
            Shape::SpecTemplate => {
                let w: SpecWorkload = read(r)?;
                workload(w.metadata, "spec.template.", w.spec.map(|s| s.template))
            }
            Shape::CronJob => {
                let w: CronWorkload = read(r)?;
                let template = w
                    .spec
                    .and_then(|s| s.job_template)
                    .and_then(|j| j.spec)
                    .map(|s| s.template);
                workload(w.metadata, "spec.jobTemplate.spec.template.", template)
            }
            Shape::PodTemplate => {
                let w: PodTemplateObject = read(r)?;
                workload(w.metadata, "template.", Some(w.template))
            }
            Shape::Role => Object::Role(read(r)?),
            Shape::ClusterRole => Object::ClusterRole(read(r)?),
            Shape::RoleBinding => Object::RoleBinding(read(r)?),
            Shape::ClusterRoleBinding => Object::ClusterRoleBinding(read(r)?),
            Shape::Secret => Object::Secret(read(r)?),
            Shape::ConfigMap => Object::ConfigMap(read(r)?),
            Shape::NetworkPolicy => Object::NetworkPolicy(read(r)?),
            Shape::Other => Object::Other(read(r)?),
        };
        Ok(object)
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

    /// The pod spec this object runs, if it runs one: its template path prefix, metadata and
    /// spec.
    pub fn pod_parts(&self) -> Option<PodAt<'_, 'a>> {
        match self {
            Object::Pod(p) => Some(("", &p.metadata, &p.spec.as_ref()?.value)),
            Object::Workload(w) => Some((
                w.prefix,
                &w.template.metadata,
                &w.template.spec.as_ref()?.value,
            )),
            _ => None,
        }
    }
}

/// What an UPDATE of an object of `group` and `kind` changed in the pod it runs: whether the pod-bearing
/// part (`spec`, or a PodTemplate's `template`) changed at all, and for a Pod, the containers
/// it left as they were (`unchanged_containers`). `object` is the new object and `old_read`
/// the old one as the request's pass read them (`None`: the pass kept the old one as text
/// only), `new` and `old` the two objects' texts. A Pod's spec texts come from its reads as a
/// pod (the old one's also tells whether the rules could read it; it is read here when the
/// pass did not); other kinds', and an unreadable old Pod's, from a walk over the object.
pub fn update_change<'a>(
    group: &str,
    kind: &str,
    object: &Object<'a>,
    old_read: Option<&Result<Box<Object<'a>>, JsonError>>,
    new: Json<'a>,
    old: Json<'a>,
) -> (bool, Option<[u64; 3]>) {
    let is_pod = group.is_empty() && kind == "Pod";
    let read_here;
    let old_pod = match old_read {
        Some(Ok(read)) => match &**read {
            Object::Pod(p) => Some(p),
            _ => None,
        },
        Some(Err(_)) => None,
        None => {
            read_here = is_pod.then(|| PodObject::from_json(old).ok()).flatten();
            read_here.as_ref()
        }
    };
    let spec_text = |pod: Option<&PodObject<'a>>| pod?.spec.as_ref().map(|s| s.text);
    let new_pod = match object {
        Object::Pod(p) if is_pod => Some(p),
        _ => None,
    };
    let new_spec = spec_text(new_pod).or_else(|| raw_pod_part(kind, new));
    let old_spec = spec_text(old_pod).or_else(|| raw_pod_part(kind, old));
    match (new_spec, old_spec) {
        (Some(a), Some(b)) if maybe_same(a, b) && same_but(a, b, &[], None) => (false, None),
        // Only a changed pod is judged, so only then are its containers compared.
        (Some(a), Some(b)) => (true, old_pod.and_then(|_| unchanged_containers(a, b))),
        _ => (true, None),
    }
}

/// The raw pod-bearing part of an object (`spec`, or `template` for a PodTemplate), to tell
/// whether an UPDATE changed what runs.
fn raw_pod_part<'a>(kind: &str, object: Json<'a>) -> Option<Json<'a>> {
    let parts = PodParts::from_json(object).ok()?;
    if kind == "PodTemplate" {
        parts.template
    } else {
        parts.spec
    }
}

/// The containers an UPDATE of a Pod leaves as they were, as [`PodView::unchanged`] holds them,
/// when everything else of its spec is unchanged too; `None` when the pod must be judged whole
/// (the old object is missing or unreadable, or a pod-level field changed). The API server lets
/// an UPDATE add ephemeral containers (`pods/ephemeralcontainers`), change resources
/// (`pods/resize`) and change images; a container is compared whole but for its resources,
/// which no rule reads, and only the first 64 of a list can count as unchanged. `new_spec` and
/// `old_spec` are the texts of the two objects' specs, both read as pods (the old one must be
/// a Pod the rules could read, as the new one is); every walk over the text costs a pass over
/// it, so each is walked as few times as the answer takes.
fn unchanged_containers<'a>(new_spec: Json<'a>, old_spec: Json<'a>) -> Option<[u64; 3]> {
    let mut lists = [[None; 3]; 2];
    if !same_but(
        new_spec,
        old_spec,
        &[
            "initContainers",
            "containers",
            "ephemeralContainers",
            "resources",
        ],
        Some(&mut lists),
    ) {
        return None;
    }
    let mut unchanged = [0u64; 3];
    for (bits, (a, b)) in unchanged.iter_mut().zip(lists[0].into_iter().zip(lists[1])) {
        let (Some(a), Some(b)) = (a, b) else {
            continue;
        };
        for (i, (x, y)) in a.items().zip(b.items()).take(64).enumerate() {
            // Most containers are written alike, which a comparison of their text tells at
            // once; the walk is for those that differ.
            if same_but(x, y, &["resources", "resizePolicy"], None) {
                *bits |= 1u64.checked_shl(i as u32).unwrap_or(0);
            }
        }
    }
    Some(unchanged)
}

/// Whether two texts could be the same value written another way (see [`same_but`]): they are
/// the same text, or where they first differ there is whitespace or an escape, the only ways
/// equal values can be written differently. A real change fails this at once, without a walk
/// over the values.
fn maybe_same(a: Json<'_>, b: Json<'_>) -> bool {
    let (a, b) = (a.raw().as_bytes(), b.raw().as_bytes());
    let at = common_prefix(a, b);
    let written = |c: Option<&u8>| matches!(c, Some(b' ' | b'\t' | b'\n' | b'\r' | b'\\'));
    (at == a.len() && at == b.len())
        || written(a.get(at))
        || written(b.get(at))
        || (at.saturating_sub(5)..at).any(|k| a.get(k) == Some(&b'\\'))
}

/// A pod spec's container lists, whose values [`unchanged_containers`] compares one by one.
const LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// The values of [`LISTS`]' keys in each of two objects (the last entry of a key, as
/// [`Json::get`] finds it), gathered while [`same_but`] walks them.
type Lists<'a> = [[Option<Json<'a>>; 3]; 2];

/// Two values equal as JSON, in the same order, but for the keys `ignored` of the outer object:
/// whitespace between tokens and the way a string is escaped do not count, so that the same
/// object written another way is unchanged (numbers are compared as written: another spelling
/// counts as a change, which judges more). The outer object's [`LISTS`] are gathered into
/// `gather` on the way (complete when the answer is true: both objects were walked to their
/// end).
fn same_but<'a>(
    a: Json<'a>,
    b: Json<'a>,
    ignored: &[&str],
    mut gather: Option<&mut Lists<'a>>,
) -> bool {
    if gather.is_none() && a.raw() == b.raw() {
        return true;
    }
    match (a.kind(), b.kind()) {
        (Kind::Object, Kind::Object) => {}
        (Kind::Array, Kind::Array) => {
            let mut y = b.items();
            return a
                .items()
                .all(|x| y.next().is_some_and(|y| same_but(x, y, &[], None)))
                && y.next().is_none();
        }
        (Kind::String, Kind::String) => return a.as_str() == b.as_str(),
        _ => return false,
    }
    let (mut x, mut y) = (a.entries(), b.entries());
    let mut next = |side: usize, entries: &mut super::json::Entries<'a>| {
        for (k, v) in entries.by_ref() {
            if let Some(found) = gather.as_mut()
                && let Some(i) = LISTS.iter().position(|n| *n == k.as_ref())
                && let Some(slot) = found.get_mut(side).and_then(|f| f.get_mut(i))
            {
                *slot = Some(v);
            }
            if !ignored.contains(&k.as_ref()) {
                return Some((k, v));
            }
        }
        None
    };
    loop {
        match (next(0, &mut x), next(1, &mut y)) {
            (None, None) => return true,
            (Some((k, v)), Some((l, w))) if k == l && same_but(v, w, &[], None) => {}
            _ => return false,
        }
    }
}
