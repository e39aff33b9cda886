//! `attic-credentials-from-secret`: the Attic token comes from a Secret, never a literal or a
//! ConfigMap.

use k8s_openapi::api::core::v1::{ConfigMapEnvSource, EnvFromSource};
use policy::decision::RuleName::AtticCredentialsFromSecret;

use super::Case;
use super::builders::{attic_job, create, deny, job};
use crate::requests::fleet::{ATTIC_TOKEN, Identity, Runner};
use crate::requests::objects::attic_config_map;
use crate::requests::pod::{JobPod, container, edited};
use crate::requests::review::{Object, Request};

pub fn cases() -> Vec<Case> {
    let settings_from_config_map = edited(JobPod::new(Runner::Nix).build(), |pod| {
        container(pod, "build").env_from = Some(vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: "attic-client".into(),
                optional: None,
            }),
            prefix: Some("ATTIC_".into()),
            ..EnvFromSource::default()
        }]);
    });
    vec![
        deny(
            "attic-config-map-with-token",
            "nix/attic-config-map-with-token.json",
            &[AtticCredentialsFromSecret],
            Request::create(Identity::Admin, Object::of(&attic_config_map())),
        ),
        deny(
            "nix-job-pod-attic-config-map-prefix",
            "nix/job-pod-attic-config-map-prefix.json",
            &[AtticCredentialsFromSecret],
            create(Identity::Runner(Runner::Nix), &settings_from_config_map),
        ),
        deny(
            "nix-job-pod-attic-token-literal",
            "nix/job-pod-attic-token-literal.json",
            &[AtticCredentialsFromSecret],
            job(
                Runner::Nix,
                &attic_job().env(&[("ATTIC_TOKEN", ATTIC_TOKEN)]),
            ),
        ),
    ]
}
