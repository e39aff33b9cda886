//! `valid-request`: requests whose object the rules cannot read: a wrong type where the rules
//! read, or no pod spec. Each is a valid-request denial, never judged as empty.

use policy::decision::RuleName::ValidRequest;
use serde_json::{Value, json};

use super::Case;
use super::builders::{create, deny, kaniko_job};
use crate::requests::fleet::{Identity, Runner};
use crate::requests::objects::runner_manager_deployment;
use crate::requests::review::Request;

pub fn cases() -> Vec<Case> {
    let docker = Identity::Runner(Runner::Docker);
    let with = |edit: fn(&mut Value)| {
        let mut request = create(docker, &kaniko_job().build());
        if let Some(object) = request.object.as_mut() {
            edit(object);
        }
        request
    };
    let mut deployment = Request::create(Identity::Admin, runner_manager_deployment(Runner::Dind));
    if let Some(object) = deployment.object.as_mut() {
        object["spec"]["template"] = Value::Null;
    }
    vec![
        deny(
            "object-is-a-string",
            "unreadable/object-is-a-string.json",
            &[ValidRequest],
            with(|o| *o = json!("kind: Pod")),
        ),
        deny(
            "containers-not-a-list",
            "unreadable/containers-not-a-list.json",
            &[ValidRequest],
            with(|o| {
                let build = o["spec"]["containers"][0].take();
                o["spec"]["containers"] = json!({"build": build});
            }),
        ),
        deny(
            "privileged-as-a-string",
            "unreadable/privileged-as-a-string.json",
            &[ValidRequest],
            with(|o| o["spec"]["containers"][0]["securityContext"] = json!({"privileged": "true"})),
        ),
        deny(
            "pod-spec-null",
            "unreadable/pod-spec-null.json",
            &[ValidRequest],
            with(|o| o["spec"] = Value::Null),
        ),
        deny(
            "deployment-template-null",
            "unreadable/deployment-template-null.json",
            &[ValidRequest],
            deployment,
        ),
    ]
}
