//! The objects of a request: every workload kind, RBAC objects, Secrets, ConfigMaps,
//! NetworkPolicies, a Namespace and TokenRequests.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet,
    StatefulSetSpec,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, Pod, PodTemplate, ReplicationController, ReplicationControllerSpec,
    Secret,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::pods::pod_template;
use super::{RUNNERS_NS, opt_pick, pick, s};

/// `(group, kind, object)` of every kind the rules read, and one they do not.
pub(super) fn object(namespace: Option<String>) -> impl Strategy<Value = (String, String, Value)> {
    let meta = move |name: &str| ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.clone(),
        ..Default::default()
    };
    let selector = LabelSelector::default();
    let m = meta.clone();
    let workloads = (pod_template(), 0..9usize).prop_map(move |(t, which)| {
        let meta = m("w");
        let sel = selector.clone();
        let (group, kind, v) = match which {
            0 => (
                "",
                "Pod",
                serde_json::to_value(Pod {
                    metadata: ObjectMeta {
                        labels: t.metadata.as_ref().and_then(|m| m.labels.clone()),
                        annotations: t.metadata.as_ref().and_then(|m| m.annotations.clone()),
                        ..meta
                    },
                    spec: t.spec,
                    status: None,
                }),
            ),
            1 => (
                "apps",
                "Deployment",
                serde_json::to_value(Deployment {
                    metadata: meta,
                    spec: DeploymentSpec {
                        selector: sel,
                        template: t,
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            2 => (
                "apps",
                "ReplicaSet",
                serde_json::to_value(ReplicaSet {
                    metadata: meta,
                    spec: ReplicaSetSpec {
                        selector: sel,
                        template: Some(t),
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            3 => (
                "apps",
                "StatefulSet",
                serde_json::to_value(StatefulSet {
                    metadata: meta,
                    spec: StatefulSetSpec {
                        selector: sel,
                        template: t,
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            4 => (
                "apps",
                "DaemonSet",
                serde_json::to_value(DaemonSet {
                    metadata: meta,
                    spec: DaemonSetSpec {
                        selector: sel,
                        template: t,
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            5 => (
                "batch",
                "Job",
                serde_json::to_value(Job {
                    metadata: meta,
                    spec: Some(JobSpec {
                        template: t,
                        ..Default::default()
                    }),
                    status: None,
                }),
            ),
            6 => (
                "batch",
                "CronJob",
                serde_json::to_value(CronJob {
                    metadata: meta,
                    spec: CronJobSpec {
                        schedule: s("* * * * *"),
                        job_template: JobTemplateSpec {
                            metadata: None,
                            spec: Some(JobSpec {
                                template: t,
                                ..Default::default()
                            }),
                        },
                        ..Default::default()
                    },
                    status: None,
                }),
            ),
            7 => (
                "",
                "ReplicationController",
                serde_json::to_value(ReplicationController {
                    metadata: meta,
                    spec: Some(ReplicationControllerSpec {
                        template: Some(t),
                        ..Default::default()
                    }),
                    status: None,
                }),
            ),
            _ => (
                "",
                "PodTemplate",
                serde_json::to_value(PodTemplate {
                    metadata: meta,
                    template: Some(t),
                }),
            ),
        };
        (s(group), s(kind), v.unwrap())
    });
    let m = meta.clone();
    let rule = (
        vec(pick(&["", "*", "apps", "rbac.authorization.k8s.io"]), 0..2),
        vec(pick(&["pods", "*", "secrets", "pods/exec"]), 0..2),
        vec(
            pick(&[
                "get",
                "*",
                "escalate",
                "bind",
                "impersonate",
                "create",
                "İmpersonate",
            ]),
            0..3,
        ),
    )
        .prop_map(|(api_groups, resources, verbs)| PolicyRule {
            api_groups: Some(api_groups),
            resources: Some(resources),
            verbs,
            ..Default::default()
        });
    let roles = (vec(rule, 0..3), any::<bool>()).prop_map(move |(rules, cluster)| {
        if cluster {
            (
                s("rbac.authorization.k8s.io"),
                s("ClusterRole"),
                serde_json::to_value(ClusterRole {
                    metadata: m("r"),
                    rules: Some(rules),
                    aggregation_rule: None,
                })
                .unwrap(),
            )
        } else {
            (
                s("rbac.authorization.k8s.io"),
                s("Role"),
                serde_json::to_value(Role {
                    metadata: m("r"),
                    rules: Some(rules),
                })
                .unwrap(),
            )
        }
    });
    let m = meta.clone();
    let subject = (
        pick(&["ServiceAccount", "User", "Group"]),
        pick(&[
            "gitlab-runner-dind",
            "gitlab-runner-nix",
            "default",
            "alice",
        ]),
        opt_pick(&[RUNNERS_NS, "default", ""]),
    )
        .prop_map(|(kind, name, namespace)| Subject {
            api_group: None,
            kind,
            name,
            namespace,
        });
    let bindings = (
        pick(&["Role", "ClusterRole"]),
        vec(subject, 0..3),
        any::<bool>(),
    )
        .prop_map(move |(role_kind, subjects, cluster)| {
            let role_ref = RoleRef {
                api_group: Some(s("rbac.authorization.k8s.io")),
                kind: role_kind,
                name: s("r"),
            };
            if cluster {
                (
                    s("rbac.authorization.k8s.io"),
                    s("ClusterRoleBinding"),
                    serde_json::to_value(ClusterRoleBinding {
                        metadata: m("b"),
                        role_ref,
                        subjects: Some(subjects),
                    })
                    .unwrap(),
                )
            } else {
                (
                    s("rbac.authorization.k8s.io"),
                    s("RoleBinding"),
                    serde_json::to_value(RoleBinding {
                        metadata: m("b"),
                        role_ref,
                        subjects: Some(subjects),
                    })
                    .unwrap(),
                )
            }
        });
    let m = meta.clone();
    let data = (
        vec(
            pick(&[
                "runner-registration-token",
                "runner-token",
                "ATTIC_TOKEN",
                "attıc_token",
                "config.json",
                ".dockerconfigjson",
                "token",
            ]),
            0..3,
        ),
        any::<bool>(),
        opt_pick(&[
            "kubernetes.io/dockercfg",
            "Opaque",
            "kubernetes.io/service-account-token",
        ]),
        opt_pick(&["gitlab-runner-dind", "gitlab-runner-docker", "default"]),
    )
        .prop_map(move |(keys, secret, type_, token_of)| {
            if secret {
                let data: BTreeMap<String, ByteString> = keys
                    .into_iter()
                    .map(|k| (k, ByteString(b"x".to_vec())))
                    .collect();
                let mut metadata = m("s");
                metadata.annotations = token_of
                    .map(|sa| BTreeMap::from([(s("kubernetes.io/service-account.name"), sa)]));
                (
                    s(""),
                    s("Secret"),
                    serde_json::to_value(Secret {
                        metadata,
                        data: Some(data),
                        type_,
                        ..Default::default()
                    })
                    .unwrap(),
                )
            } else {
                let data: BTreeMap<String, String> =
                    keys.into_iter().map(|k| (k, s("x"))).collect();
                (
                    s(""),
                    s("ConfigMap"),
                    serde_json::to_value(ConfigMap {
                        metadata: m("c"),
                        data: Some(data),
                        ..Default::default()
                    })
                    .unwrap(),
                )
            }
        });
    let m = meta.clone();
    let peer = prop_oneof![
        pick(&["attic-cache-dev", "kube-system", "default"]).prop_map(|ns| NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(s("kubernetes.io/metadata.name"), ns)])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        (
            pick(&["kube-system", "default"]),
            opt_pick(&["kube-dns", "other"])
        )
            .prop_map(|(ns, app)| NetworkPolicyPeer {
                namespace_selector: Some(LabelSelector {
                    match_labels: Some(BTreeMap::from([(s("kubernetes.io/metadata.name"), ns)])),
                    ..Default::default()
                }),
                pod_selector: app.map(|a| LabelSelector {
                    match_labels: Some(BTreeMap::from([(s("k8s-app"), a)])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        Just(NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector::default()),
            ..Default::default()
        }),
        Just(NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: s("0.0.0.0/0"),
                except: None
            }),
            ..Default::default()
        }),
    ];
    let netpol = vec(option::of(vec(peer, 0..3)), 0..3).prop_map(move |rules| {
        let egress = rules
            .into_iter()
            .map(|to| NetworkPolicyEgressRule { to, ports: None })
            .collect();
        let spec = NetworkPolicySpec {
            egress: Some(egress),
            policy_types: Some(vec![s("Egress")]),
            ..Default::default()
        };
        (
            s("networking.k8s.io"),
            s("NetworkPolicy"),
            serde_json::to_value(NetworkPolicy {
                metadata: m("n"),
                spec: Some(spec),
            })
            .unwrap(),
        )
    });
    let namespace_object = Just((
        s(""),
        s("Namespace"),
        serde_json::to_value(Namespace {
            metadata: meta("ns"),
            ..Default::default()
        })
        .unwrap(),
    ));
    // The request of a TokenRequest names the ServiceAccount (see `gatekeeper_input`).
    let m = meta.clone();
    let token_request = pick(&["gitlab-runner-dind", "gitlab-runner-nix", "default"]).prop_map(
        move |sa| {
            let mut metadata = m("t");
            metadata.name = Some(sa);
            (
                s("authentication.k8s.io"),
                s("TokenRequest"),
                json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": metadata, "spec": {"audiences": ["api"]}}),
            )
        },
    );
    prop_oneof![6 => workloads, 1 => roles, 1 => bindings, 1 => data, 1 => netpol, 1 => namespace_object, 1 => token_request]
}
