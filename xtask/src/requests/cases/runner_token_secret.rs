//! `runner-token-secret`: the runner token lives in a Secret of the runners namespace only.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, EnvVar};
use policy::decision::RuleName::RunnerTokenSecret;

use super::Case;
use super::builders::{allow, deny};
use crate::requests::fleet::{Identity, NAMESPACE, Runner};
use crate::requests::objects::{
    runner_manager, runner_token, runner_token_config_map, runner_token_secret,
};
use crate::requests::review::{Object, Request};

pub fn cases() -> Vec<Case> {
    use Runner::Docker;
    let admin = Identity::Admin;
    let literal = edited_manager(Docker, |container| {
        container.env.get_or_insert_default().push(EnvVar {
            name: "RUNNER_TOKEN".into(),
            value: Some(runner_token(Docker)),
            ..EnvVar::default()
        });
    });
    vec![
        deny(
            "runner-token-secret-in-default",
            "token/secret-in-default.json",
            &[RunnerTokenSecret],
            Request::create(admin, Object::of(&runner_token_secret(Docker, "default"))),
        ),
        allow(
            "runner-token-secret-in-runners-namespace",
            "token/secret-in-runners-namespace.json",
            Request::create(admin, Object::of(&runner_token_secret(Docker, NAMESPACE)))
                .field_manager("helm"),
        ),
        deny(
            "runner-token-in-config-map",
            "token/config-map.json",
            &[RunnerTokenSecret],
            Request::create(admin, Object::of(&runner_token_config_map(Docker))),
        ),
        deny(
            "runner-manager-literal-token",
            "token/manager-literal-token.json",
            &[RunnerTokenSecret],
            Request::create(admin, Object::of(&literal)),
        ),
    ]
}

/// The runner manager Deployment of `runner` with its container edited.
fn edited_manager(runner: Runner, edit: impl FnOnce(&mut Container)) -> Deployment {
    let mut deployment = runner_manager(runner);
    if let Some(container) = deployment
        .spec
        .template
        .spec
        .as_mut()
        .and_then(|spec| spec.containers.first_mut())
    {
        edit(container);
    }
    deployment
}
