//! `namespaced-rbac`: Roles of the runners namespace grant no wildcard or escalating
//! permission, its RoleBindings bind only its Roles, and no binding elsewhere reaches the
//! runners' ServiceAccounts.

use policy::rule_name::RuleName;
use policy::rules::namespaced_rbac;

use crate::cel::{get, get_path, list, lit};

use super::Builder;
use super::items::{Items, SUBJECT, requested_by};
use super::object::written;

const RULE: RuleName = RuleName::NamespacedRbac;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub fn build(b: &mut Builder<'_>) {
    let rns = &b.settings.runners_namespace;
    let ns = b.runners_ns();
    let fix = format!(
        "grant the runner only what the GitLab Runner Kubernetes executor needs: {}",
        namespaced_rbac::runner_rules_text()
    );
    let escalating: Vec<String> = namespaced_rbac::ESCALATING_VERBS
        .iter()
        .map(|v| v.to_ascii_lowercase())
        .collect();
    let esc = list(&escalating);
    let groups = get("r", "apiGroups", "[]");
    let resources = get("r", "resources", "[]");
    let verbs = get("r", "verbs", "[]");
    let wild_group = format!("'*' in {groups}");
    let wild_resource = format!("{resources}.exists(x, x == '*' || x.startsWith('*/'))");
    let bad_verb = format!("{verbs}.exists(x, x == '*' || x.lowerAscii() in {esc})");
    let bad_rule = format!("({wild_group} || {wild_resource} || {bad_verb})");
    let rules = get("object", "rules", "[]");
    let role = format!("({} && variables.inRunners)", written(RBAC_GROUP, "Role"));
    b.item_validation(
        RULE,
        "Role",
        &role,
        &Items::new(&rules, "r", bad_rule),
        &format!(
            "{} + '): rules[' + string({rules}.indexOf(r)) + ']' + ({wild_group} ? '.apiGroups holds the wildcard `*` (every API group)' : {wild_resource} ? '.resources holds a wildcard (`*` or `*/<subresource>`: every resource)' : '.verbs holds `*`, escalate, bind or impersonate (verbs that grant permissions the holder does not have, or act as another identity)') + {}",
            requested_by(SUBJECT),
            lit(&format!("; {fix}"))
        ),
    );
    let role_ref_kind = get_path("object", &["roleRef", "kind"], "''");
    let role_name = get_path("object", &["roleRef", "name"], "''");
    b.validation(
        RULE,
        "RoleBinding to a ClusterRole",
        format!(
            "!({} && variables.inRunners && {role_ref_kind} != 'Role')",
            written(RBAC_GROUP, "RoleBinding")
        ),
        format!(
            "{} + '): roleRef is ' + {role_ref_kind} + ' ' + {role_name} + {}",
            requested_by(SUBJECT),
            lit(&format!(
                "; RoleBindings in {rns} may bind only Roles of {rns}, whose rules this policy checks. Bind a Role of {rns} holding only what the runner needs ({})",
                namespaced_rbac::runner_rules_text()
            ))
        ),
    );
    // A subject that reaches the runners' ServiceAccounts.
    let cluster_role = format!("{role_ref_kind} == 'ClusterRole'");
    let kind = get("x", "kind", "''");
    let name = get("x", "name", "''");
    let reaches = format!(
        "(({kind} == 'ServiceAccount' && ({sns} != '' ? {sns} : variables.ns) == {ns}) || ({kind} == 'User' && {name}.startsWith({user})) || ({kind} == 'Group' && ({name} == {own} || ({name} == 'system:serviceaccounts' && !({cluster_role} && {role_name} in {sa_boot})) || ({name} == 'system:authenticated' && !({cluster_role} && {role_name} in {discovery})))))",
        sns = get("x", "namespace", "''"),
        user = lit(&format!("system:serviceaccount:{rns}:")),
        own = lit(&format!("system:serviceaccounts:{rns}")),
        sa_boot = list(&b.private.bootstrap_service_account_roles),
        discovery = list(&b.private.bootstrap_discovery_roles),
    );
    let subjects = get("object", "subjects", "[]");
    let binding = format!(
        "(({} && !variables.inRunners) || {})",
        written(RBAC_GROUP, "RoleBinding"),
        written(RBAC_GROUP, "ClusterRoleBinding")
    );
    b.item_validation(
        RULE,
        "bindings reaching the runners",
        &binding,
        &Items::new(&subjects, "x", reaches),
        &format!(
            "{} + '): subjects[' + string({subjects}.indexOf(x)) + '] is ' + {kind} + ' ' + {name} + ', so it grants runner identities ' + {role_ref_kind} + ' ' + {role_name} + (request.kind.kind == 'ClusterRoleBinding' ? ' in every namespace' : ' in namespace ' + variables.ns) + {}",
            requested_by(SUBJECT),
            lit(&format!(
                "; runners hold permissions only in {rns}: bind their ServiceAccounts only through RoleBindings to Roles in {rns}"
            ))
        ),
    );
}
