//! Objects other than job pods: workload kinds wrapping a pod template, the Helm chart's
//! runner manager and RBAC, Secrets and ConfigMaps, NetworkPolicies and the runners Namespace.

mod chart;
mod network;
mod rbac;
mod secrets;
mod workload;

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::fleet::{NAMESPACE, created_at, uuid};

pub use chart::{runner_manager, runner_manager_deployment, runner_token, runner_token_secret};
pub use network::{egress, egress_policy, runner_egress_rules};
pub use rbac::{
    chart_default_role, cluster_role, cluster_role_binding, cluster_role_in_namespace,
    narrow_runner_role, runner_role_binding,
};
pub use secrets::{
    attic_config_map, cloud_config_secret, dockercfg_secret, runner_token_config_map,
    service_account_token_secret,
};
pub use workload::{Workload, privileged_buildkitd};

/// Metadata of a stored object: name, namespace, uid and creation time.
pub fn meta(namespace: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: (!namespace.is_empty()).then(|| namespace.into()),
        uid: Some(uuid(&format!("uid {namespace}/{name}"))),
        creation_timestamp: Some(created_at()),
        ..ObjectMeta::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

/// The runners Namespace as an admin labels it: Pod Security baseline enforced, as the
/// README's rollout asks (privileged for the dind runner's pods, which this policy narrows).
pub fn runners_namespace(enforce: &str) -> Namespace {
    let mut metadata = meta("", NAMESPACE);
    metadata.resource_version = Some("1042".into());
    metadata.labels = Some(labels(&[
        ("kubernetes.io/metadata.name", NAMESPACE),
        ("pod-security.kubernetes.io/enforce", enforce),
    ]));
    Namespace {
        metadata,
        ..Namespace::default()
    }
}

/// What `kubectl create token` sends: a TokenRequest without a name (the request names the
/// ServiceAccount).
pub fn token_request() -> TokenRequest {
    TokenRequest {
        metadata: ObjectMeta {
            namespace: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        spec: Some(TokenRequestSpec {
            audiences: Some(vec!["https://kubernetes.default.svc.cluster.local".into()]),
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    }
}
