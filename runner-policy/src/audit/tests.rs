//! Replay of hand-written event sequences.

use super::*;
use serde_json::{Value, json};

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
    replay(&mut AuditLog::default(), event).map(|r| r.review["request"].clone())
}

/// `log.replay(event)`, checking the request as the replay command hands it on: its text (the
/// objects spliced in as text) reads as its tree, and its summary is the tree's.
fn replay(log: &mut AuditLog, event: &Event) -> Result<Replayed, Skip> {
    let rebuilt = log.request(event)?;
    let review = rebuilt.review();
    let mut text = Vec::new();
    rebuilt.write_review(&mut text);
    let read: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(read, review);
    assert_eq!(rebuilt.summary(), crate::documents::summary(&review));
    Ok(Replayed {
        review,
        note: rebuilt.note,
    })
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
        assert_eq!(replay(&mut log, &event), Err(skip), "case {i}");
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
            let _ = replay(&mut log, e);
        }
        let replayed = replay(&mut log, update).unwrap();
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
    let _ = replay(&mut log, &write("create", 201));
    let deleted = replay(&mut log, &event("delete", |_| {})).unwrap();
    assert_eq!(deleted.review["request"]["oldObject"], old);
    let after = replay(&mut log, &event("update", |_| {})).unwrap();
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
    let created = replay(&mut log, &secret("create")).unwrap();
    assert_eq!(created.note, None);
    let updated = replay(&mut log, &secret("update")).unwrap();
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
    let _ = replay(&mut log, &event("create", |_| {}));
    let _ = replay(
        &mut log,
        &event("create", |e| {
            e["objectRef"]["namespace"] = "elsewhere".into();
        }),
    );
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
        e["objectRef"] = json!({"resource": "namespaces", "name": "team-a", "apiVersion": "v1"});
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
            e["requestURI"] = format!("/api/v1/namespaces/acme-runners/pods/p/exec?{query}").into();
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
    let _ = replay(&mut log, &event("create", |_| {}));
    let _ = replay(&mut log, &delete());
    // A finalizer removed while the pod terminates: compared with the terminating pod.
    let update = replay(&mut log, &event("update", |_| {})).unwrap();
    assert_eq!(update.note, None);
    assert_eq!(update.review["request"]["oldObject"], terminating);
    let mut log = AuditLog::default();
    let _ = replay(&mut log, &event("create", |_| {}));
    let _ = replay(&mut log, &delete());
    let _ = replay(&mut log, &delete());
    assert!(log.states.is_empty(), "the last DELETE removes the pod");
}

#[test]
fn a_binding_of_a_pod_whose_spec_is_not_an_object_forgets_it() {
    let mut log = AuditLog::default();
    let _ = replay(
        &mut log,
        &event("create", |e| e["responseObject"]["spec"] = "odd".into()),
    );
    assert_eq!(log.states.len(), 1);
    let bound = replay(
        &mut log,
        &event("create", |e| {
            e["objectRef"]["subresource"] = "binding".into();
            e["requestObject"] =
                json!({"kind": "Binding", "apiVersion": "v1", "target": {"name": "n"}});
            e["responseObject"] = json!({"kind": "Status"});
        }),
    );
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
            // A log's line is read as a tree would be, or left to be read as one.
            let line = read_line(value.to_string().into_bytes()).ok();
            let Ok(event) = serde_json::from_value::<Event>(value) else {
                proptest::prop_assert!(line.is_none());
                continue;
            };
            if let Some(line) = line {
                proptest::prop_assert_eq!(&line, &event);
            }
            if let Ok(replayed) = replay(&mut log, &event) {
                let request = &replayed.review["request"];
                proptest::prop_assert_eq!(&request["uid"], &json!(format!("e{n}")));
                let operation = request["operation"].as_str().unwrap_or("");
                proptest::prop_assert!(["CREATE", "UPDATE", "DELETE", "CONNECT"].contains(&operation));
            }
        }
    }
}
