//! Kubernetes audit logs as admission requests: what the policy would have said about every
//! write a cluster's audit log shows, before the policy is enforced there.
//!
//! An `audit.k8s.io/v1` Event records a request, not the AdmissionRequest the API server built
//! from it, so [`AuditLog`] rebuilds one per event:
//! - identity: `impersonatedUser` when set (admission sees the impersonated user), else `user`;
//! - operation: `create` is CREATE, `update` and `patch` are UPDATE, `delete` and
//!   `deletecollection` are DELETE, and any verb on `exec`, `attach`, `portforward` or `proxy`
//!   is CONNECT; reads are not admitted, and requests refused before admission are not judged;
//! - object: the response object (the stored result, defaults and mutations included, which is
//!   what validating admission sees), else the request object; a `patch` without a response
//!   object holds a patch, not an object, and is skipped;
//! - old object, for pod-bearing kinds only (the only ones whose previous state a rule reads):
//!   the last state of the same object that the log showed, from writes and `get`s, kept up to
//!   date through bindings and graceful deletes and forgotten when a write's result is unknown;
//!   for the `status` subresource, which cannot change a spec, the new object; else none, and
//!   the rules judge the UPDATE as if the spec changed ([`Note::WithoutPreviousState`]);
//! - CONNECT options (PodExecOptions and kin) and `dryRun` come from the request URI's query
//!   (a DELETE's dry run from its DeleteOptions).
//!
//! Only an event's last stage is replayed (`ResponseComplete`, `Panic`, or an event without a
//! stage), so a request logged at several stages is judged once.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::k8s::{Parts, admission_review, kind_of};
use policy::request::Operation;

/// `audit.k8s.io/v1` Event, holding what an admission request is rebuilt from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(rename = "auditID", default, deserialize_with = "or_default")]
    pub audit_id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub stage: String,
    #[serde(rename = "requestURI", default, deserialize_with = "or_default")]
    pub request_uri: String,
    #[serde(default, deserialize_with = "or_default")]
    pub verb: String,
    #[serde(default)]
    pub user: Value,
    #[serde(default)]
    pub impersonated_user: Option<Value>,
    #[serde(default)]
    pub object_ref: Option<ObjectRef>,
    #[serde(default)]
    pub response_status: Option<ResponseStatus>,
    #[serde(default)]
    pub request_object: Option<Value>,
    #[serde(default)]
    pub response_object: Option<Value>,
    #[serde(default, deserialize_with = "or_default")]
    pub annotations: BTreeMap<String, String>,
}

/// A field that may be absent or `null` (as Go's decoder allows).
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The object an event addresses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    #[serde(default, deserialize_with = "or_default")]
    pub resource: String,
    #[serde(default, deserialize_with = "or_default")]
    pub namespace: String,
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "or_default")]
    pub api_group: String,
    #[serde(default, deserialize_with = "or_default")]
    pub api_version: String,
    #[serde(default, deserialize_with = "or_default")]
    pub subresource: String,
}

/// The part of the response status the replay reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponseStatus {
    #[serde(default, deserialize_with = "or_default")]
    pub code: u16,
}

/// Whether `value` is an `audit.k8s.io` Event.
pub fn is_audit_event(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("Event")
        && value
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("audit.k8s.io/"))
}

/// Why an event is not replayed as an admission request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    /// `RequestReceived` or `ResponseStarted`: the same request's last stage is replayed.
    EarlierStage,
    /// `get`, `list`, `watch` and other verbs that admission never sees.
    NotAdmitted,
    /// Refused before admission ran: by authentication or authorization, or as not found,
    /// malformed or invalid.
    RefusedBeforeAdmission,
    /// A `patch` whose result the log does not hold (logged below `RequestResponse`, or
    /// refused): the request body is a patch, not an object.
    PatchWithoutResult,
    /// A `create` or `update` logged without its object (level `Metadata`).
    NoObject,
    /// No `objectRef`: not a request on a resource.
    NoObjectRef,
    /// No user: the log does not say who asked.
    NoUser,
}

impl Skip {
    /// Why, for the replay's summary.
    pub const fn reason(self) -> &'static str {
        match self {
            Skip::EarlierStage => "an earlier stage of a request logged again when it completed",
            Skip::NotAdmitted => "reads and other verbs admission does not see",
            Skip::RefusedBeforeAdmission => {
                "requests refused before admission (authentication, authorization, not found, invalid)"
            }
            Skip::PatchWithoutResult => {
                "patches whose result the log does not hold (logged below RequestResponse, or refused)"
            }
            Skip::NoObject => {
                "writes logged without their object (log them at level Request or above)"
            }
            Skip::NoObjectRef => "requests on no resource",
            Skip::NoUser => "events that do not say who asked",
        }
    }
}

/// What a replayed request's line should add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Note {
    /// An UPDATE of a pod-bearing object whose previous state the log did not show (or showed
    /// out of date): judged as if its pod spec changed.
    WithoutPreviousState,
    /// A `deletecollection`: judged once, as a DELETE of the collection, where admission judges
    /// each object deleted (the log does not list them).
    WholeCollection,
}

impl Note {
    /// The words a replay line ends with.
    pub const fn text(self) -> &'static str {
        match self {
            Note::WithoutPreviousState => "(previous state not in the log)",
            Note::WholeCollection => "(deletecollection, judged once for the collection)",
        }
    }

    /// What the replay's summary says of the requests with this note, after their count.
    pub const fn summary(self) -> &'static str {
        match self {
            Note::WithoutPreviousState => {
                "UPDATEs of pod-bearing objects were judged as if their pod spec changed: the log does not show their previous state"
            }
            Note::WholeCollection => {
                "deletecollection requests were judged once each, as a DELETE of the collection"
            }
        }
    }
}

/// An event rebuilt as an admission request.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// An `admission.k8s.io/v1` AdmissionReview; its request uid is the event's `auditID`.
    pub review: Value,
    /// What the request's line should add, if anything.
    pub note: Option<Note>,
}

/// Subresources whose requests are CONNECT operations, with the options kind admission sees.
fn connect_kind(resource: &str, subresource: &str) -> Option<&'static str> {
    Some(match (resource, subresource) {
        ("pods", "exec") => "PodExecOptions",
        ("pods", "attach") => "PodAttachOptions",
        ("pods", "portforward") => "PodPortForwardOptions",
        ("pods", "proxy") => "PodProxyOptions",
        ("nodes", "proxy") => "NodeProxyOptions",
        ("services", "proxy") => "ServiceProxyOptions",
        _ => return None,
    })
}

/// The query of a request URI, decoded, in order.
fn query(uri: &str) -> Vec<(String, String)> {
    uri.split_once('?')
        .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// The options object of a CONNECT, from the request URI's query (`command` repeats; flags are
/// `true`/`false`/`1`/`0`).
fn connect_options(kind: &str, version: &str, uri: &str) -> Value {
    let mut options = Map::new();
    options.insert("kind".into(), kind.into());
    options.insert("apiVersion".into(), version.into());
    let mut command = Vec::new();
    for (key, value) in query(uri) {
        match key.as_str() {
            "command" => command.push(Value::String(value)),
            // As the API server reads them: anything but `0` and `false` (a bare `tty` too).
            "stdin" | "stdout" | "stderr" | "tty" => {
                let off = value == "0" || value.eq_ignore_ascii_case("false");
                options.insert(key, Value::Bool(!off));
            }
            "container" | "path" => {
                options.insert(key, Value::String(value));
            }
            "ports" => {
                let ports = options
                    .entry("ports")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let (Value::Array(ports), Ok(port)) = (ports, value.parse::<u16>()) {
                    ports.push(port.into());
                }
            }
            _ => {}
        }
    }
    if !command.is_empty() {
        options.insert("command".into(), Value::Array(command));
    }
    Value::Object(options)
}

/// A response object that is the object itself, not a `Status` or an options echo.
fn is_object_of(value: &Value, kind: Option<&str>) -> bool {
    let Some(own) = value.get("kind").and_then(Value::as_str) else {
        return false;
    };
    own != "Status" && kind.is_none_or(|k| k == own)
}

/// Whether `object` is a whole state of the object `target` addresses: its kind is the
/// resource's (a subresource such as `eviction` names another kind), or, for a resource of a
/// kind not listed in [`kind_of`], it was written without a subresource.
fn is_state_of(object: &Value, target: &ObjectRef) -> bool {
    match kind_of(&target.api_group, &target.resource) {
        Some(kind) => is_object_of(object, Some(kind)),
        None => target.subresource.is_empty() && is_object_of(object, None),
    }
}

/// The identity of an object across events: group, resource, namespace, name.
type ObjectKey = (String, String, String, String);

/// Rebuilds admission requests from audit events in log order, remembering each object's last
/// state for the UPDATEs that follow.
#[derive(Debug, Default)]
pub struct AuditLog {
    /// Each object's last state, as compact JSON text (a third of a `Value`'s memory: a week
    /// of a busy cluster's log holds many objects).
    states: HashMap<ObjectKey, String>,
    /// Events not replayed, by reason.
    pub skipped: BTreeMap<Skip, usize>,
}

impl AuditLog {
    /// The admission request `event` was, or why it is not replayed.
    pub fn replay(&mut self, event: &Event) -> Result<Replayed, Skip> {
        let result = self.rebuild(event);
        if let Err(skip) = result {
            *self.skipped.entry(skip).or_default() += 1;
        }
        result
    }

    fn rebuild(&mut self, event: &Event) -> Result<Replayed, Skip> {
        if !matches!(event.stage.as_str(), "ResponseComplete" | "Panic" | "") {
            return Err(Skip::EarlierStage);
        }
        let target = event.object_ref.as_ref().ok_or(Skip::NoObjectRef)?;
        if target.resource.is_empty() {
            return Err(Skip::NoObjectRef);
        }
        let code = event.response_status.as_ref().map_or(0, |s| s.code);
        let succeeded = code == 0 || (100..300).contains(&code);
        let connect = connect_kind(&target.resource, &target.subresource);
        let operation = match (event.verb.as_str(), connect) {
            (_, Some(_)) => Operation::Connect,
            ("create", None) => Operation::Create,
            ("update" | "patch", None) => Operation::Update,
            ("delete" | "deletecollection", None) => Operation::Delete,
            _ => {
                self.learn(event, target, succeeded);
                return Err(Skip::NotAdmitted);
            }
        };
        if refused_before_admission(event, code) {
            return Err(Skip::RefusedBeforeAdmission);
        }
        let user = event
            .impersonated_user
            .as_ref()
            .unwrap_or(&event.user)
            .clone();
        if !user.is_object() {
            return Err(Skip::NoUser);
        }
        let version = if target.api_version.is_empty() {
            "v1"
        } else {
            &target.api_version
        };
        let collection = event.verb == "deletecollection";
        let dry_run = query(&event.request_uri)
            .iter()
            .any(|(k, v)| k == "dryRun" && v == "All")
            // A DELETE carries its DeleteOptions, dry run included, in the body.
            || (operation == Operation::Delete
                && event.request_object.as_ref().is_some_and(|o| {
                    o["dryRun"]
                        .as_array()
                        .is_some_and(|d| d.iter().any(|v| v == "All"))
                }));
        // The kind the object should have; a subresource write (eviction, binding) names its
        // own kind in its request object.
        let expected = kind_of(&target.api_group, &target.resource)
            .filter(|_| target.subresource.is_empty() || target.subresource == "status");
        let response = event
            .response_object
            .as_ref()
            .filter(|o| succeeded && is_object_of(o, expected));
        let request = event
            .request_object
            .as_ref()
            .filter(|o| is_object_of(o, None));
        let name = match response.or(request) {
            Some(o) if target.name.is_empty() && !collection => o
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => target.name.clone(),
        };
        let key: ObjectKey = (
            target.api_group.clone(),
            target.resource.clone(),
            target.namespace.clone(),
            name.clone(),
        );
        let changes_state = succeeded && !dry_run;
        let object = match operation {
            Operation::Connect => Some(connect_options(
                connect.unwrap_or_default(),
                version,
                &event.request_uri,
            )),
            Operation::Delete => None,
            _ => match (response, request, event.verb.as_str()) {
                (Some(o), _, _) => Some(o.clone()),
                (None, Some(o), "create" | "update") => Some(o.clone()),
                (None, _, verb) => {
                    // The object changed in a way the log does not show: what was known of it
                    // is out of date (a status write cannot change a spec).
                    if changes_state && !keeps_spec(&target.subresource) {
                        self.states.remove(&key);
                    }
                    return Err(if verb == "patch" {
                        Skip::PatchWithoutResult
                    } else {
                        Skip::NoObject
                    });
                }
            },
        };
        let kind = object
            .as_ref()
            .and_then(|o| o.get("kind").and_then(Value::as_str))
            .map(str::to_owned)
            .or_else(|| expected.map(str::to_owned))
            .unwrap_or_else(|| target.resource.clone());
        // A subresource's object may be of another group's kind (a TokenRequest, an Eviction).
        let kind_api_version = object
            .as_ref()
            .filter(|_| !target.subresource.is_empty())
            .and_then(|o| o.get("apiVersion").and_then(Value::as_str))
            .map(str::to_owned);
        let carries_pod =
            policy::request::object::carries_pod(&target.api_group, kind_of_target(target, &kind));
        let old_object = match operation {
            Operation::Update | Operation::Delete if carries_pod => {
                self.previous(&key, request, event.verb == "update")
                    .or_else(|| {
                        // A status write cannot change a spec: the new object stands for the old.
                        (target.subresource == "status")
                            .then(|| object.clone())
                            .flatten()
                    })
            }
            _ => None,
        };
        let note = if collection {
            Some(Note::WholeCollection)
        } else if operation == Operation::Update && carries_pod && old_object.is_none() {
            Some(Note::WithoutPreviousState)
        } else {
            None
        };
        if changes_state {
            let known = old_object
                .as_ref()
                .filter(|_| operation == Operation::Delete);
            self.record(operation, &key, target, event, object.as_ref(), known);
        }
        Ok(Replayed {
            review: admission_review(Parts {
                uid: &event.audit_id,
                group: &target.api_group,
                version,
                kind: &kind,
                kind_api_version: kind_api_version.as_deref(),
                resource: &target.resource,
                subresource: &target.subresource,
                name: &name,
                namespace: &target.namespace,
                operation: operation.as_str(),
                user_info: user,
                object,
                old_object,
                dry_run,
            }),
            note,
        })
    }

    /// The state an UPDATE or DELETE of `key` starts from, when the log showed it and it is not
    /// out of date: an `update` names the version it replaces, which must be the one known.
    fn previous(
        &self,
        key: &ObjectKey,
        request: Option<&Value>,
        names_version: bool,
    ) -> Option<Value> {
        let state = self.state(key)?;
        let version = |o: &Value| {
            o.pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match (
            names_version.then(|| request.and_then(version)).flatten(),
            version(&state),
        ) {
            (Some(replaced), Some(known)) if replaced != known => None,
            _ => Some(state),
        }
    }

    /// Keeps what a successful write did to the states: a created or written pod-bearing object
    /// is remembered, a deleted one (`deleted`: its state before) forgotten, a scheduled pod
    /// gets its node.
    fn record(
        &mut self,
        operation: Operation,
        key: &ObjectKey,
        target: &ObjectRef,
        event: &Event,
        object: Option<&Value>,
        deleted: Option<&Value>,
    ) {
        match operation {
            Operation::Delete if event.verb == "deletecollection" => {
                let (group, resource, namespace, _) = key;
                self.states
                    .retain(|(g, r, n, _), _| (g, r, n) != (group, resource, namespace));
            }
            // A graceful deletion leaves the object in place, marked, until a last DELETE
            // (the kubelet's, for a pod): later writes to it still have a previous state.
            Operation::Delete => {
                let already_deleting = deleted.is_some_and(deleting);
                match event
                    .response_object
                    .as_ref()
                    .filter(|o| is_state_of(o, target) && keeps_state(o) && deleting(o))
                {
                    Some(o) if !already_deleting => {
                        self.states.insert(key.clone(), o.to_string());
                    }
                    _ => {
                        self.states.remove(key);
                    }
                }
            }
            // The scheduler binds a pod through `pods/binding`: the API server sets
            // `spec.nodeName`, and the log holds only the Binding.
            Operation::Create if target.subresource == "binding" => {
                let node = event
                    .request_object
                    .as_ref()
                    .and_then(|b| b.pointer("/target/name"))
                    .and_then(Value::as_str);
                let mut pod = self.state(key);
                let spec = pod
                    .as_mut()
                    .and_then(|p| p.get_mut("spec"))
                    .and_then(Value::as_object_mut);
                match (spec, node) {
                    (Some(spec), Some(node)) => {
                        spec.insert("nodeName".into(), node.into());
                        let pod = pod.map(|p| p.to_string()).unwrap_or_default();
                        self.states.insert(key.clone(), pod);
                    }
                    _ => {
                        self.states.remove(key);
                    }
                }
            }
            Operation::Create | Operation::Update => {
                match object.filter(|o| is_state_of(o, target)) {
                    Some(o) if keeps_state(o) => {
                        self.states.insert(key.clone(), o.to_string());
                    }
                    Some(_) => {}
                    // A write whose result the log does not show: what the object is now is not
                    // known, unless the write cannot change a spec.
                    None if !keeps_spec(&target.subresource) => {
                        self.states.remove(key);
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// Remembers the object a successful read returned.
    fn learn(&mut self, event: &Event, target: &ObjectRef, succeeded: bool) {
        if event.verb != "get" || !succeeded {
            return;
        }
        if let Some(object) = event
            .response_object
            .as_ref()
            .filter(|o| is_state_of(o, target) && keeps_state(o))
        {
            let key = (
                target.api_group.clone(),
                target.resource.clone(),
                target.namespace.clone(),
                target.name.clone(),
            );
            self.states.insert(key, object.to_string());
        }
    }

    fn state(&self, key: &ObjectKey) -> Option<Value> {
        self.states
            .get(key)
            .and_then(|text| serde_json::from_str(text).ok())
    }
}

/// Whether `object` is being deleted (graceful deletion or finalizers hold it).
fn deleting(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// Subresources whose writes leave the spec as it was: `status` (the API server keeps the
/// stored spec) and `eviction` (which deletes the pod, gracefully).
fn keeps_spec(subresource: &str) -> bool {
    matches!(subresource, "status" | "eviction")
}

/// Whether a state of this object is worth keeping: only pod-bearing objects' previous states
/// change a decision (an UPDATE that leaves the pod spec as it was is not judged by the pod
/// rules), so only they are kept, and memory grows with them alone.
fn keeps_state(object: &Value) -> bool {
    let group = object["apiVersion"]
        .as_str()
        .and_then(|v| v.split_once('/'))
        .map_or("", |(g, _)| g);
    policy::request::object::carries_pod(group, object["kind"].as_str().unwrap_or(""))
}

/// The kind the pod rules would see for `target`: the resource's own kind for its
/// subresources (an UPDATE of `pods/ephemeralcontainers` is an UPDATE of a Pod).
fn kind_of_target<'k>(target: &ObjectRef, kind: &'k str) -> &'k str {
    match kind_of(&target.api_group, &target.resource) {
        Some(own) => own,
        None => kind,
    }
}

/// Whether the API server refused the request before admission ran: authorization said no
/// (the audit annotation), or it answered with a status admission never leads to (bad
/// request, unauthenticated, not found, not allowed, unprocessable). A 403 without the
/// annotation is a denial by admission itself, and a 409 comes from storage, after it.
fn refused_before_admission(event: &Event, code: u16) -> bool {
    event
        .annotations
        .get("authorization.k8s.io/decision")
        .is_some_and(|d| d == "forbid")
        || matches!(code, 400 | 401 | 404 | 405 | 406 | 413 | 415 | 422)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RUNNER: &str = "system:serviceaccount:acme-runners:gitlab-runner-docker";

    fn pod(name: &str) -> Value {
        json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": "acme-runners"}, "spec": {"containers": []}})
    }

    /// A `ResponseComplete` event by the docker runner on pod `p`, edited by `edit`.
    fn event(verb: &str, edit: impl FnOnce(&mut Value)) -> Event {
        let mut value = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a1",
            "stage": "ResponseComplete", "verb": verb,
            "requestURI": "/api/v1/namespaces/acme-runners/pods/p",
            "user": {"username": RUNNER},
            "objectRef": {"resource": "pods", "namespace": "acme-runners", "name": "p", "apiVersion": "v1"},
            "responseStatus": {"code": 200},
            "requestObject": pod("p"), "responseObject": pod("p"),
        });
        edit(&mut value);
        assert!(is_audit_event(&value));
        serde_json::from_value(value).unwrap()
    }

    fn request(event: &Event) -> Result<Value, Skip> {
        AuditLog::default()
            .replay(event)
            .map(|r| r.review["request"].clone())
    }

    #[test]
    fn events_that_are_not_admission_requests_are_skipped_with_a_reason() {
        let cases = [
            (
                event("create", |e| e["stage"] = "RequestReceived".into()),
                Skip::EarlierStage,
            ),
            (
                event("create", |e| e["stage"] = "ResponseStarted".into()),
                Skip::EarlierStage,
            ),
            (event("get", |_| {}), Skip::NotAdmitted),
            (event("list", |_| {}), Skip::NotAdmitted),
            (event("watch", |_| {}), Skip::NotAdmitted),
            (
                event("patch", |e| e["responseObject"] = Value::Null),
                Skip::PatchWithoutResult,
            ),
            (
                event("create", |e| {
                    e["requestObject"] = Value::Null;
                    e["responseObject"] = Value::Null;
                }),
                Skip::NoObject,
            ),
            (
                event("create", |e| {
                    e["responseStatus"]["code"] = 403.into();
                    e["annotations"] = json!({"authorization.k8s.io/decision": "forbid"});
                }),
                Skip::RefusedBeforeAdmission,
            ),
            (
                event("update", |e| e["responseStatus"]["code"] = 404.into()),
                Skip::RefusedBeforeAdmission,
            ),
            (
                event("create", |e| e["responseStatus"]["code"] = 422.into()),
                Skip::RefusedBeforeAdmission,
            ),
            (event("create", |e| e["user"] = Value::Null), Skip::NoUser),
            (
                event("create", |e| e["objectRef"] = Value::Null),
                Skip::NoObjectRef,
            ),
            (
                event("get", |e| e["objectRef"]["resource"] = "".into()),
                Skip::NoObjectRef,
            ),
        ];
        for (i, (event, skip)) in cases.into_iter().enumerate() {
            let mut log = AuditLog::default();
            assert_eq!(log.replay(&event), Err(skip), "case {i}");
            assert_eq!(log.skipped.get(&skip), Some(&1), "case {i}");
            assert!(!skip.reason().is_empty());
        }
    }

    #[test]
    fn verbs_become_operations() {
        let cases = [
            ("create", "", "CREATE"),
            ("update", "", "UPDATE"),
            ("patch", "", "UPDATE"),
            ("delete", "", "DELETE"),
            ("create", "exec", "CONNECT"),
            // kubectl's websocket exec is a GET.
            ("get", "exec", "CONNECT"),
            ("create", "attach", "CONNECT"),
            ("get", "portforward", "CONNECT"),
            ("update", "ephemeralcontainers", "UPDATE"),
        ];
        for (verb, sub, operation) in cases {
            let event = event(verb, |e| e["objectRef"]["subresource"] = sub.into());
            let request = request(&event).unwrap();
            assert_eq!(request["operation"], operation, "{verb} {sub}");
            assert_eq!(request["uid"], "a1");
            if sub.is_empty() {
                assert!(request.get("subResource").is_none());
            } else {
                assert_eq!(request["subResource"], sub);
            }
        }
    }

    #[test]
    fn identity_is_the_impersonated_user_when_there_is_one() {
        let plain = request(&event("create", |_| {})).unwrap();
        assert_eq!(plain["userInfo"]["username"], RUNNER);
        let impersonated = request(&event("create", |e| {
            e["user"]["username"] = "kubernetes-admin".into();
            e["impersonatedUser"] = json!({"username": RUNNER});
        }))
        .unwrap();
        assert_eq!(impersonated["userInfo"]["username"], RUNNER);
    }

    #[test]
    fn the_object_is_what_the_api_server_stored_else_what_was_sent() {
        let mut stored = pod("p");
        stored["spec"]["restartPolicy"] = "Never".into();
        let ok = request(&event("create", |e| e["responseObject"] = stored.clone())).unwrap();
        assert_eq!(ok["object"], stored);
        // A refused request answers with a Status: the request object is what admission saw.
        let refused = request(&event("create", |e| {
            e["responseStatus"]["code"] = 403.into();
            e["responseObject"] = json!({"kind": "Status", "status": "Failure"});
        }))
        .unwrap();
        assert_eq!(refused["object"], pod("p"));
        // A pod created from generateName is named by its stored object.
        let generated = request(&event("create", |e| {
            e["objectRef"]["name"] = Value::Null;
            e["responseObject"]["metadata"]["name"] = "runner-x7k2".into();
        }))
        .unwrap();
        assert_eq!(generated["name"], "runner-x7k2");
        assert_eq!(generated["kind"]["kind"], "Pod");
        // DELETE carries no object; its kind comes from the resource.
        let deleted = request(&event("delete", |e| {
            e["objectRef"]["resource"] = "rolebindings".into();
            e["objectRef"]["apiGroup"] = "rbac.authorization.k8s.io".into();
            e["requestObject"] = json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"});
            e["responseObject"] = json!({"kind": "Status", "status": "Success"});
        }))
        .unwrap();
        assert_eq!(deleted["object"], Value::Null);
        assert_eq!(deleted["kind"]["kind"], "RoleBinding");
        assert_eq!(deleted["kind"]["group"], "rbac.authorization.k8s.io");
    }

    #[test]
    fn connect_options_and_dry_run_come_from_the_query() {
        let exec = request(&event("create", |e| {
            e["objectRef"]["subresource"] = "exec".into();
            e["requestURI"] = "/api/v1/namespaces/acme-runners/pods/p/exec?command=sh&command=-c&command=echo%20hi&container=build&stdin=true&tty=1&stdout=false".into();
            e["responseStatus"]["code"] = 101.into();
            e["requestObject"] = Value::Null;
            e["responseObject"] = Value::Null;
        }))
        .unwrap();
        assert_eq!(
            exec["object"],
            json!({"kind": "PodExecOptions", "apiVersion": "v1", "command": ["sh", "-c", "echo hi"],
                   "container": "build", "stdin": true, "tty": true, "stdout": false})
        );
        assert_eq!(exec["kind"]["kind"], "PodExecOptions");
        let dry = |uri: &str| {
            request(&event("create", |e| e["requestURI"] = uri.into())).unwrap()["dryRun"].clone()
        };
        assert_eq!(dry("/api/v1/namespaces/acme-runners/pods?dryRun=All"), true);
        assert_eq!(
            dry("/api/v1/namespaces/acme-runners/pods?fieldManager=x"),
            false
        );
    }

    #[test]
    fn previous_states_come_from_successful_writes_and_reads_of_the_same_object() {
        let mut old = pod("p");
        old["metadata"]["labels"] = json!({"v": "1"});
        let write = |verb: &str, code: u16| {
            event(verb, |e| {
                e["responseObject"] = old.clone();
                e["responseStatus"]["code"] = code.into();
            })
        };
        let other = event("get", |e| {
            e["objectRef"]["name"] = "q".into();
            e["responseObject"] = pod("q");
        });
        let eviction = event("create", |e| {
            e["objectRef"]["subresource"] = "eviction".into();
            e["requestObject"] = json!({"kind": "Eviction", "apiVersion": "policy/v1"});
            e["responseObject"] = json!({"kind": "Status", "status": "Success"});
        });
        let dry_run = event("update", |e| {
            e["requestURI"] = "/api/v1/namespaces/acme-runners/pods/p?dryRun=All".into();
            e["responseObject"] = pod("dry");
        });
        // kubectl sends a DELETE's dry run in its DeleteOptions, not in the URI.
        let dry_delete = event("delete", |e| {
            e["requestObject"] =
                json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", "dryRun": ["All"]});
        });
        let failed_delete = event("delete", |e| e["responseStatus"]["code"] = 404.into());
        let unseen_patch = event("patch", |e| e["responseObject"] = Value::Null);
        let status_patch = event("patch", |e| {
            e["objectRef"]["subresource"] = "status".into();
            e["responseObject"] = Value::Null;
        });
        let mut bound = old.clone();
        bound["spec"]["nodeName"] = "worker-2".into();
        let binding = event("create", |e| {
            e["objectRef"]["subresource"] = "binding".into();
            e["requestObject"] = json!({"kind": "Binding", "apiVersion": "v1", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "worker-2"}});
            e["responseObject"] = json!({"kind": "Status", "status": "Success"});
        });
        let mut versioned = old.clone();
        versioned["metadata"]["resourceVersion"] = "5".into();
        let versioned_create = event("create", |e| e["responseObject"] = versioned.clone());
        let update_from = |version: &str| {
            event("update", |e| {
                e["requestObject"]["metadata"]["resourceVersion"] = version.into();
            })
        };
        // (events before, the UPDATE, the previous state it gets)
        let update = event("update", |_| {});
        let cases: [(Vec<Event>, &Event, Option<Value>); 14] = [
            (vec![], &update, None),
            (vec![write("create", 201)], &update, Some(old.clone())),
            (vec![write("get", 200)], &update, Some(old.clone())),
            (vec![write("patch", 200)], &update, Some(old.clone())),
            (vec![write("create", 409)], &update, None),
            (vec![other], &update, None),
            (
                vec![write("get", 200), eviction, dry_run],
                &update,
                Some(old.clone()),
            ),
            (
                vec![write("get", 200), dry_delete],
                &update,
                Some(old.clone()),
            ),
            (
                vec![write("get", 200), failed_delete],
                &update,
                Some(old.clone()),
            ),
            // A write the log holds no result of leaves the known state out of date.
            (vec![write("get", 200), unseen_patch], &update, None),
            (
                vec![write("get", 200), status_patch],
                &update,
                Some(old.clone()),
            ),
            // The scheduler's binding sets the node.
            (vec![write("get", 200), binding], &update, Some(bound)),
            // An update names the version it replaces: another one means writes in between.
            (
                vec![versioned_create.clone()],
                &update_from("5"),
                Some(versioned.clone()),
            ),
            (vec![versioned_create], &update_from("4"), None),
        ];
        for (i, (before, update, want)) in cases.into_iter().enumerate() {
            let mut log = AuditLog::default();
            for e in &before {
                let _ = log.replay(e);
            }
            let replayed = log.replay(update).unwrap();
            let note = want.is_none().then_some(Note::WithoutPreviousState);
            assert_eq!(replayed.note, note, "case {i}");
            assert_eq!(
                replayed.review["request"]["oldObject"],
                want.unwrap_or(Value::Null),
                "case {i}"
            );
        }
        // A deleted object has no previous state any more.
        let mut log = AuditLog::default();
        let _ = log.replay(&write("create", 201));
        let deleted = log.replay(&event("delete", |_| {})).unwrap();
        assert_eq!(deleted.review["request"]["oldObject"], old);
        let after = log.replay(&event("update", |_| {})).unwrap();
        assert_eq!(after.note, Some(Note::WithoutPreviousState));
    }

    #[test]
    fn only_pod_bearing_objects_have_previous_states_to_miss() {
        let secret = |verb: &str| {
            event(verb, |e| {
                e["objectRef"]["resource"] = "secrets".into();
                e["requestObject"] =
                    json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "p"}});
                e["responseObject"] = e["requestObject"].clone();
            })
        };
        let mut log = AuditLog::default();
        let created = log.replay(&secret("create")).unwrap();
        assert_eq!(created.note, None);
        let updated = log.replay(&secret("update")).unwrap();
        assert_eq!(updated.note, None);
        assert_eq!(updated.review["request"]["oldObject"], Value::Null);
        assert!(
            log.states.is_empty(),
            "no rule reads a Secret's previous state"
        );
    }

    #[test]
    fn a_deletecollection_is_judged_once_and_forgets_the_collection() {
        let mut log = AuditLog::default();
        let _ = log.replay(&event("create", |_| {}));
        let _ = log.replay(&event("create", |e| {
            e["objectRef"]["namespace"] = "elsewhere".into();
        }));
        assert_eq!(log.states.len(), 2);
        let collection = log
            .replay(&event("deletecollection", |e| {
                e["objectRef"]["name"] = Value::Null;
                e["requestObject"] = Value::Null;
                e["responseObject"] = json!({"kind": "PodList", "apiVersion": "v1", "items": []});
            }))
            .unwrap();
        assert_eq!(collection.note, Some(Note::WholeCollection));
        let request = &collection.review["request"];
        assert_eq!(request["operation"], "DELETE");
        assert!(request.get("name").is_none());
        assert_eq!(request["namespace"], "acme-runners");
        assert_eq!(
            log.states.len(),
            1,
            "the other namespace's pod is still known"
        );
    }

    #[test]
    fn a_namespace_is_its_own_namespace() {
        let request = request(&event("create", |e| {
            e["objectRef"] =
                json!({"resource": "namespaces", "name": "team-a", "apiVersion": "v1"});
            e["requestObject"] =
                json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "team-a"}});
            e["responseObject"] = e["requestObject"].clone();
        }))
        .unwrap();
        assert_eq!(request["namespace"], "team-a");
        assert_eq!(request["kind"]["kind"], "Namespace");
    }

    /// A subresource's object may be of another group's kind; the resource stays the parent's.
    #[test]
    fn a_subresource_object_keeps_its_own_group() {
        let cases = [
            (
                "serviceaccounts",
                "token",
                "authentication.k8s.io/v1",
                "TokenRequest",
                "authentication.k8s.io",
            ),
            ("pods", "eviction", "policy/v1", "Eviction", "policy"),
            ("pods", "binding", "v1", "Binding", ""),
        ];
        for (resource, sub, api_version, kind, group) in cases {
            let request = request(&event("create", |e| {
                e["objectRef"]["resource"] = resource.into();
                e["objectRef"]["subresource"] = sub.into();
                e["requestObject"] =
                    json!({"kind": kind, "apiVersion": api_version, "metadata": {"name": "p"}});
                e["responseObject"] = e["requestObject"].clone();
            }))
            .unwrap();
            assert_eq!(
                request["kind"],
                json!({"group": group, "version": "v1", "kind": kind}),
                "{sub}"
            );
            assert_eq!(request["resource"]["group"], "", "{sub}");
            assert_eq!(request["resource"]["resource"], resource, "{sub}");
        }
    }

    #[test]
    fn connect_flags_read_as_the_api_server_reads_them() {
        let exec = |query: &str| {
            request(&event("create", |e| {
                e["objectRef"]["subresource"] = "exec".into();
                e["requestURI"] =
                    format!("/api/v1/namespaces/acme-runners/pods/p/exec?{query}").into();
            }))
            .unwrap()["object"]
                .clone()
        };
        let cases = [
            ("tty", true),
            ("tty=True", true),
            ("tty=yes", true),
            ("tty=1", true),
            ("tty=0", false),
            ("tty=FALSE", false),
        ];
        for (query, tty) in cases {
            assert_eq!(exec(query)["tty"], tty, "{query}");
        }
    }

    #[test]
    fn a_gracefully_deleted_pod_keeps_its_state_until_its_last_delete() {
        let mut terminating = pod("p");
        terminating["metadata"]["deletionTimestamp"] = "2026-11-20T10:00:00Z".into();
        let delete = || {
            event("delete", |e| {
                e["requestObject"] = Value::Null;
                e["responseObject"] = terminating.clone();
            })
        };
        let mut log = AuditLog::default();
        let _ = log.replay(&event("create", |_| {}));
        let _ = log.replay(&delete());
        // A finalizer removed while the pod terminates: compared with the terminating pod.
        let update = log.replay(&event("update", |_| {})).unwrap();
        assert_eq!(update.note, None);
        assert_eq!(update.review["request"]["oldObject"], terminating);
        let mut log = AuditLog::default();
        let _ = log.replay(&event("create", |_| {}));
        let _ = log.replay(&delete());
        let _ = log.replay(&delete());
        assert!(log.states.is_empty(), "the last DELETE removes the pod");
    }

    #[test]
    fn a_binding_of_a_pod_whose_spec_is_not_an_object_forgets_it() {
        let mut log = AuditLog::default();
        let _ = log.replay(&event("create", |e| {
            e["responseObject"]["spec"] = "odd".into()
        }));
        assert_eq!(log.states.len(), 1);
        let bound = log.replay(&event("create", |e| {
            e["objectRef"]["subresource"] = "binding".into();
            e["requestObject"] =
                json!({"kind": "Binding", "apiVersion": "v1", "target": {"name": "n"}});
            e["responseObject"] = json!({"kind": "Status"});
        }));
        assert!(bound.is_ok());
        assert!(log.states.is_empty());
    }

    /// Any JSON value, small.
    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0u16..600).prop_map(Value::from),
            prop::sample::select(vec![
                "",
                "pods",
                "binding",
                "status",
                "exec",
                "create",
                "update",
                "patch",
                "delete",
                "deletecollection",
                "get",
                "Pod",
                "v1",
                "apps",
                "p",
                "acme-runners",
                "All",
                "ResponseComplete",
                "forbid",
                "?dryRun=All&tty",
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "kind",
                        "apiVersion",
                        "metadata",
                        "name",
                        "spec",
                        "target",
                        "nodeName",
                        "resourceVersion",
                        "dryRun",
                        "username",
                        "resource",
                        "subresource",
                        "namespace",
                        "apiGroup",
                        "code",
                    ])
                    .prop_map(str::to_owned),
                    inner,
                    0..4,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever a log holds, the replay answers each event with a request or a reason,
        /// never a panic; a request always has an operation and the event's id.
        #[test]
        fn any_sequence_of_events_is_replayed_without_panicking(
            edits in proptest::collection::vec(
                proptest::collection::vec((
                    proptest::sample::select(vec![
                        "/verb", "/objectRef", "/objectRef/subresource", "/objectRef/name",
                        "/objectRef/resource", "/user", "/impersonatedUser", "/requestObject",
                        "/requestObject/target", "/requestObject/metadata", "/responseObject",
                        "/responseObject/spec", "/responseObject/metadata", "/responseObject/kind",
                        "/responseStatus", "/responseStatus/code", "/annotations", "/requestURI",
                        "/stage",
                    ]),
                    any_value(),
                ), 0..4),
                1..6,
            )
        ) {
            let mut log = AuditLog::default();
            for (n, edits) in edits.into_iter().enumerate() {
                let mut value = json!({
                    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": format!("e{n}"),
                    "stage": "ResponseComplete", "verb": "update",
                    "requestURI": "/api/v1/namespaces/acme-runners/pods/p",
                    "user": {"username": RUNNER},
                    "objectRef": {"resource": "pods", "namespace": "acme-runners", "name": "p"},
                    "responseStatus": {"code": 200},
                    "requestObject": pod("p"), "responseObject": pod("p"),
                });
                // Each edit replaces the value at a path, where its parent is an object.
                for (path, edit) in edits {
                    let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
                    if let Some(map) = value.pointer_mut(parent).and_then(Value::as_object_mut) {
                        map.insert(key.to_owned(), edit);
                    }
                }
                let Ok(event) = serde_json::from_value::<Event>(value) else {
                    continue;
                };
                if let Ok(replayed) = log.replay(&event) {
                    let request = &replayed.review["request"];
                    proptest::prop_assert_eq!(&request["uid"], &json!(format!("e{n}")));
                    let operation = request["operation"].as_str().unwrap_or("");
                    proptest::prop_assert!(["CREATE", "UPDATE", "DELETE", "CONNECT"].contains(&operation));
                }
            }
        }
    }
}
