# runner-egress: a NetworkPolicy in the runners namespace lets runners reach only the Attic
# cache, cluster DNS, their own namespace (podSelector alone) and, through ipBlock, external
# registries; every other egress peer fails closed. Reference: policy/src/rules/runner_egress.rs.
package k8srunnersecurity

egress_fix := sprintf("runners may reach only the Attic cache (namespaceSelector {matchLabels: {%s: %s}}), cluster DNS (namespaceSelector {matchLabels: {%s: %s}} with podSelector {matchLabels: {%s: %s}}), pods of %s (podSelector alone) and external registries (ipBlock)", [namespace_name_label, attic_namespace, namespace_name_label, dns_namespace, dns_label[0], dns_label[1], namespace])

runner_network_policy := written if {
	[kind.group, kind.kind] == ["networking.k8s.io", "NetworkPolicy"]
	in_runners_namespace
}

runner_egress contains deny("runner-egress", path, sprintf("%s (requested by %s): %s %s; %s", [object_ref, who, path, why, egress_fix])) if {
	some i, rule in list(get(runner_network_policy, "spec", {}), "egress")
	[path, why] := egress_all(sprintf("spec.egress[%d]", [i]), get(rule, "to", null))
}

egress_all(at, to) := [at, "has no `to`, so it allows every destination"] if to == null

egress_all(at, to) := [at, "has an empty `to`, so it allows every destination"] if to == []

runner_egress contains deny("runner-egress", path, sprintf("%s (requested by %s): %s %s; %s", [object_ref, who, path, why, egress_fix])) if {
	some i, rule in list(get(runner_network_policy, "spec", {}), "egress")
	some j, peer in list(rule, "to")
	[field, why] := judge_peer(peer)
	path := sprintf("spec.egress[%d].to[%d]%s", [i, j, field])
}

# Whether the selector matches only objects whose `key` label is `value`.
pins(selector, key, value) if get(selector, "matchLabels", {})[key] == value

pins(selector, key, value) if {
	some e in list(selector, "matchExpressions")
	text(e, "key") == key
	text(e, "operator") == "In"
	values := list(e, "values")
	count(values) > 0
	every v in values {
		v == value
	}
}

empty_selector(selector) if {
	count(get(selector, "matchLabels", {})) == 0
	count(list(selector, "matchExpressions")) == 0
}

# [field, why] for a denied peer; undefined when it passes.
judge_peer(peer) := ["", "is an empty peer"] if {
	get(peer, "namespaceSelector", null) == null
	get(peer, "podSelector", null) == null
	get(peer, "ipBlock", null) == null
} else := verdict_ns(get(peer, "namespaceSelector", null), get(peer, "podSelector", null)) if {
	get(peer, "namespaceSelector", null) != null
}

verdict_ns(ns, pods) := "pass" if {
	pins(ns, namespace_name_label, attic_namespace)
} else := "pass" if {
	pins(ns, namespace_name_label, dns_namespace)
	pods != null
	pins(pods, dns_label[0], dns_label[1])
} else := [".podSelector", sprintf("selects pods of %s other than cluster DNS", [dns_namespace])] if {
	pins(ns, namespace_name_label, dns_namespace)
	pods != null
} else := [".namespaceSelector", sprintf("selects every pod of %s, not only cluster DNS", [dns_namespace])] if {
	pins(ns, namespace_name_label, dns_namespace)
} else := [".namespaceSelector", "is empty, so it selects every namespace"] if {
	empty_selector(ns)
} else := [".namespaceSelector", sprintf("does not pin %s to %s or %s, so it selects namespaces other than the Attic cache and cluster DNS", [namespace_name_label, attic_namespace, dns_namespace])]
