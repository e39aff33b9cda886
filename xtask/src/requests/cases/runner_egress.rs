//! `runner-egress`: the runners' NetworkPolicy opens no namespace wholesale and no rule to
//! everywhere.

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use policy::decision::RuleName::RunnerEgress;

use super::Case;
use super::builders::{allow, deny};
use crate::requests::fleet::{ATTIC_NAMESPACE, Identity};
use crate::requests::objects::{egress, egress_policy, runner_egress_rules};
use crate::requests::review::{Object, Request};

pub fn cases() -> Vec<Case> {
    let admin = Identity::Admin;
    let with = |extra| {
        let mut rules = runner_egress_rules(ATTIC_NAMESPACE);
        rules.extend(extra);
        Request::create(
            admin,
            Object::of(&egress_policy("gitlab-runner-egress", rules)),
        )
    };
    vec![
        allow(
            "runner-egress-attic-dns-registries",
            "egress/attic-dns-registries.json",
            with(None),
        ),
        deny(
            "runner-egress-every-namespace",
            "egress/every-namespace.json",
            &[RunnerEgress],
            with(Some(egress(
                Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(LabelSelector::default()),
                    ..NetworkPolicyPeer::default()
                }]),
                &[("TCP", 443)],
            ))),
        ),
        deny(
            "runner-egress-rule-without-to",
            "egress/rule-without-to.json",
            &[RunnerEgress],
            with(Some(egress(None, &[("TCP", 443)]))),
        ),
    ]
}
