//! `namespaced-rbac`: runners hold minimal permissions, scoped to their own namespace.
//!
//! - Roles of the runners namespace: no wildcard apiGroups, resources (`*`, `*/sub`) or verbs,
//!   and none of `escalate`, `bind`, `impersonate` (they let the holder grant itself permissions
//!   it does not hold, or act as someone else).
//! - RoleBindings of the runners namespace bind Roles only: a ClusterRole is written and changed
//!   outside the namespace, where these checks do not see it.
//! - No ClusterRoleBinding, and no RoleBinding of another namespace, may have a subject that
//!   reaches the ServiceAccounts of the runners namespace.
//!
//! ClusterRoles themselves are not judged: they grant nothing until bound, and every binding
//! that could hand one to a runner identity is denied here.

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::Object;
use crate::request::json::same_ignoring_case;
use crate::request::object::{BindingObject, PolicyRule, RoleObject, Subject};
use alloc::{borrow::ToOwned, format, string::String, vec::Vec};

const RULE: RuleName = RuleName::NamespacedRbac;

/// What the GitLab Runner Kubernetes executor needs, all in the core API group (`""`): the
/// table "Configure runner API permissions" of the GitLab Runner docs
/// (gitlab-org/gitlab-runner `docs/executors/kubernetes/_index.md`, between the markers
/// `k8s_api_permissions_list_start`/`_end`). `events` serve optional pod-event logging;
/// `namespaces` (for `namespace_per_job`) are left out: that mode leaves the runners namespace.
pub const RUNNER_RULES: [(&str, &[&str]); 8] = [
    ("pods", &["create", "delete", "get", "list", "watch"]),
    ("pods/attach", &["create", "delete", "get", "patch"]),
    ("pods/exec", &["create", "delete", "get", "patch"]),
    ("pods/log", &["get", "list"]),
    ("secrets", &["create", "delete", "get", "update"]),
    ("serviceaccounts", &["get"]),
    ("services", &["create", "get"]),
    ("events", &["list", "watch"]),
];

/// Verbs that escape RBAC itself: grant permissions one does not hold, or act as another.
pub const ESCALATING_VERBS: [&str; 3] = ["escalate", "bind", "impersonate"];

/// ClusterRoles the API server binds to `system:authenticated` at bootstrap (and reconciles at
/// every start): discovery, self-review and public info only.
const BOOTSTRAP_DISCOVERY_ROLES: [&str; 3] = [
    "system:basic-user",
    "system:discovery",
    "system:public-info-viewer",
];

/// The ClusterRole the API server binds to `system:serviceaccounts` at bootstrap: reading the
/// service account issuer's OIDC discovery documents, nothing else.
const BOOTSTRAP_SERVICE_ACCOUNT_ROLES: [&str; 1] = ["system:service-account-issuer-discovery"];

/// The narrow rule list, for messages.
pub fn runner_rules_text() -> String {
    let mut text = String::from("apiGroups [\"\"]: ");
    for (i, (resource, verbs)) in RUNNER_RULES.iter().enumerate() {
        if i > 0 {
            text.push_str("; ");
        }
        text.push_str(resource);
        text.push_str(" [");
        text.push_str(&crate::join::join(verbs, ", "));
        text.push(']');
    }
    text
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    match ctx.written() {
        Some(Object::Role(role)) if ctx.in_runners_namespace() => check_role(ctx, role, out),
        Some(Object::RoleBinding(binding)) if ctx.in_runners_namespace() => {
            role_ref(ctx, binding, out)
        }
        Some(Object::RoleBinding(binding)) => subjects(ctx, binding, false, out),
        Some(Object::ClusterRoleBinding(binding)) => subjects(ctx, binding, true, out),
        _ => {}
    }
}

fn quoted(items: &[&str]) -> String {
    if items.is_empty() {
        return "[]".to_owned();
    }
    format!("[\"{}\"]", crate::join::join(items, "\", \""))
}

fn check_role(ctx: &Context<'_, '_>, role: &RoleObject<'_>, out: &mut Vec<Violation>) {
    let subject = ctx.subject();
    let fix = format!(
        "grant the runner only what the GitLab Runner Kubernetes executor needs: {}",
        runner_rules_text()
    );
    let mut deny = |path: String, what: String| {
        out.push(Violation::new(
            RULE,
            path.clone(),
            format!(
                "{subject} (requested by {}): {path} {what}; {fix}",
                ctx.who()
            ),
        ));
    };
    for (i, rule) in role.rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        let groups: Vec<&str> = rule.api_groups.iter().map(|g| g.as_ref()).collect();
        if groups.contains(&"*") {
            deny(
                format!("{at}.apiGroups"),
                "holds the wildcard `*` (every API group)".to_owned(),
            );
        }
        if let Some(wild) = wildcard_resource(rule) {
            let what = if wild == "*" {
                format!(
                    "holds the wildcard `*` (every resource of apiGroups {})",
                    quoted(&groups)
                )
            } else {
                format!("holds the wildcard `{wild}` (that subresource of every resource)")
            };
            deny(format!("{at}.resources"), what);
        }
        let wild_verb = rule.verbs.iter().any(|v| v == "*");
        let escalating: Vec<&str> = rule
            .verbs
            .iter()
            .map(|v| v.as_ref())
            .filter(|v| {
                ESCALATING_VERBS
                    .iter()
                    .any(|e| same_ignoring_case(e.as_bytes(), v.as_bytes()))
            })
            .collect();
        let verbs = match (wild_verb, escalating.is_empty()) {
            (false, true) => continue,
            (true, true) => {
                "holds the wildcard `*` (every verb, escalate, bind and impersonate among them)"
                    .to_owned()
            }
            (false, false) => format!(
                "holds `{}` (verbs that grant permissions the holder does not have, or act as another identity)",
                crate::join::join(&escalating, "`, `")
            ),
            (true, false) => format!(
                "holds the wildcard `*` and `{}` (every verb, including those that grant permissions the holder does not have, or act as another identity)",
                crate::join::join(&escalating, "`, `")
            ),
        };
        deny(format!("{at}.verbs"), verbs);
    }
}

/// `*`, or `*/<subresource>` (RBAC matches it against that subresource of every resource).
fn wildcard_resource<'r>(rule: &'r PolicyRule<'_>) -> Option<&'r str> {
    rule.resources
        .iter()
        .map(|r| r.as_ref())
        .find(|r| *r == "*" || r.starts_with("*/"))
}

fn role_ref(ctx: &Context<'_, '_>, binding: &BindingObject<'_>, out: &mut Vec<Violation>) {
    let kind = binding.role_ref.kind.as_ref();
    if kind == "Role" {
        return;
    }
    let ns = ctx.namespace;
    out.push(Violation::new(
        RULE,
        "roleRef",
        format!(
            "{} (requested by {}): roleRef is {kind} {}; RoleBindings in {ns} may bind only Roles of {ns}, whose rules this policy checks. Bind a Role of {ns} holding only what the runner needs ({})",
            ctx.object_ref(),
            ctx.who(),
            binding.role_ref.name,
            runner_rules_text()
        ),
    ));
}

/// How a subject reaches the ServiceAccounts of the runners namespace, if it does.
///
/// A ServiceAccount authenticates as user `system:serviceaccount:<ns>:<name>` in the groups
/// `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`, so a User
/// subject with that name and each of those groups reaches it as surely as a ServiceAccount
/// subject does. `system:authenticated` is allowed only for the bootstrap discovery roles, which
/// the API server itself binds to it.
fn reaches_runners(
    subject: &Subject<'_>,
    binding: &BindingObject<'_>,
    binding_ns: &str,
    runners_ns: &str,
) -> Option<String> {
    let name = subject.name.as_ref();
    match subject.kind.as_ref() {
        "ServiceAccount" => {
            // A RoleBinding's ServiceAccount subject without namespace is in the binding's.
            let ns = subject
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_ns);
            (ns == runners_ns).then(|| format!("ServiceAccount {ns}/{name}"))
        }
        "User" => name
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.strip_prefix(runners_ns))
            .is_some_and(|rest| rest.starts_with(':'))
            .then(|| format!("User {name}, the username of a ServiceAccount of {runners_ns}")),
        "Group" => {
            let own = name.strip_prefix("system:serviceaccounts:") == Some(runners_ns);
            let cluster_role = binding.role_ref.kind == "ClusterRole";
            let role = binding.role_ref.name.as_ref();
            let bootstrap = cluster_role && BOOTSTRAP_DISCOVERY_ROLES.contains(&role);
            let sa_bootstrap = cluster_role && BOOTSTRAP_SERVICE_ACCOUNT_ROLES.contains(&role);
            if own {
                Some(format!(
                    "Group {name}, every ServiceAccount of {runners_ns}"
                ))
            } else if name == "system:serviceaccounts" && !sa_bootstrap {
                Some(format!(
                    "Group {name}, every ServiceAccount, those of {runners_ns} included"
                ))
            } else if name == "system:authenticated" && !bootstrap {
                Some(format!(
                    "Group {name}, every authenticated identity, the ServiceAccounts of {runners_ns} included"
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

fn subjects(
    ctx: &Context<'_, '_>,
    binding: &BindingObject<'_>,
    cluster: bool,
    out: &mut Vec<Violation>,
) {
    let runners_ns = ctx.settings.runners_namespace.as_str();
    let role = format!("{} {}", binding.role_ref.kind, binding.role_ref.name);
    let scope = if cluster {
        "in every namespace".to_owned()
    } else {
        format!("in namespace {}", ctx.namespace)
    };
    for (j, subject) in binding.subjects.iter().enumerate() {
        let Some(who) = reaches_runners(subject, binding, ctx.namespace, runners_ns) else {
            continue;
        };
        out.push(Violation::new(
            RULE,
            format!("subjects[{j}]"),
            format!(
                "{} (requested by {}): subjects[{j}] is {who}, so it grants runner identities {role} {scope}; runners hold permissions only in {runners_ns}: bind their ServiceAccounts only through RoleBindings to Roles in {runners_ns}",
                ctx.object_ref(),
                ctx.who()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RUNNER_RULES;
    use crate::decision::RuleName::{NamespacedRbac as N, RunnerNamespace};
    use crate::testing::{NS, Req, decide, paths, rules, runner};
    use rstest::rstest;
    use serde_json::{Value, json};

    const RBAC: &str = "rbac.authorization.k8s.io";

    fn role(rules: Value) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "gitlab-runner", "namespace": NS}, "rules": rules})
    }

    fn role_req(op: &str, ns: &str, rules: Value) -> Req {
        Req::op(op, role(rules)).ns(ns).group(RBAC).kind("Role")
    }

    /// The GitLab Runner Helm chart's default Role.
    fn helm_default() -> Value {
        json!([{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}])
    }

    /// The Role the GitLab Runner docs list.
    fn narrow() -> Value {
        let rules: Vec<Value> = RUNNER_RULES
            .iter()
            .map(|(r, verbs)| json!({"apiGroups": [""], "resources": [r], "verbs": verbs}))
            .collect();
        json!(rules)
    }

    fn binding(kind: &str, role_kind: &str, role_name: &str, subjects: Value) -> Value {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "gitlab-runner"},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name}, "subjects": subjects
        })
    }

    fn sa(ns: &str, name: &str) -> Value {
        json!({"kind": "ServiceAccount", "name": name, "namespace": ns})
    }

    fn group(name: &str) -> Value {
        json!({"kind": "Group", "apiGroup": RBAC, "name": name})
    }

    #[test]
    fn the_helm_chart_default_role_is_denied_with_the_narrow_list() {
        let d = decide(&role_req("CREATE", NS, helm_default()));
        let got: Vec<_> = d
            .violations
            .iter()
            .map(|v| (v.rule, v.path.as_str()))
            .collect();
        assert_eq!(got, vec![(N, "rules[0].resources"), (N, "rules[0].verbs")]);
        assert_eq!(
            d.violations[0].msg,
            "namespaced-rbac: Role acme-runners/gitlab-runner (requested by kubernetes-admin): rules[0].resources holds the wildcard `*` (every resource of apiGroups [\"\"]); grant the runner only what the GitLab Runner Kubernetes executor needs: apiGroups [\"\"]: pods [create, delete, get, list, watch]; pods/attach [create, delete, get, patch]; pods/exec [create, delete, get, patch]; pods/log [get, list]; secrets [create, delete, get, update]; serviceaccounts [get]; services [create, get]; events [list, watch]"
        );
        assert!(
            d.violations[1]
                .msg
                .contains("rules[0].verbs holds the wildcard `*` (every verb")
        );
    }

    #[test]
    fn the_narrow_role_of_the_docs_is_allowed() {
        for op in ["CREATE", "UPDATE"] {
            assert_eq!(rules(&role_req(op, NS, narrow())), vec![], "{op}");
        }
    }

    #[rstest]
    #[case::api_groups(json!([{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}]), vec!["rules[0].apiGroups"])]
    #[case::hidden_resource(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, {"apiGroups": [""], "resources": ["pods", "*"], "verbs": ["get"]}]), vec!["rules[1].resources"])]
    #[case::hidden_verb(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "*"]}]), vec!["rules[0].verbs"])]
    #[case::every_subresource(json!([{"apiGroups": [""], "resources": ["*/exec"], "verbs": ["create"]}]), vec!["rules[0].resources"])]
    #[case::escalate(json!([{"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["get", "escalate"]}]), vec!["rules[0].verbs"])]
    #[case::bind(json!([{"apiGroups": [RBAC], "resources": ["roles", "clusterroles"], "verbs": ["bind"], "resourceNames": ["admin"]}]), vec!["rules[0].verbs"])]
    #[case::impersonate(json!([{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}]), vec!["rules[0].verbs"])]
    #[case::uppercase_verb(json!([{"apiGroups": [""], "resources": ["users"], "verbs": ["IMPERSONATE"]}]), vec!["rules[0].verbs"])]
    #[case::everything(json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*", "bind"]}]), vec!["rules[0].apiGroups", "rules[0].resources", "rules[0].verbs"])]
    fn wildcards_and_escalating_verbs_are_denied(
        #[case] rules: Value,
        #[case] expected: Vec<&str>,
    ) {
        let want: Vec<_> = expected.into_iter().map(|p| (N, p.to_owned())).collect();
        assert_eq!(paths(&role_req("CREATE", NS, rules.clone())), want);
        assert_eq!(paths(&role_req("UPDATE", NS, rules)), want);
    }

    #[test]
    fn roles_elsewhere_cluster_roles_and_deletes_are_not_judged() {
        assert_eq!(
            rules(&role_req("CREATE", "default", helm_default())),
            vec![]
        );
        let cluster_role =
            json!({"kind": "ClusterRole", "metadata": {"name": "x"}, "rules": helm_default()});
        let cluster_role = Req::create(cluster_role)
            .ns("")
            .group(RBAC)
            .kind("ClusterRole");
        assert_eq!(rules(&cluster_role), vec![]);
        assert_eq!(rules(&Req::delete().group(RBAC).kind("Role")), vec![]);
    }

    #[rstest]
    #[case::role_binding_to_cluster_role(NS, "RoleBinding", binding("RoleBinding", "ClusterRole", "edit", json!([sa(NS, "gitlab-runner-docker")])), "roleRef")]
    #[case::cluster_role_binding_sa("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "cluster-admin", json!([sa(NS, "gitlab-runner-docker")])), "subjects[0]")]
    #[case::cluster_role_binding_second_subject("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "view", json!([sa("monitoring", "prometheus"), sa(NS, "default")])), "subjects[1]")]
    #[case::cluster_role_binding_user("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "view", json!([{"kind": "User", "name": "system:serviceaccount:acme-runners:gitlab-runner-nix"}])), "subjects[0]")]
    #[case::cluster_role_binding_ns_group("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "view", json!([group("system:serviceaccounts:acme-runners")])), "subjects[0]")]
    #[case::cluster_role_binding_all_sa_group("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "view", json!([group("system:serviceaccounts")])), "subjects[0]")]
    // The bootstrap exemptions hold for their own group only.
    #[case::issuer_discovery_to_authenticated("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "system:service-account-issuer-discovery", json!([group("system:authenticated")])), "subjects[0]")]
    #[case::discovery_to_all_service_accounts("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "system:discovery", json!([group("system:serviceaccounts")])), "subjects[0]")]
    #[case::cluster_role_binding_authenticated("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "view", json!([group("system:authenticated")])), "subjects[0]")]
    #[case::role_binding_elsewhere("default", "RoleBinding", binding("RoleBinding", "Role", "deployer", json!([sa(NS, "gitlab-runner-docker")])), "subjects[0]")]
    #[case::role_binding_elsewhere_group("gitlab", "RoleBinding", binding("RoleBinding", "ClusterRole", "admin", json!([group("system:serviceaccounts:acme-runners")])), "subjects[0]")]
    fn bindings_that_reach_runner_identities_are_denied(
        #[case] ns: &str,
        #[case] kind: &str,
        #[case] object: Value,
        #[case] path: &str,
    ) {
        for op in ["CREATE", "UPDATE"] {
            let input = Req::op(op, object.clone()).ns(ns).group(RBAC).kind(kind);
            assert_eq!(paths(&input), vec![(N, path.to_owned())], "{op}");
        }
    }

    #[rstest]
    #[case::role_binding_to_role(NS, "RoleBinding", binding("RoleBinding", "Role", "gitlab-runner", json!([sa(NS, "gitlab-runner-docker"), group("system:serviceaccounts:acme-runners")])))]
    #[case::other_sa("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "view", json!([sa("monitoring", "prometheus")])))]
    #[case::lookalike_ns("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "view", json!([sa("acme-runners-x", "a"), group("system:serviceaccounts:acme-runners-x"), {"kind": "User", "name": "system:serviceaccount:acme-runners-x:a"}])))]
    #[case::sa_without_namespace_is_the_bindings("default", "RoleBinding", binding("RoleBinding", "Role", "x", json!([{"kind": "ServiceAccount", "name": "gitlab-runner-docker"}])))]
    #[case::bootstrap_discovery("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "system:discovery", json!([group("system:authenticated")])))]
    #[case::bootstrap_issuer_discovery("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "system:service-account-issuer-discovery", json!([group("system:serviceaccounts")])))]
    #[case::users_and_groups("", "ClusterRoleBinding", binding("ClusterRoleBinding", "ClusterRole", "cluster-admin", json!([{"kind": "User", "name": "alice"}, group("system:masters")])))]
    fn other_bindings_pass(#[case] ns: &str, #[case] kind: &str, #[case] object: Value) {
        let input = Req::create(object).ns(ns).group(RBAC).kind(kind);
        assert_eq!(rules(&input), vec![]);
    }

    #[test]
    fn binding_message_names_subject_role_and_fix() {
        let object = binding(
            "ClusterRoleBinding",
            "ClusterRole",
            "cluster-admin",
            json!([sa(NS, "gitlab-runner-docker")]),
        );
        let input = Req::create(object)
            .ns("")
            .group(RBAC)
            .kind("ClusterRoleBinding");
        let d = decide(&input);
        assert_eq!(
            d.violations[0].msg,
            "namespaced-rbac: ClusterRoleBinding gitlab-runner (requested by kubernetes-admin): subjects[0] is ServiceAccount acme-runners/gitlab-runner-docker, so it grants runner identities ClusterRole cluster-admin in every namespace; runners hold permissions only in acme-runners: bind their ServiceAccounts only through RoleBindings to Roles in acme-runners"
        );
    }

    #[test]
    fn a_runner_writing_its_own_role_is_judged_by_both_rules() {
        let input = Req::update(role(helm_default()))
            .by(&runner("docker"))
            .group(RBAC)
            .kind("Role");
        assert_eq!(rules(&input), vec![N]);
        let elsewhere = Req::create(binding(
            "RoleBinding",
            "ClusterRole",
            "admin",
            json!([sa(NS, "gitlab-runner-docker")]),
        ))
        .by(&runner("docker"))
        .ns("default")
        .group(RBAC)
        .kind("RoleBinding");
        assert_eq!(rules(&elsewhere), vec![RunnerNamespace, N]);
    }
}
