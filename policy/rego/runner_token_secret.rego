# runner-token-secret: the runner token lives only in a Secret of the runners namespace: no
# token key in a Secret elsewhere or in any ConfigMap, no token as a literal env value in the
# runners namespace. Keys and names compare case-insensitively.
# Reference: policy/src/rules/runner_token_secret.rs.
package k8srunnersecurity

written := obj if {
	writes
	is_object(obj)
}

is_token_key(key) if ascii_lower(key) in token_keys

token_data_fix := sprintf("the runner token belongs only in a Secret in %s, where only the runner managers read it; move it there", [runners_namespace]) if {
	[kind.group, kind.kind] == ["", "Secret"]
} else := sprintf("ConfigMaps are not for secrets (not encrypted at rest, readable by anyone who may read configuration); put the token in a Secret in %s", [runners_namespace])

token_data_object if {
	[kind.group, kind.kind] == ["", "Secret"]
	not in_runners_namespace
}

token_data_object if [kind.group, kind.kind] == ["", "ConfigMap"]

runner_token_secret contains deny("runner-token-secret", sprintf("%s[\"%s\"]", [field, key]), sprintf("%s (requested by %s) holds the runner token key `%s` in %s; %s", [object_ref, who, key, field, token_data_fix])) if {
	token_data_object
	some field in ["data", "stringData", "binaryData"]
	some key, _ in get(written, field, {})
	is_token_key(key)
}

runner_token_secret contains deny_in("runner-token-secret", sprintf("%sspec.%s[%d].env[%d].value", [runners_pod.prefix, field, i, j]), text(c, "name"), sprintf("container %q of %s (requested by %s) sets the runner token %s as a literal value; read it from the runner Secret instead: valueFrom.secretKeyRef {name: <runner secret>, key: runner-token}", [text(c, "name"), object_ref, who, text(env, "name")])) if {
	some [field, i, c] in judged_containers
	some j, env in list(c, "env")
	text(env, "value") != ""
	ascii_upper(text(env, "name")) in token_env
}
