# attic-credentials-from-secret: in the runners namespace an `ATTIC_*` env var with TOKEN, KEY,
# PASSWORD or SECRET in its name takes its value only from valueFrom.secretKeyRef.
# Reference: policy/src/rules/attic_credentials_from_secret.rs.
package k8srunnersecurity

is_attic_credential(name) if {
	startswith(upper(name), "ATTIC_")
	some word in attic_credential_words
	contains(upper(name), word)
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
	some [list_field, i, c] in containers_of(runners_pod.spec)
	some j, env in list(c, "env")
	is_attic_credential(text(env, "name"))
	[field, what] := attic_source(env)
}
