//! RBAC: the chart's Role and RoleBinding, and the cluster-wide grants a runner must not get.

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::chart::chart_meta;
use super::meta;
use crate::requests::fleet::{NAMESPACE, Runner};

/// A ClusterRole a runner identity has no business creating.
pub fn cluster_role(name: &str) -> ClusterRole {
    ClusterRole {
        metadata: meta("", name),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into(), "pods/exec".into()]),
            verbs: ["get", "list", "create"].map(Into::into).into(),
            ..PolicyRule::default()
        }]),
        aggregation_rule: None,
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|i| (*i).to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// The Role of the Helm chart with `rbac.rules` left empty: everything in the core group.
pub fn chart_default_role(runner: Runner) -> Role {
    Role {
        metadata: chart_meta(&runner.service_account()),
        rules: Some(vec![rule(&[""], &["*"], &["*"])]),
    }
}

/// The Role the Kubernetes executor needs ("Configure runner API permissions" of the GitLab
/// Runner docs), set through `rbac.rules` of the chart.
pub fn narrow_runner_role(runner: Runner) -> Role {
    // The very list the rule accepts, so the recorded allow case cannot drift from it.
    let rules = policy::rules::namespaced_rbac::RUNNER_RULES;
    Role {
        metadata: chart_meta(&runner.service_account()),
        rules: Some(
            rules
                .iter()
                .map(|(resource, verbs)| rule(&[""], &[resource], verbs))
                .collect(),
        ),
    }
}

fn runner_subject(runner: Runner) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: runner.service_account(),
        namespace: Some(NAMESPACE.into()),
        api_group: None,
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: kind.into(),
        name: name.into(),
    }
}

/// The chart's RoleBinding of its Role to the runner's ServiceAccount.
pub fn runner_role_binding(runner: Runner) -> RoleBinding {
    let release = runner.service_account();
    RoleBinding {
        metadata: chart_meta(&release),
        role_ref: role_ref("Role", &release),
        subjects: Some(vec![runner_subject(runner)]),
    }
}

/// A RoleBinding in the runners namespace of the ClusterRole `cluster_role` to the runner.
pub fn cluster_role_in_namespace(runner: Runner, cluster_role: &str) -> RoleBinding {
    RoleBinding {
        metadata: meta(
            NAMESPACE,
            &format!("{}-{cluster_role}", runner.service_account()),
        ),
        role_ref: role_ref("ClusterRole", cluster_role),
        subjects: Some(vec![runner_subject(runner)]),
    }
}

/// A ClusterRoleBinding of the ClusterRole `cluster_role` to the runner's ServiceAccount.
pub fn cluster_role_binding(runner: Runner, cluster_role: &str) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta("", &format!("{}-{cluster_role}", runner.service_account())),
        role_ref: role_ref("ClusterRole", cluster_role),
        subjects: Some(vec![runner_subject(runner)]),
    }
}
