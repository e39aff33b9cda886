//! Secrets and ConfigMaps: the per-job pull Secret, tokens and settings where they belong and
//! where they do not.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::chart::runner_token;
use super::{labels, meta};
use crate::requests::fleet::{ATTIC_TOKEN, NAMESPACE, Runner, attic_server};

/// The per-job `kubernetes.io/dockercfg` Secret (`setupCredentials`): pull credentials for the
/// job's images, password masked here. `owner` is the job pod (name, uid) once it exists.
pub fn dockercfg_secret(name: &str, owner: Option<(&str, &str)>) -> Secret {
    let dockercfg = r#"{"registry.gitlab.com":{"username":"gitlab-ci-token","password":"[MASKED]","serveraddress":"registry.gitlab.com"}}"#;
    let mut metadata = meta(NAMESPACE, name);
    if let Some((pod, uid)) = owner {
        metadata.resource_version = Some("48213577".into());
        metadata.owner_references = Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: pod.into(),
            uid: uid.into(),
            ..OwnerReference::default()
        }]);
    }
    Secret {
        metadata,
        type_: Some("kubernetes.io/dockercfg".into()),
        data: Some([(".dockercfg".to_string(), ByteString(dockercfg.into()))].into()),
        ..Secret::default()
    }
}

/// A legacy ServiceAccount token Secret: the token controller fills it with a token of `sa`.
pub fn service_account_token_secret(name: &str, sa: &str) -> Secret {
    let mut metadata = meta(NAMESPACE, name);
    metadata.annotations = Some(labels(&[("kubernetes.io/service-account.name", sa)]));
    Secret {
        metadata,
        type_: Some("kubernetes.io/service-account-token".into()),
        ..Secret::default()
    }
}

/// An unrelated Secret of the control plane.
pub fn cloud_config_secret() -> Secret {
    let mut metadata = meta("kube-system", "cloud-config");
    metadata.resource_version = Some("1287".into());
    Secret {
        metadata,
        type_: Some("Opaque".into()),
        data: Some(
            [(
                "cloud.conf".to_string(),
                ByteString(b"[Global]\nregion = eu-west-1\n".to_vec()),
            )]
            .into(),
        ),
        ..Secret::default()
    }
}

/// A ConfigMap someone filled with the runner token.
pub fn runner_token_config_map(runner: Runner) -> ConfigMap {
    ConfigMap {
        metadata: meta(NAMESPACE, &format!("{}-token", runner.service_account())),
        data: Some(
            [
                (
                    "ci-server-url".to_string(),
                    "https://gitlab.com/".to_string(),
                ),
                ("runner-token".to_string(), runner_token(runner)),
            ]
            .into(),
        ),
        ..ConfigMap::default()
    }
}

/// The Attic client's settings as a ConfigMap, written with its token among them.
pub fn attic_config_map() -> ConfigMap {
    ConfigMap {
        metadata: meta(NAMESPACE, "attic-client"),
        data: Some(
            [
                ("ATTIC_SERVER".to_string(), attic_server()),
                ("ATTIC_CACHE".to_string(), "example".to_string()),
                ("ATTIC_TOKEN".to_string(), ATTIC_TOKEN.to_string()),
            ]
            .into(),
        ),
        ..ConfigMap::default()
    }
}
