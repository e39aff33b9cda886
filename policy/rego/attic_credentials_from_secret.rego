# attic-credentials-from-secret: in the runners namespace an `ATTIC_*` env var with TOKEN, KEY,
# PASSWORD or SECRET in its name takes its value only from valueFrom.secretKeyRef; no ConfigMap
# there holds such a key, and none is loaded whole (envFrom) with a prefix that can start one.
# Reference: policy/src/rules/attic_credentials_from_secret.rs.
package k8srunnersecurity

is_attic_credential(name) if {
	startswith(ascii_upper(name), "ATTIC_")
	some word in attic_credential_words
	contains(ascii_upper(name), word)
}

# [field, what] for an env var whose value does not come from a Secret.
attic_source(env) := ["valueFrom", "from a valueFrom source that is not a Secret"] if {
	from := get(env, "valueFrom", null)
	from != null
	get(from, "secretKeyRef", null) == null
} else := ["value", "as a literal value"] if {
	get(env, "valueFrom", null) == null
	text(env, "value") != ""
}

attic_credentials_from_secret contains deny_in("attic-credentials-from-secret", sprintf("%sspec.%s[%d].env[%d].%s", [runners_pod.prefix, list_field, i, j, field]), text(c, "name"), sprintf("container %q of %s (requested by %s) sets the Attic credential %s %s; Attic credentials must come from a Secret: use valueFrom.secretKeyRef {name: <attic secret>, key: <key>}", [text(c, "name"), object_ref, who, text(env, "name"), what])) if {
	some [list_field, i, c] in judged_containers
	some j, env in list(c, "env")
	is_attic_credential(text(env, "name"))
	[field, what] := attic_source(env)
}

attic_credentials_from_secret contains deny("attic-credentials-from-secret", sprintf("%s[\"%s\"]", [field, key]), sprintf("%s (requested by %s) holds the Attic credential %s in a ConfigMap; Attic credentials must come from a Secret: put it in a Secret and read it with valueFrom.secretKeyRef", [object_ref, who, key])) if {
	in_runners_namespace
	[kind.group, kind.kind] == ["", "ConfigMap"]
	some field in ["data", "stringData", "binaryData"]
	some key, _ in get(written, field, {})
	is_attic_credential(key)
}

attic_credentials_from_secret contains deny_in("attic-credentials-from-secret", sprintf("%sspec.%s[%d].envFrom[%d].prefix", [runners_pod.prefix, list_field, i, j]), text(c, "name"), sprintf("container %q of %s (requested by %s) loads ConfigMap %s with prefix %s, which can name an Attic credential that the pod spec does not show; Attic credentials must come from a Secret: load it from a Secret (envFrom.secretRef), or set Attic's other settings as env values", [text(c, "name"), object_ref, who, text(from.configMapRef, "name"), from.prefix])) if {
	some [list_field, i, c] in judged_containers
	some j, from in list(c, "envFrom")
	is_object(from.configMapRef)
	could_start_attic_name(text(from, "prefix"))
}

# Whether a prefix can start an Attic variable's name (`ATTIC_`, `ATTIC_CACHE_`, `ATT`).
could_start_attic_name(prefix) if {
	n := min([6, count(prefix)])
	n > 0
	ascii_upper(substring(prefix, 0, n)) == substring("ATTIC_", 0, n)
}
