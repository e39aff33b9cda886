# runner-namespace: runner identities act only inside the runners namespace, runner job pods
# live only there, a runner's job pods never borrow another runner's ServiceAccount, and a runner
# never obtains the token of a ServiceAccount other than its own.
# Reference: policy/src/rules/runner_namespace.rs.
package k8srunnersecurity

# Label keys the GitLab Runner sets and jobs cannot override (`*.runner.gitlab.com/*`).
is_runner_label(key) if {
	contains(key, "/")
	prefix := split(key, "/")[0]
	runner_label_domain(prefix)
}

runner_label_domain(prefix) if prefix == "runner.gitlab.com"

runner_label_domain(prefix) if endswith(prefix, ".runner.gitlab.com")

runner_namespace contains deny("runner-namespace", path, sprintf("%s may act only in namespace %s, but this %s of %s is in %s; give the %s runner no permissions outside %s", [who, runners_namespace, operation, object_ref, place, requester.type, runners_namespace])) if {
	requester
	not in_runners_namespace
	[path, place] := outside_place
}

outside_place := ["request.kind", "a cluster-scoped object"] if {
	namespace == ""
} else := ["request.namespace", sprintf("namespace %s", [namespace])]

# A runner job pod (runner labels) outside the runners namespace: the first such label, as the
# API server orders keys.
runner_namespace contains deny("runner-namespace", sprintf("%smetadata.labels[\"%s\"]", [pod.prefix, key]), sprintf("%s (requested by %s) carries GitLab Runner job labels outside %s; runner job pods run only in %s", [object_ref, who, runners_namespace, runners_namespace])) if {
	not in_runners_namespace
	keys := {k | some k, _ in get(pod.meta, "labels", {}); is_runner_label(k)}
	count(keys) > 0
	key := min(keys)
}

runner_namespace contains deny("runner-namespace", sprintf("%sspec.%s", [pod.prefix, field]), sprintf("%s (requested by %s) runs as ServiceAccount %s of the %s runner; a runner's job pods must not borrow another runner's identity, use the job ServiceAccount of the %s runner", [object_ref, who, sa, owner.type, requester.type])) if {
	in_runners_namespace
	requester
	[field, sa] := pod_service_account(pod.spec)
	owner := runner_with_service_account(sa)
	owner.type != requester.type
}

# The ServiceAccount the pod runs as (`serviceAccountName`, else the deprecated field).
pod_service_account(spec) := ["serviceAccountName", spec.serviceAccountName] if {
	text(spec, "serviceAccountName") != ""
} else := ["serviceAccount", spec.serviceAccount] if {
	text(spec, "serviceAccount") != ""
}

# A runner asking for another ServiceAccount's token: a TokenRequest, or a legacy token Secret
# (the token controller fills it for the ServiceAccount its annotation names).
runner_namespace contains deny("runner-namespace", path, sprintf("%s %s for ServiceAccount %s, and would act with its identity; a runner may hold only its own ServiceAccount's token (%s): job pods get theirs mounted, through automountServiceAccountToken or a projected serviceAccountToken volume", [who, how, sa, requester.serviceAccount])) if {
	in_runners_namespace
	requester
	[path, sa, how] := token_asked
	sa != requester.serviceAccount
}

token_asked := ["request.name", text(review, "name"), "requests a token (serviceaccounts/token)"] if {
	operation == "CREATE"
	[kind.group, kind.kind] == ["authentication.k8s.io", "TokenRequest"]
	text(review, "subResource") == "token"
} else := [sprintf("metadata.annotations[\"%s\"]", [token_secret_annotation]), text(get(object_meta, "annotations", {}), token_secret_annotation), "writes a ServiceAccount token Secret"] if {
	writes
	[kind.group, kind.kind] == ["", "Secret"]
	text(obj, "type") == "kubernetes.io/service-account-token"
}
