//! Requests around the objects: identity, namespace, operation, the old object of an UPDATE,
//! settings, and sometimes a value of the wrong type.

use proptest::prelude::*;
use proptest::sample::select;
use runner_policy::rego::RegoPolicy;
use serde_json::{Value, json};

use super::objects::object;
use super::{EXEMPT, RUNNERS_NS, s};

const USERS: &[&str] = &[
    "system:serviceaccount:example-runners:gitlab-runner-dind",
    "system:serviceaccount:example-runners:gitlab-runner-docker",
    "system:serviceaccount:example-runners:gitlab-runner-rocky8",
    "system:serviceaccount:example-runners:gitlab-runner-rocky9",
    "system:serviceaccount:example-runners:gitlab-runner-nix",
    "system:serviceaccount:example-runners:default",
    "system:serviceaccount:default:gitlab-runner-dind",
    "kubernetes-admin",
    EXEMPT,
    "",
];

/// A Gatekeeper input document: `{"review": AdmissionRequest, "parameters": settings}`.
pub fn gatekeeper_input() -> impl Strategy<Value = Value> {
    let namespace = select(
        &[
            Some(RUNNERS_NS),
            Some("default"),
            Some("attic-cache-dev"),
            None,
        ][..],
    );
    (namespace, select(USERS), select(&["CREATE", "UPDATE", "DELETE", "CONNECT"][..]), select(&["all", "services"][..]), any::<bool>())
        .prop_flat_map(|(ns, user, op, mode, exempt)| {
            let ns = ns.map(str::to_owned);
            (Just((ns.clone(), user, op, mode, exempt)), object(ns.clone()), object(ns), 0..6u8, (0..10u8, any::<usize>(), select(WRONG_TYPED)))
        })
        .prop_map(|((ns, user, op, mode, exempt), (group, kind, mut obj), (_, old_kind, other), old_choice, (wrong_at, node, wrong))| {
            let mut settings = runner_policy::settings::example().unwrap();
            settings["dindPrivilegedContainers"] = json!(mode);
            if exempt {
                // Sometimes the requester too: allowed if an operator, a settings error if a
                // runner manager.
                settings["exemptUsers"] = if old_choice == 1 && !user.is_empty() {
                    json!([EXEMPT, user])
                } else {
                    json!([EXEMPT])
                };
            }
            // UPDATE: the object as it was (pod spec unchanged), another of the same kind, or
            // the same with a label added (metadata change only).
            // For a Pod also: the same without its ephemeral containers (kubectl debug added
            // them), with other resources in its first container (a resize) or another image.
            let first = |edit: fn(&mut serde_json::Map<String, Value>)| {
                let mut o = obj.clone();
                let c = o.pointer_mut("/spec/containers/0").and_then(Value::as_object_mut);
                c.map(edit);
                o
            };
            let old = match old_choice {
                0 => obj.clone(),
                1 if old_kind == kind => other,
                3 => {
                    let mut o = obj.clone();
                    o.get_mut("spec").and_then(Value::as_object_mut).map(|s| s.remove("ephemeralContainers"));
                    o
                }
                4 => first(|c| {
                    c.insert(s("resources"), json!({"limits": {"cpu": "3"}}));
                }),
                5 => first(|c| {
                    c.insert(s("image"), json!("alpine:3.19"));
                }),
                _ => {
                    let mut o = obj.clone();
                    o["metadata"]["labels"] = json!({"changed": "yes"});
                    o
                }
            };
            let mut request = json!({
                "uid": "00000000-0000-0000-0000-000000000000",
                "kind": {"group": group, "version": "v1", "kind": kind},
                "operation": op,
                "userInfo": if user.is_empty() { json!({}) } else { json!({"username": user, "groups": ["system:authenticated"]}) },
                "name": obj["metadata"]["name"],
            });
            if let Some(ns) = &ns {
                request["namespace"] = json!(ns);
            }
            if kind == "TokenRequest" {
                // Clients send no name in the body: the ServiceAccount is the request's name.
                request["subResource"] = json!("token");
                if let Some(meta) = obj["metadata"].as_object_mut() {
                    meta.remove("name");
                }
            }
            match op {
                // (`old_choice` is free for a CREATE: it sometimes sends no object at all.)
                "CREATE" if old_choice == 2 => {}
                "CREATE" => request["object"] = obj,
                "UPDATE" => {
                    request["object"] = obj;
                    request["oldObject"] = old;
                }
                "DELETE" => request["oldObject"] = obj,
                _ => {
                    request["kind"] = json!({"group": "", "version": "v1", "kind": "PodExecOptions"});
                    request["subResource"] = json!("exec");
                    request["object"] = json!({"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"]});
                }
            }
            // Sometimes a value of another type somewhere in the object, the old object or the
            // request: both must refuse what the module's reader refuses.
            let wrong: Value = serde_json::from_str(wrong).unwrap();
            match wrong_at {
                0 | 2 => {
                    let at = if wrong_at == 0 { "object" } else { "oldObject" };
                    if let Some(o) = request.get_mut(at) {
                        replace_node(o, node, &wrong);
                    }
                }
                1 => replace_node(&mut request, node, &wrong),
                _ => {}
            }
            RegoPolicy::gatekeeper_input(&request, &settings)
        })
}

/// Values put in place of a generated one, of every JSON type.
const WRONG_TYPED: &[&str] = &[
    "\"x\"",
    "7",
    "1.5",
    "true",
    "null",
    "{}",
    "[]",
    "[\"x\"]",
    "[1]",
    "[null]",
    "{\"a\": 1}",
];

/// Replaces the `n`-th value of `v` in document order (counted modulo the number of values).
fn replace_node(v: &mut Value, n: usize, with: &Value) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn go(v: &mut Value, n: &mut usize, with: &Value) -> bool {
        if *n == 0 {
            *v = with.clone();
            return true;
        }
        *n -= 1;
        match v {
            Value::Array(a) => a.iter_mut().any(|x| go(x, n, with)),
            Value::Object(o) => o.values_mut().any(|x| go(x, n, with)),
            _ => false,
        }
    }
    let mut n = n % count(v);
    go(v, &mut n, with);
}

/// The (rule, path) pairs the policy (natively, the code the module is built from) reports on
/// an input document, sorted.
pub fn module_rule_paths(input: &str) -> Vec<(String, String)> {
    let decision = policy::eval::decide(input.as_bytes(), None).decision;
    let mut out: Vec<(String, String)> = decision
        .violations
        .iter()
        .map(|v| (v.rule.as_str().to_owned(), v.path.clone()))
        .collect();
    out.sort();
    out
}
