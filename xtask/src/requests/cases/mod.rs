//! Every recorded request: a few lines each, built from the fleet, pod and object builders.
//! One module a rule, named as in `policy/src/rules/`, plus the fleet's everyday requests and
//! the UPDATEs of running pods, which several rules judge.

mod attic_credentials_from_secret;
mod builders;
mod dind_only_privilege;
mod fleet_requests;
mod namespaced_rbac;
mod no_host_access;
mod no_push_credentials;
mod pod_updates;
mod public_registries;
mod runner_egress;
mod runner_namespace;
mod runner_token_secret;
mod valid_request;

use policy::decision::RuleName;

use super::review::Request;

/// What `runner-policy test` must decide.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Allow,
    Deny(&'static [RuleName]),
}

pub struct Case {
    pub name: String,
    pub path: String,
    pub expect: Expect,
    pub request: Request,
}

/// Every case, sorted by request path.
pub fn all() -> Vec<Case> {
    let mut cases: Vec<Case> = [
        fleet_requests::cases(),
        dind_only_privilege::cases(),
        no_host_access::cases(),
        runner_namespace::cases(),
        no_push_credentials::cases(),
        namespaced_rbac::cases(),
        runner_token_secret::cases(),
        attic_credentials_from_secret::cases(),
        public_registries::cases(),
        runner_egress::cases(),
        pod_updates::cases(),
        valid_request::cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}
