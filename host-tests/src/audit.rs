//! Kubernetes audit logs as admission requests: what the policy would have said about every
//! write a cluster's audit log shows, before the policy is enforced there.
//!
//! An `audit.k8s.io/v1` Event records a request, not the AdmissionRequest the API server built
//! from it, so [`AuditLog`] rebuilds one per event:
//! - identity: `impersonatedUser` when set (admission sees the impersonated user), else `user`;
//! - operation: `create` is CREATE, `update` and `patch` are UPDATE, `delete` is DELETE, and any
//!   verb on `exec`, `attach`, `portforward` or `proxy` is CONNECT; reads are not admitted;
//! - object: the response object (the stored result, defaults and mutations included, which is
//!   what validating admission sees), else the request object; a `patch` without a response
//!   object (logged below `RequestResponse`) holds a patch, not an object, and is skipped;
//! - old object: the last state of the same object that the log showed (any response object,
//!   reads included); for the `status` subresource, which cannot change a spec, the new object;
//!   else none, and the rules judge the UPDATE as if the spec changed ([`Replayed::without_old`]);
//! - CONNECT options (PodExecOptions and kin) and `dryRun` come from the request URI's query.
//!
//! Only an event's last stage is replayed (`ResponseComplete`, or `Panic`), so a request logged
//! at several stages is judged once.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

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
    /// A `patch` logged without its response object: the request body is a patch.
    PatchWithoutResult,
    /// A `create` or `update` logged below level `Request`: no object at all.
    NoObject,
    /// `deletecollection`: admission judges each deleted object, which the log does not list.
    DeleteCollection,
    /// No `objectRef`: not a request on a resource.
    NoObjectRef,
}

impl Skip {
    /// Why, for the replay's summary.
    pub const fn reason(self) -> &'static str {
        match self {
            Skip::EarlierStage => "an earlier stage of a request logged again when it completed",
            Skip::NotAdmitted => "reads and other verbs admission does not see",
            Skip::PatchWithoutResult => {
                "patches logged without their result (log them at level RequestResponse)"
            }
            Skip::NoObject => {
                "writes logged without their object (log them at level Request or above)"
            }
            Skip::DeleteCollection => {
                "deletecollection requests (the log does not list the objects deleted)"
            }
            Skip::NoObjectRef => "requests on no resource",
        }
    }
}

/// An event rebuilt as an admission request.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// An `admission.k8s.io/v1` AdmissionReview; its request uid is the event's `auditID`.
    pub review: Value,
    /// An UPDATE whose previous state the log did not show: judged as if its spec changed.
    pub without_old: bool,
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

/// The kind of a resource, for requests that carry no object (DELETE). The rules tell kinds
/// apart only among these; any other kind appears in messages only, where the resource name
/// stands in for it.
fn kind_of(group: &str, resource: &str) -> Option<&'static str> {
    Some(match (group, resource) {
        ("", "pods") => "Pod",
        ("", "secrets") => "Secret",
        ("", "configmaps") => "ConfigMap",
        ("", "serviceaccounts") => "ServiceAccount",
        ("", "services") => "Service",
        ("", "namespaces") => "Namespace",
        ("", "replicationcontrollers") => "ReplicationController",
        ("", "podtemplates") => "PodTemplate",
        ("apps", "deployments") => "Deployment",
        ("apps", "replicasets") => "ReplicaSet",
        ("apps", "statefulsets") => "StatefulSet",
        ("apps", "daemonsets") => "DaemonSet",
        ("batch", "jobs") => "Job",
        ("batch", "cronjobs") => "CronJob",
        ("rbac.authorization.k8s.io", "roles") => "Role",
        ("rbac.authorization.k8s.io", "rolebindings") => "RoleBinding",
        ("rbac.authorization.k8s.io", "clusterroles") => "ClusterRole",
        ("rbac.authorization.k8s.io", "clusterrolebindings") => "ClusterRoleBinding",
        ("networking.k8s.io", "networkpolicies") => "NetworkPolicy",
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
            "stdin" | "stdout" | "stderr" | "tty" => {
                options.insert(key, Value::Bool(value == "true" || value == "1"));
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
        let succeeded = event
            .response_status
            .as_ref()
            .is_none_or(|s| (200..300).contains(&s.code));
        let connect = connect_kind(&target.resource, &target.subresource);
        let operation = match (event.verb.as_str(), connect) {
            (_, Some(_)) => "CONNECT",
            ("create", None) => "CREATE",
            ("update" | "patch", None) => "UPDATE",
            ("delete", None) => "DELETE",
            ("deletecollection", None) => return Err(Skip::DeleteCollection),
            _ => {
                self.learn(event, target, succeeded);
                return Err(Skip::NotAdmitted);
            }
        };
        let version = if target.api_version.is_empty() {
            "v1"
        } else {
            &target.api_version
        };
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
        let object = match operation {
            "CONNECT" => Some(connect_options(
                connect.unwrap_or_default(),
                version,
                &event.request_uri,
            )),
            "DELETE" => None,
            _ => match (response, request, event.verb.as_str()) {
                (Some(o), _, _) => Some(o.clone()),
                (None, Some(o), "create" | "update") => Some(o.clone()),
                (None, _, "patch") => return Err(Skip::PatchWithoutResult),
                _ => return Err(Skip::NoObject),
            },
        };
        let name = match (&object, target.name.is_empty()) {
            (Some(o), true) => o
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
        let old_object = match operation {
            "UPDATE" | "DELETE" => self.state(&key).or_else(|| {
                (target.subresource == "status")
                    .then(|| object.clone())
                    .flatten()
            }),
            _ => None,
        };
        let without_old = operation == "UPDATE" && old_object.is_none();
        let kind = object
            .as_ref()
            .and_then(|o| o.get("kind").and_then(Value::as_str))
            .map(str::to_owned)
            .or_else(|| expected.map(str::to_owned))
            .unwrap_or_else(|| target.resource.clone());
        let dry_run = query(&event.request_uri)
            .iter()
            .any(|(k, v)| k == "dryRun" && v == "All");
        if succeeded && !dry_run {
            match operation {
                "DELETE" => {
                    self.states.remove(&key);
                }
                "CREATE" | "UPDATE" => {
                    if let Some(o) = object.as_ref().filter(|o| is_state_of(o, target)) {
                        self.states.insert(key, o.to_string());
                    }
                }
                _ => {}
            }
        }
        let user = event.impersonated_user.as_ref().unwrap_or(&event.user);
        let group_version_kind =
            json!({"group": target.api_group, "version": version, "kind": kind});
        let resource =
            json!({"group": target.api_group, "version": version, "resource": target.resource});
        let mut request = Map::new();
        request.insert("uid".into(), event.audit_id.clone().into());
        request.insert("kind".into(), group_version_kind.clone());
        request.insert("resource".into(), resource.clone());
        if !target.subresource.is_empty() {
            request.insert("subResource".into(), target.subresource.clone().into());
        }
        request.insert("requestKind".into(), group_version_kind);
        request.insert("requestResource".into(), resource);
        if !target.subresource.is_empty() {
            request.insert(
                "requestSubResource".into(),
                target.subresource.clone().into(),
            );
        }
        if !name.is_empty() {
            request.insert("name".into(), name.into());
        }
        if !target.namespace.is_empty() {
            request.insert("namespace".into(), target.namespace.clone().into());
        }
        request.insert("operation".into(), operation.into());
        request.insert("userInfo".into(), user.clone());
        request.insert("object".into(), object.unwrap_or(Value::Null));
        request.insert("oldObject".into(), old_object.unwrap_or(Value::Null));
        request.insert("dryRun".into(), dry_run.into());
        Ok(Replayed {
            review: json!({
                "kind": "AdmissionReview",
                "apiVersion": "admission.k8s.io/v1",
                "request": request,
            }),
            without_old,
        })
    }

    /// Remembers the object a successful read returned.
    fn learn(&mut self, event: &Event, target: &ObjectRef, succeeded: bool) {
        if event.verb != "get" || !succeeded {
            return;
        }
        if let Some(object) = event
            .response_object
            .as_ref()
            .filter(|o| is_state_of(o, target))
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

#[cfg(test)]
mod tests {
    use super::*;

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
            (event("deletecollection", |_| {}), Skip::DeleteCollection),
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
        // (events before, the previous state the UPDATE gets)
        let cases: [(Vec<Event>, Option<Value>); 7] = [
            (vec![], None),
            (vec![write("create", 201)], Some(old.clone())),
            (vec![write("get", 200)], Some(old.clone())),
            (vec![write("patch", 200)], Some(old.clone())),
            (vec![write("create", 409)], None),
            (vec![other], None),
            (
                vec![write("get", 200), eviction, dry_run],
                Some(old.clone()),
            ),
        ];
        for (i, (before, want)) in cases.into_iter().enumerate() {
            let mut log = AuditLog::default();
            for e in &before {
                let _ = log.replay(e);
            }
            let replayed = log.replay(&event("update", |_| {})).unwrap();
            assert_eq!(replayed.without_old, want.is_none(), "case {i}");
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
        assert!(log.replay(&event("update", |_| {})).unwrap().without_old);
    }
}
