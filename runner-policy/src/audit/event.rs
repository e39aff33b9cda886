//! The audit events read from a log: the fields replay needs.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

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
pub(crate) fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
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
