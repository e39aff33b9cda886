//! Rebuilding the parts of an admission request an audit event does not hold as such.

use serde_json::{Map, Value};

use super::event::{ObjectRef, Raw};
use crate::k8s::kind_of;

/// Subresources whose requests are CONNECT operations, with the options kind admission sees.
pub(crate) fn connect_kind(resource: &str, subresource: &str) -> Option<&'static str> {
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
pub(crate) fn query(uri: &str) -> Vec<(String, String)> {
    uri.split_once('?')
        .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// The options object of a CONNECT, from the request URI's query (`command` repeats; flags are
/// `true`/`false`/`1`/`0`).
pub(crate) fn connect_options(kind: &str, version: &str, uri: &str) -> Raw {
    Raw::from_value(&options(kind, version, uri))
}

/// The options object of [`connect_options`], as a tree.
fn options(kind: &str, version: &str, uri: &str) -> Value {
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

/// Whether `object` is a whole state of the object `target` addresses: its kind is the
/// resource's (a subresource such as `eviction` names another kind), or, for a resource of a
/// kind not listed in [`kind_of`], it was written without a subresource.
pub(crate) fn is_state_of(object: &Raw, target: &ObjectRef) -> bool {
    match kind_of(&target.api_group, &target.resource) {
        Some(kind) => object.is_object_of(Some(kind)),
        None => target.subresource.is_empty() && object.is_object_of(None),
    }
}
