//! The audit events read from a log: the fields replay needs, and the JSON values an admission
//! request is made of kept as their text ([`Raw`]) with the few of their fields the rebuild
//! reads ([`Facts`]). A replay reads hundreds of megabytes of objects that it only hands on to
//! the module: keeping them as text, without a tree of each, is most of its speed.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `audit.k8s.io/v1` Event, holding what an admission request is rebuilt from.
///
/// Read from a [`Value`] (`serde_json::from_value`) or, faster, from a log's line
/// ([`super::read_line`]); both read a field that is absent or `null` as empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    pub audit_id: String,
    pub stage: String,
    pub request_uri: String,
    pub verb: String,
    /// `None` when absent or `null`.
    pub user: Option<Arc<Raw>>,
    pub impersonated_user: Option<Arc<Raw>>,
    pub object_ref: Option<ObjectRef>,
    pub response_status: Option<ResponseStatus>,
    pub request_object: Option<Arc<Raw>>,
    pub response_object: Option<Arc<Raw>>,
    pub annotations: BTreeMap<String, String>,
}

/// The object an event addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ResponseStatus {
    #[serde(default, deserialize_with = "or_default")]
    pub code: u16,
}

/// The event's fields as `serde` reads them, the JSON values as trees.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    #[serde(rename = "auditID", default, deserialize_with = "or_default")]
    audit_id: String,
    #[serde(default, deserialize_with = "or_default")]
    stage: String,
    #[serde(rename = "requestURI", default, deserialize_with = "or_default")]
    request_uri: String,
    #[serde(default, deserialize_with = "or_default")]
    verb: String,
    #[serde(default)]
    user: Option<Value>,
    #[serde(default)]
    impersonated_user: Option<Value>,
    #[serde(default)]
    object_ref: Option<ObjectRef>,
    #[serde(default)]
    response_status: Option<ResponseStatus>,
    #[serde(default)]
    request_object: Option<Value>,
    #[serde(default)]
    response_object: Option<Value>,
    #[serde(default, deserialize_with = "or_default")]
    annotations: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fields = Fields::deserialize(d)?;
        let raw = |value: Option<Value>| value.map(|v| Arc::new(Raw::from_value(&v)));
        Ok(Event {
            audit_id: fields.audit_id,
            stage: fields.stage,
            request_uri: fields.request_uri,
            verb: fields.verb,
            user: raw(fields.user),
            impersonated_user: raw(fields.impersonated_user),
            object_ref: fields.object_ref,
            response_status: fields.response_status,
            request_object: raw(fields.request_object),
            response_object: raw(fields.response_object),
            annotations: fields.annotations,
        })
    }
}

/// A field that may be absent or `null` (as Go's decoder allows).
pub(crate) fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A JSON value as its text, with the fields of it the rebuild reads. The text is a part of a
/// larger one (the log's line it was read from) or all of one.
#[derive(Debug, Clone)]
pub struct Raw {
    source: Arc<String>,
    span: Range<usize>,
    facts: Facts,
}

/// What the rebuild reads of a JSON value: where it is an object, those of its fields that are
/// strings (absent, `null` and other types alike are `None`), and two tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Whether the value is a JSON object.
    pub object: bool,
    pub kind: Option<String>,
    pub api_version: Option<String>,
    /// `metadata.name`, `metadata.generateName`, `metadata.resourceVersion`.
    pub name: Option<String>,
    pub generate_name: Option<String>,
    pub resource_version: Option<String>,
    /// Whether `metadata.deletionTimestamp` is there and not `null`.
    pub deleting: bool,
    /// Whether `dryRun` is an array holding `"All"` (DeleteOptions).
    pub dry_run_all: bool,
    /// `target.name` (a Binding's node).
    pub target_name: Option<String>,
    /// `username` (a UserInfo's).
    pub username: Option<String>,
}

impl Facts {
    /// The facts of a tree.
    pub fn of(value: &Value) -> Self {
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Facts {
            object: value.is_object(),
            kind: text("/kind"),
            api_version: text("/apiVersion"),
            name: text("/metadata/name"),
            generate_name: text("/metadata/generateName"),
            resource_version: text("/metadata/resourceVersion"),
            deleting: value
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|t| !t.is_null()),
            dry_run_all: value["dryRun"]
                .as_array()
                .is_some_and(|d| d.iter().any(|v| v == "All")),
            target_name: text("/target/name"),
            username: text("/username"),
        }
    }
}

impl Raw {
    /// A tree's text (compact), and its facts.
    pub fn from_value(value: &Value) -> Self {
        let text = value.to_string();
        Raw {
            span: 0..text.len(),
            source: Arc::new(text),
            facts: Facts::of(value),
        }
    }

    /// `span` of `source`, a JSON value whose facts are `facts`.
    pub(crate) fn part(source: Arc<String>, span: Range<usize>, facts: Facts) -> Self {
        Raw {
            source,
            span,
            facts,
        }
    }

    /// The JSON text.
    pub fn text(&self) -> &str {
        self.source.get(self.span.clone()).unwrap_or_default()
    }

    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The value as a tree.
    pub fn value(&self) -> Value {
        // The text was read as JSON, or written from a tree, when this was made.
        serde_json::from_str(self.text()).unwrap_or(Value::Null)
    }

    /// This value on its own: a copy of its text when it is a small part of a larger one, so
    /// that what is kept for long (an object's last state) does not keep its whole log line.
    pub(crate) fn detached(self: &Arc<Self>) -> Arc<Self> {
        if self.span.len() * 2 >= self.source.len() {
            return Arc::clone(self);
        }
        let text = self.text().to_owned();
        Arc::new(Raw {
            span: 0..text.len(),
            source: Arc::new(text),
            facts: self.facts.clone(),
        })
    }

    /// Whether this is an object of kind `kind` (any kind but `Status` when `None`), not a
    /// `Status` or an options echo.
    pub fn is_object_of(&self, kind: Option<&str>) -> bool {
        self.facts
            .kind
            .as_deref()
            .is_some_and(|own| own != "Status" && kind.is_none_or(|k| k == own))
    }
}

impl PartialEq for Raw {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text() && self.facts == other.facts
    }
}

/// Whether `value` is an `audit.k8s.io` Event.
pub fn is_audit_event(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("Event")
        && value
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(is_audit_api_version)
}

pub(crate) fn is_audit_api_version(version: &str) -> bool {
    version.starts_with("audit.k8s.io/")
}
