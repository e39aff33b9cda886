//! The objects of a request, as JSON: Pods, workloads, RBAC objects, Secrets, ConfigMaps,
//! NetworkPolicies, a TokenRequest, a Namespace and a Service.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::super::{RUNNERS_NS, pick};
use super::obj;
use super::pods::pod_template;

fn role_rules() -> impl Strategy<Value = Value> {
    vec(
        (
            vec(pick(&["", "apps", "*"]), 1..2),
            vec(pick(&["pods", "secrets", "*", "*/exec", "pods/log"]), 1..3),
            vec(
                pick(&["get", "list", "*", "ESCALATE", "bind", "impersonate"]),
                1..3,
            ),
        ),
        0..3,
    )
    .prop_map(|rules| {
        json!(
            rules
                .into_iter()
                .map(|(g, r, v)| json!({"apiGroups": g, "resources": r, "verbs": v}))
                .collect::<Vec<_>>()
        )
    })
}

fn subjects() -> impl Strategy<Value = Value> {
    vec(
        prop_oneof![
            (
                pick(&["gitlab-runner-docker", "x"]),
                option::of(pick(&[RUNNERS_NS, "default", ""]))
            )
                .prop_map(|(n, ns)| obj(vec![
                    ("kind", Some(json!("ServiceAccount"))),
                    ("name", Some(json!(n))),
                    ("namespace", ns.map(Value::from))
                ])),
            pick(&[
                "system:serviceaccount:example-runners:gitlab-runner-dind",
                "system:serviceaccount:example-runners-x:a",
                "alice"
            ])
            .prop_map(
                |n| json!({"kind": "User", "name": n, "apiGroup": "rbac.authorization.k8s.io"})
            ),
            pick(&[
                "system:serviceaccounts",
                "system:serviceaccounts:example-runners",
                "system:authenticated",
                "devs"
            ])
            .prop_map(
                |n| json!({"kind": "Group", "name": n, "apiGroup": "rbac.authorization.k8s.io"})
            ),
        ],
        0..3,
    )
    .prop_map(Value::from)
}

fn data_keys() -> impl Strategy<Value = Value> {
    btree_map(
        pick(&[
            "runner-token",
            "Runner-Registration-Token",
            "ATTIC_TOKEN",
            "attic_key",
            "ATTIC_URL",
            "config",
        ]),
        Just(json!("dmFsdWU=")),
        0..3,
    )
    .prop_map(|m| json!(m))
}

fn peer() -> impl Strategy<Value = Value> {
    let selector = |keys: &'static [&'static str], values: &'static [&'static str]| {
        (
            option::of((pick(keys), pick(values))),
            option::of((pick(keys), pick(&["In", "NotIn"]), vec(pick(values), 0..2))),
        )
            .prop_map(|(label, expr)| {
                obj(vec![
                    ("matchLabels", label.map(|(k, v)| json!({ k: v }))),
                    (
                        "matchExpressions",
                        expr.map(
                            |(k, op, vals)| json!([{"key": k, "operator": op, "values": vals}]),
                        ),
                    ),
                ])
            })
    };
    (
        option::of(selector(
            &["kubernetes.io/metadata.name", "team"],
            &["attic-cache-dev", "kube-system", "default"],
        )),
        option::of(selector(&["k8s-app", "app"], &["kube-dns", "web"])),
        any::<bool>(),
    )
        .prop_map(|(ns, pods, ip)| {
            obj(vec![
                ("namespaceSelector", ns),
                ("podSelector", pods),
                ("ipBlock", ip.then(|| json!({"cidr": "10.0.0.0/8"}))),
            ])
        })
}

/// `(group, kind, object)`.
pub(super) fn object() -> impl Strategy<Value = (String, String, Value)> {
    let meta = || (pick(&["job-1", ""]), option::of(pick(&["gen-"])));
    prop_oneof![
        4 => (meta(), pod_template()).prop_map(|((name, generate), mut t)| {
            t["metadata"]["name"] = json!(name);
            if let Some(g) = generate { t["metadata"]["generateName"] = json!(g); }
            (String::new(), "Pod".to_owned(), t)
        }),
        1 => (pod_template(), select(&[("apps", "Deployment"), ("batch", "Job"), ("", "ReplicationController"), ("batch", "CronJob"), ("", "PodTemplate")][..]))
            .prop_map(|(t, (group, kind))| {
                let body = match kind {
                    "CronJob" => json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": t}}}}),
                    "PodTemplate" => json!({"template": t}),
                    _ => json!({"spec": {"template": t}}),
                };
                let mut o = body;
                o["metadata"] = json!({"name": "w"});
                (group.to_owned(), kind.to_owned(), o)
            }),
        1 => role_rules().prop_map(|r| ("rbac.authorization.k8s.io".to_owned(), "Role".to_owned(), json!({"metadata": {"name": "r"}, "rules": r}))),
        1 => (select(&["RoleBinding", "ClusterRoleBinding"][..]), select(&[("Role", "runner"), ("ClusterRole", "system:discovery"), ("ClusterRole", "system:service-account-issuer-discovery"), ("ClusterRole", "admin")][..]), subjects())
            .prop_map(|(kind, (rk, rn), s)| ("rbac.authorization.k8s.io".to_owned(), kind.to_owned(), json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": rk, "name": rn}, "subjects": s}))),
        1 => (data_keys(), option::of(pick(&["kubernetes.io/service-account-token", "Opaque"])), option::of(pick(&["gitlab-runner-docker", "gitlab-runner-dind", ""])))
            .prop_map(|(data, t, sa)| {
                let annotations = sa.map(|sa| json!({"kubernetes.io/service-account.name": sa}));
                ("".to_owned(), "Secret".to_owned(), obj(vec![
                    ("metadata", Some(obj(vec![("name", Some(json!("s"))), ("annotations", annotations)]))),
                    ("type", t.map(Value::from)),
                    ("data", Some(data)),
                ]))
            }),
        1 => (data_keys(), data_keys()).prop_map(|(d, b)| ("".to_owned(), "ConfigMap".to_owned(), json!({"metadata": {"name": "c"}, "data": d, "binaryData": b}))),
        1 => vec(option::of(vec(peer(), 0..3)), 0..3).prop_map(|egress| {
            let egress: Vec<Value> = egress.into_iter().map(|to| obj(vec![("to", to.map(Value::from))])).collect();
            ("networking.k8s.io".to_owned(), "NetworkPolicy".to_owned(), json!({"metadata": {"name": "n"}, "spec": {"podSelector": {}, "egress": egress}}))
        }),
        1 => Just(("authentication.k8s.io".to_owned(), "TokenRequest".to_owned(), json!({"spec": {"audiences": ["api"]}}))),
        1 => Just(("".to_owned(), "Namespace".to_owned(), json!({"metadata": {"name": RUNNERS_NS}}))),
        1 => Just(("".to_owned(), "Service".to_owned(), json!({"metadata": {"name": "svc"}}))),
    ]
}
