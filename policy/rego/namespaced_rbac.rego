# namespaced-rbac: runners hold minimal permissions scoped to their own namespace: no wildcard
# or escalating rules in Roles of the runners namespace, RoleBindings there bind only Roles, and
# no ClusterRoleBinding (or RoleBinding elsewhere) has a subject reaching the runners
# namespace's ServiceAccounts. Reference: policy/src/rules/namespaced_rbac.rs.
package k8srunnersecurity

rbac_group := "rbac.authorization.k8s.io"

rbac_fix := "grant the runner only what the GitLab Runner Kubernetes executor needs (apiGroups [\"\"]: pods, pods/attach, pods/exec, pods/log, secrets, serviceaccounts, services, events, with the verbs the executor uses)"

runner_role := written if {
	[kind.group, kind.kind] == [rbac_group, "Role"]
	in_runners_namespace
}

namespaced_rbac contains deny("namespaced-rbac", sprintf("rules[%d].apiGroups", [i]), sprintf("%s (requested by %s): rules[%d].apiGroups holds the wildcard `*` (every API group); %s", [object_ref, who, i, rbac_fix])) if {
	some i, rule in list(runner_role, "rules")
	"*" in list(rule, "apiGroups")
}

namespaced_rbac contains deny("namespaced-rbac", sprintf("rules[%d].resources", [i]), sprintf("%s (requested by %s): rules[%d].resources holds a wildcard (`*` or `*/<subresource>`); %s", [object_ref, who, i, rbac_fix])) if {
	some i, rule in list(runner_role, "rules")
	some r in list(rule, "resources")
	wildcard_resource(r)
}

wildcard_resource(r) if r == "*"

wildcard_resource(r) if startswith(r, "*/")

namespaced_rbac contains deny("namespaced-rbac", sprintf("rules[%d].verbs", [i]), sprintf("%s (requested by %s): rules[%d].verbs holds the wildcard `*` or a verb that grants permissions the holder does not have or acts as another identity (escalate, bind, impersonate); %s", [object_ref, who, i, rbac_fix])) if {
	some i, rule in list(runner_role, "rules")
	some v in list(rule, "verbs")
	bad_verb(v)
}

bad_verb(v) if v == "*"

bad_verb(v) if ascii_lower(v) in escalating_verbs

namespaced_rbac contains deny("namespaced-rbac", "roleRef", sprintf("%s (requested by %s): roleRef is %s %s; RoleBindings in %s may bind only Roles of %s, whose rules this policy checks", [object_ref, who, ref_kind, text(role_ref, "name"), namespace, namespace])) if {
	[kind.group, kind.kind] == [rbac_group, "RoleBinding"]
	in_runners_namespace
	role_ref := get(written, "roleRef", {})
	ref_kind := text(role_ref, "kind")
	ref_kind != "Role"
}

namespaced_rbac contains deny("namespaced-rbac", sprintf("subjects[%d]", [j]), sprintf("%s (requested by %s): subjects[%d] is %s, so it grants runner identities %s %s; runners hold permissions only in %s: bind their ServiceAccounts only through RoleBindings to Roles in %s", [object_ref, who, j, reach, text(role_ref, "kind"), text(role_ref, "name"), runners_namespace, runners_namespace])) if {
	binding_judged
	role_ref := get(written, "roleRef", {})
	some j, subject in list(written, "subjects")
	reach := reaches_runners(subject, role_ref)
}

binding_judged if {
	[kind.group, kind.kind] == [rbac_group, "RoleBinding"]
	not in_runners_namespace
}

binding_judged if [kind.group, kind.kind] == [rbac_group, "ClusterRoleBinding"]

# How a subject reaches the ServiceAccounts of the runners namespace, if it does.
reaches_runners(subject, _) := sprintf("ServiceAccount %s/%s", [runners_namespace, text(subject, "name")]) if {
	text(subject, "kind") == "ServiceAccount"
	subject_namespace(subject) == runners_namespace
}

reaches_runners(subject, _) := sprintf("User %s, the username of a ServiceAccount of %s", [name, runners_namespace]) if {
	text(subject, "kind") == "User"
	name := text(subject, "name")
	startswith(name, sprintf("system:serviceaccount:%s:", [runners_namespace]))
}

reaches_runners(subject, role_ref) := sprintf("Group %s, which holds the ServiceAccounts of %s", [name, runners_namespace]) if {
	text(subject, "kind") == "Group"
	name := text(subject, "name")
	group_reaches(name, role_ref)
}

group_reaches(name, _) if name == sprintf("system:serviceaccounts:%s", [runners_namespace])

group_reaches(name, role_ref) if {
	name == "system:serviceaccounts"
	not bootstrap_service_account_binding(role_ref)
}

group_reaches(name, role_ref) if {
	name == "system:authenticated"
	not bootstrap_binding(role_ref)
}

bootstrap_binding(role_ref) if {
	text(role_ref, "kind") == "ClusterRole"
	text(role_ref, "name") in bootstrap_discovery_roles
}

bootstrap_service_account_binding(role_ref) if {
	text(role_ref, "kind") == "ClusterRole"
	text(role_ref, "name") in bootstrap_service_account_roles
}

# A RoleBinding's ServiceAccount subject without namespace is in the binding's.
subject_namespace(subject) := subject.namespace if {
	text(subject, "namespace") != ""
} else := namespace
