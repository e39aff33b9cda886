//! Reading recorded requests: JSON, multi-document YAML and JSON lines, from files and
//! directory trees; finding every AdmissionReview and audit event in them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::Value;

/// File extensions read when walking a directory.
const EXTENSIONS: [&str; 5] = ["json", "jsonl", "ndjson", "yaml", "yml"];

/// Every file below `paths`: files as given, directories walked recursively (sorted, only
/// files with a JSON/YAML extension).
///
/// # Errors
/// When a path does not exist or a directory cannot be read.
pub fn walk(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk_dir(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk_dir(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk_dir(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// The documents of one text: a single JSON value, JSON lines, or a multi-document YAML
/// stream (tried in that order).
///
/// # Errors
/// When the text is none of those.
pub fn parse_documents(text: &str) -> Result<Vec<Value>> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(vec![value]);
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if !lines.is_empty()
        && let Ok(values) = lines
            .iter()
            .map(|line| serde_json::from_str(line))
            .collect::<Result<Vec<Value>, _>>()
    {
        return Ok(values);
    }
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(doc).context("neither JSON, JSON lines nor YAML")?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

/// Reads the documents of one file.
///
/// # Errors
/// When the file cannot be read or parsed.
pub fn read_documents(path: &Path) -> Result<Vec<Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_documents(&text).with_context(|| format!("cannot parse {}", path.display()))
}

/// Whether `value` is an AdmissionReview carrying a request.
pub fn is_admission_review(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("AdmissionReview")
        && value.get("request").is_some_and(Value::is_object)
}

/// A request found in a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// An AdmissionReview carrying a request.
    Review(Value),
    /// A Kubernetes audit event, to be rebuilt as the request it was ([`crate::audit`]).
    Audit(Value),
}

/// Every AdmissionReview with a request and every audit event inside `value` (itself, or
/// nested in arrays and objects such as lists, logs and audit EventLists), in document order.
pub fn requests(value: Value, out: &mut Vec<Found>) {
    if is_admission_review(&value) {
        out.push(Found::Review(value));
        return;
    }
    if crate::audit::is_audit_event(&value) {
        out.push(Found::Audit(value));
        return;
    }
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| requests(v, out)),
        Value::Object(map) => map.into_iter().for_each(|(_, v)| requests(v, out)),
        _ => {}
    }
}

/// A one-line summary of an AdmissionReview's request:
/// `(operation, kind, namespace/name, username)`.
pub fn summary(review: &Value) -> (String, String, String, String) {
    let request = review.get("request").unwrap_or(&Value::Null);
    let text = |pointer: &str| {
        request
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let name = [
        "/name",
        "/object/metadata/name",
        "/oldObject/metadata/name",
        "/object/metadata/generateName",
    ]
    .iter()
    .map(|p| text(p))
    .find(|n| !n.is_empty())
    .unwrap_or_else(|| "-".into());
    let namespace = text("/namespace");
    let target = if namespace.is_empty() {
        name
    } else {
        format!("{namespace}/{name}")
    };
    (
        text("/operation"),
        text("/kind/kind"),
        target,
        text("/userInfo/username"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_each_format() {
        let review = json!({"kind": "AdmissionReview", "request": {"uid": "1"}});
        let event = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "verb": "create"});
        let cases = [
            (review.to_string(), 1),
            (format!("{review}\n\n{review}\n"), 2),
            (
                "kind: AdmissionReview\nrequest: {uid: a}\n---\nkind: AdmissionReview\nrequest: {uid: b}\n"
                    .to_string(),
                2,
            ),
            (json!({"items": [review, review, {"kind": "Pod"}]}).to_string(), 2),
            (
                json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [event, event]})
                    .to_string(),
                2,
            ),
            (format!("{event}\n{review}\n"), 2),
        ];
        for (text, expected) in cases {
            let mut found = Vec::new();
            for doc in parse_documents(&text).unwrap() {
                requests(doc, &mut found);
            }
            assert_eq!(found.len(), expected, "{text}");
        }
    }

    #[test]
    fn summarises_a_request() {
        let review = json!({"kind": "AdmissionReview", "request": {
            "operation": "CREATE", "kind": {"kind": "Pod"}, "namespace": "ns",
            "object": {"metadata": {"name": "p"}}, "userInfo": {"username": "u"}}});
        assert_eq!(
            summary(&review),
            ("CREATE".into(), "Pod".into(), "ns/p".into(), "u".into())
        );
    }
}
