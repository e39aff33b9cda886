//! Properties several rules share, as one table over every rule instead of a copy per rule.

use super::RULES;
use crate::decision::RuleName;
use crate::testing::{ADMIN, Req, container, paths, pod, rules};
use alloc::{vec, vec::Vec};
use serde_json::{Value, json};

/// A job pod whose one `build` container has these fields.
fn build(fields: Value) -> Value {
    pod(json!([container("build", fields)]))
}

/// For each rule, a request in the runners namespace that it denies, and another namespace,
/// where the same request is not its business. `None`: the rule judges requests outside the
/// runners namespace too (see its own tests).
fn outside_cases() -> Vec<(RuleName, Option<(Req, &'static str)>)> {
    let push = json!({"name": "push", "secret": {"secretName": "registry-push"}});
    let mut push_pod = build(json!({}));
    push_pod["spec"]["volumes"] = json!([push]);
    let mut host_pod = build(json!({}));
    host_pod["spec"]["hostNetwork"] = json!(true);
    let egress = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "runner-egress"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {}}]}]}
    });
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "gitlab-runner"},
        "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}]
    });
    vec![
        (
            RuleName::DindOnlyPrivilege,
            Some((
                Req::create(build(json!({"securityContext": {"privileged": true}}))),
                "default",
            )),
        ),
        (
            RuleName::NoHostAccess,
            Some((Req::create(host_pod), "default")),
        ),
        // Runner identities are held to their namespace from everywhere.
        (RuleName::RunnerNamespace, None),
        (
            RuleName::NoPushCredentials,
            Some((Req::create(push_pod), "default")),
        ),
        (
            RuleName::NamespacedRbac,
            Some((
                Req::create(role)
                    .group("rbac.authorization.k8s.io")
                    .kind("Role"),
                "default",
            )),
        ),
        (
            RuleName::RunnerTokenSecret,
            Some((
                Req::create(build(
                    json!({"env": [{"name": "RUNNER_TOKEN", "value": "x"}]}),
                )),
                "default",
            )),
        ),
        (
            RuleName::AtticCredentialsFromSecret,
            Some((
                Req::create(build(
                    json!({"env": [{"name": "ATTIC_TOKEN", "value": "t"}]}),
                )),
                "attic-cache-dev",
            )),
        ),
        (
            RuleName::PublicRegistries,
            Some((
                Req::create(build(json!({"image": "quay.io/x/y"}))),
                "default",
            )),
        ),
        (
            RuleName::RunnerEgress,
            Some((
                Req::create(egress)
                    .group("networking.k8s.io")
                    .kind("NetworkPolicy"),
                "default",
            )),
        ),
    ]
}

#[test]
fn outside_the_runners_namespace_a_rule_is_silent() {
    let cases = outside_cases();
    let listed: Vec<RuleName> = cases.iter().map(|(rule, _)| *rule).collect();
    let every: Vec<RuleName> = RULES.iter().map(|(rule, _)| *rule).collect();
    assert_eq!(listed, every, "one case per rule, in report order");
    for (rule, case) in cases {
        let Some((input, elsewhere)) = case else {
            continue;
        };
        let input = input.by(ADMIN);
        assert!(
            rules(&input).contains(&rule),
            "{rule:?} denies it in the runners namespace: {:?}",
            paths(&input)
        );
        let outside = input.ns(elsewhere);
        assert!(
            !rules(&outside).contains(&rule),
            "{rule:?} in {elsewhere}: {:?}",
            paths(&outside)
        );
    }
}
