//! The recorded requests as the API server's audit log backend writes them: `audit.k8s.io/v1`
//! Events at level `RequestResponse`, stage `ResponseComplete`, one JSON object per line.
//!
//! `runner-policy replay` rebuilds admission requests from such a log; the end-to-end test
//! `host-tests/tests/audit_log.rs` checks that each rebuilt request gets the decision its
//! recorded AdmissionReview gets. An UPDATE or DELETE is preceded by the `get` that read the
//! object (as `kubectl edit`, `kubectl delete` and controllers do), which is how a log shows an
//! object's previous state.

use k8s_openapi::api::authentication::v1::UserInfo;
use serde::Serialize;
use serde_json::{Value, json};

use super::review::{Operation, Request};

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    kind: &'static str,
    api_version: &'static str,
    level: &'static str,
    #[serde(rename = "auditID")]
    audit_id: String,
    stage: &'static str,
    #[serde(rename = "requestURI")]
    request_uri: String,
    verb: &'static str,
    user: UserInfo,
    object_ref: ObjectRef,
    response_status: ResponseStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_object: Option<Value>,
    request_received_timestamp: String,
    stage_timestamp: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct ObjectRef {
    resource: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    api_group: String,
    api_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    subresource: String,
}

#[derive(Serialize, Debug)]
struct ResponseStatus {
    metadata: Value,
    code: u16,
}

/// A query value, percent-encoded (RFC 3986 unreserved characters kept).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `2025-06-03T09:20:00.000000Z` plus `millis` (the log covers less than a day).
fn timestamp(millis: u64) -> String {
    let seconds = (9 * 60 + 20) * 60 + millis / 1000;
    format!(
        "2025-06-03T{:02}:{:02}:{:02}.{:03}000Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        millis % 1000
    )
}

impl Request {
    /// The request's path on the API server: the collection, or the object when `named`, and
    /// then its subresource when `sub`.
    fn path(&self, named: bool, sub: bool) -> String {
        let (group, version) = (&self.resource.group, &self.resource.version);
        let mut path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        if !self.namespace.is_empty() {
            path.push_str(&format!("/namespaces/{}", self.namespace));
        }
        path.push('/');
        path.push_str(&self.resource.resource);
        if named {
            path.push('/');
            path.push_str(&self.name);
            if let Some(sub) = self.sub_resource.as_ref().filter(|_| sub) {
                path.push('/');
                path.push_str(sub);
            }
        }
        path
    }

    /// The query the client sent: dry run and field manager, or a CONNECT's options.
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if self.operation == Operation::Connect
            && let Some(object) = &self.object
        {
            for command in object["command"].as_array().into_iter().flatten() {
                query.push(("command", command.as_str().unwrap_or_default().to_owned()));
            }
            if let Some(container) = object["container"].as_str() {
                query.push(("container", container.to_owned()));
            }
            for flag in ["stdin", "stdout", "stderr", "tty"] {
                if object[flag].as_bool() == Some(true) {
                    query.push((flag, "true".to_owned()));
                }
            }
        }
        // A DELETE's dry run travels in its DeleteOptions body, as kubectl sends it.
        if self.dry_run && self.operation != Operation::Delete {
            query.push(("dryRun", "All".to_owned()));
        }
        if let Some(options) = &self.options {
            if let Some(manager) = options.field_manager {
                query.push(("fieldManager", manager.to_owned()));
            }
            if let Some(validation) = options.field_validation {
                query.push(("fieldValidation", validation.to_owned()));
            }
        }
        query
    }

    fn uri(&self, named: bool, query: &[(&str, String)]) -> String {
        let mut uri = self.path(named, true);
        for (i, (key, value)) in query.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            uri.push_str(&format!("{key}={}", encode(value)));
        }
        uri
    }

    /// The events the audit log shows for this request, the `n`th of the log: the `get` of the
    /// previous state before an UPDATE or DELETE, then the request itself. `audit_id` is the
    /// request's (its AdmissionReview uid).
    pub fn audit_events(&self, audit_id: &str, n: u64) -> Vec<Event> {
        let event = |audit_id: String, verb, uri, code, request, response, offset: u64| Event {
            kind: "Event",
            api_version: "audit.k8s.io/v1",
            level: "RequestResponse",
            audit_id,
            stage: "ResponseComplete",
            request_uri: uri,
            verb,
            user: self.identity.user_info(),
            object_ref: ObjectRef {
                resource: self.resource.resource.clone(),
                namespace: self.namespace.clone(),
                name: self.name.clone(),
                api_group: self.resource.group.clone(),
                api_version: self.resource.version.clone(),
                subresource: if verb == "get" {
                    String::new()
                } else {
                    self.sub_resource.clone().unwrap_or_default()
                },
            },
            response_status: ResponseStatus {
                metadata: json!({}),
                code,
            },
            request_object: request,
            response_object: response,
            request_received_timestamp: timestamp(n * 2000 + offset),
            stage_timestamp: timestamp(n * 2000 + offset + 7),
        };
        let mut events = Vec::new();
        if let Some(old) = &self.old_object {
            events.push(event(
                super::fleet::uuid(&format!("get before {audit_id}")),
                "get",
                self.path(true, false),
                200,
                None,
                Some(old.clone()),
                0,
            ));
        }
        let query = self.query();
        let options = self
            .options
            .as_ref()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null));
        let this = match self.operation {
            Operation::Create | Operation::Update => {
                let (verb, code, named) = if self.operation == Operation::Create {
                    ("create", 201, self.sub_resource.is_some())
                } else {
                    ("update", 200, true)
                };
                event(
                    audit_id.to_owned(),
                    verb,
                    self.uri(named, &query),
                    code,
                    self.object.clone(),
                    self.object.clone(),
                    500,
                )
            }
            Operation::Delete => event(
                audit_id.to_owned(),
                "delete",
                self.uri(true, &query),
                200,
                options,
                Some(
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
                ),
                500,
            ),
            // Exec upgrades the connection; its options travel in the query, not in a body.
            Operation::Connect => event(
                audit_id.to_owned(),
                "create",
                self.uri(true, &query),
                101,
                None,
                None,
                500,
            ),
        };
        events.push(this);
        events
    }
}
