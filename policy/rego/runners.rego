# The Rego twin of the runner-policy module, for Gatekeeper (Rego v1, no `import rego.v1`).
#
# Input: Gatekeeper's {"review": AdmissionRequest, "parameters": Settings}. Entry rule:
# `violation`, a set of {"msg": msg, "details": {"rule", "path", "container"?}} whose rule names
# and paths are the module's (policy/src/rules/*.rs is the reference; host-tests prove them
# equal). One rule per file, all in this package; constants.rego is generated from the policy
# crate by `cargo xtask gatekeeper`, which also embeds every file here into
# bundles/gatekeeper/template.yaml.
package k8srunnersecurity

# ---------------------------------------------------------------- entry

violation contains {"msg": v.msg, "details": details(v)} if {
	some v in verdict
}

details(v) := {"rule": v.rule, "path": v.path, "container": v.container} if {
	v.container
} else := {"rule": v.rule, "path": v.path}

# What the module decides, in its order: an unreadable request, settings, identity, an unreadable
# object, then the rules.
verdict := {invalid(input_problem[0], input_problem[1])} if {
	input_problem
} else := settings_errors if {
	count(settings_errors) > 0
} else := {invalid("request.userInfo.username", "the request has no userInfo.username: identity comes from userInfo only, so it cannot be judged (admission requests always carry it; background audits cannot judge identity rules)")} if {
	username == ""
} else := {invalid("request.object", object_problem)} if {
	object_problem
} else := {invalid("request.object", sprintf("this %s carries no object (request.object is missing or null), so it cannot be judged; the API server always sends the object a CREATE or UPDATE writes", [operation]))} if {
	writes
	obj == null
} else := set() if {
	username in exempt_users
} else := rule_violations

rule_violations contains v if {
	some v in dind_only_privilege
}

rule_violations contains v if {
	some v in no_host_access
}

rule_violations contains v if {
	some v in runner_namespace
}

rule_violations contains v if {
	some v in no_push_credentials
}

rule_violations contains v if {
	some v in namespaced_rbac
}

rule_violations contains v if {
	some v in runner_token_secret
}

rule_violations contains v if {
	some v in attic_credentials_from_secret
}

rule_violations contains v if {
	some v in public_registries
}

rule_violations contains v if {
	some v in runner_egress
}

# A violation as the module reports it; `msg` starts with the rule name, like the module's.
deny(rule, path, msg) := {"rule": rule, "path": path, "msg": sprintf("%s: %s", [rule, msg])}

deny_in(rule, path, container, msg) := object.union(deny(rule, path, msg), {"container": container})

invalid(path, msg) := deny("valid-request", path, msg)

# ---------------------------------------------------------------- helpers

# obj[key], or `default_value` when the key is absent or null (Kubernetes omits and nulls alike).
get(obj, key, default_value) := value if {
	value := obj[key]
	value != null
} else := default_value

list(obj, key) := get(obj, key, [])

# The text of a possibly missing string field ("" when absent or null).
text(obj, key) := get(obj, key, "")

# ASCII-only case mapping, as the Rust rules compare: Rego's upper and lower map other letters
# too (`ı` to `I`, the Kelvin sign to `k`), which would match names the module does not.
ascii_upper(s) := strings.replace_n(ascii_to_upper, s)

ascii_lower(s) := strings.replace_n(ascii_to_lower, s)

# Computed once per evaluation, not once per call.
ascii_to_upper := {c: upper(c) | some c in split("abcdefghijklmnopqrstuvwxyz", "")}

ascii_to_lower := {c: lower(c) | some c in split("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "")}

# ---------------------------------------------------------------- settings

params := input.parameters if {
	is_object(input.parameters)
} else := {}

settings_errors contains invalid("data", "no settings: give them as the Gatekeeper constraint's parameters, or as the data document (OPA bundle data.json, Kubewarden settings); see the README's settings reference") if {
	get(input, "parameters", null) == null
}

settings_errors contains invalid("input.parameters", "no settings: give them as the Gatekeeper constraint's parameters, or as the data document (OPA bundle data.json, Kubewarden settings); see the README's settings reference") if {
	input.parameters == {}
}

# Type checks are the ConstraintTemplate's openAPIV3Schema's job (the API server rejects a
# Constraint whose parameters break it); what a schema cannot say is checked here.
settings_errors contains invalid("settings.org", "invalid settings (input.parameters): settings.org: required (the runners namespace is `<org>-runners`), unless settings.runnersNamespace is given") if {
	count(params) > 0
	text(params, "org") == ""
	text(params, "runnersNamespace") == ""
}

settings_errors contains invalid("settings.runners", "invalid settings (input.parameters): settings.runners: required, one entry per runner manager, e.g. [{type: dind, serviceAccount: gitlab-runner-dind}]") if {
	count(params) > 0
	count(list(params, "runners")) == 0
}

settings_errors contains invalid(sprintf("settings.exemptUsers[%d]", [i]), sprintf("invalid settings (input.parameters): settings.exemptUsers[%d]: `%s` is a runner manager, which every rule is for; exempt only cluster operators", [i, user])) if {
	some i, user in list(params, "exemptUsers")
	some runner in runners
	user == sprintf("system:serviceaccount:%s:%s", [runners_namespace, runner.serviceAccount])
}

runners_namespace := params.runnersNamespace if {
	text(params, "runnersNamespace") != ""
} else := sprintf("%s-runners", [params.org])

runners := list(params, "runners")

privileged_runner_types := get(params, "privilegedRunnerTypes", ["dind"])

dind_privileged_containers := get(params, "dindPrivilegedContainers", "all")

attic_namespace := get(params, "atticNamespace", "attic-cache-dev")

allowed_registries := {ascii_lower(r) | some r in get(params, "allowedRegistries", ["docker.io", "registry.gitlab.com"])}

registry_credential_secrets := {s | some s in list(params, "registryCredentialSecrets")}

push_allowed_projects := {p | some p in list(params, "pushAllowedProjects")}

exempt_users := {u | some u in list(params, "exemptUsers")}

# ---------------------------------------------------------------- the request

review := input.review

operation := review.operation

username := text(get(review, "userInfo", {}), "username")

# group, version and kind, each "" when absent (the module reads them so).
kind := {f: text(k, f) | some f in ["group", "version", "kind"]} if {
	k := get(review, "kind", {})
	is_object(k)
} else := {}

# The new object; absent for DELETE and CONNECT.
obj := get(review, "object", null)

object_meta := get(obj, "metadata", {}) if {
	is_object(obj)
} else := {}

# The namespace acted in: the request's, else the object's; "" when cluster-scoped. A Namespace
# is cluster-scoped, though the API server gives its requests its own name as their namespace.
namespace := "" if {
	[kind.group, kind.kind] == ["", "Namespace"]
} else := review.namespace if {
	text(review, "namespace") != ""
} else := object_meta.namespace if {
	is_string(object_meta.namespace)
} else := ""

in_runners_namespace if namespace == runners_namespace

writes if operation in {"CREATE", "UPDATE"}

# The runner whose manager is asking (from userInfo.username only), if any.
requester := runner if {
	prefix := sprintf("system:serviceaccount:%s:", [runners_namespace])
	startswith(username, prefix)
	sa := substring(username, count(prefix), -1)
	some runner in runners
	runner.serviceAccount == sa
}

privileged_runner if requester.type in privileged_runner_types

# Runner with this ServiceAccount (in the runners namespace), if any.
runner_with_service_account(sa) := runner if {
	some runner in runners
	runner.serviceAccount == sa
}

# The raw pod-bearing part (`spec`, or `template` for a PodTemplate): an UPDATE that leaves it
# as it was cannot add privilege, and is not judged by the pod rules.
pod_part(o) := get(o, "template", null) if {
	kind.kind == "PodTemplate"
} else := get(o, "spec", null)

default pod_changed := true

pod_changed := false if {
	operation == "UPDATE"
	new := pod_part(review.object)
	old := pod_part(review.oldObject)
	new != null
	old != null
	new == old
}

# How a kind carries its pod: the template's path prefix.
template_prefix := "spec.template." if {
	[kind.group, kind.kind] in {
		["apps", "Deployment"], ["apps", "ReplicaSet"], ["apps", "StatefulSet"], ["apps", "DaemonSet"],
		["batch", "Job"], ["", "ReplicationController"],
	}
} else := "spec.jobTemplate.spec.template." if {
	[kind.group, kind.kind] == ["batch", "CronJob"]
} else := "template." if {
	[kind.group, kind.kind] == ["", "PodTemplate"]
}

template_of(o, "spec.template.") := get(get(o, "spec", {}), "template", {})

template_of(o, "spec.jobTemplate.spec.template.") := get(get(get(get(o, "spec", {}), "jobTemplate", {}), "spec", {}), "template", {})

template_of(o, "template.") := get(o, "template", {})

# The pod spec a CREATE or UPDATE would run, when it is new or changed.
pod := {"prefix": "", "meta": object_meta, "spec": get(obj, "spec", {})} if {
	writes
	pod_changed
	is_object(obj)
	[kind.group, kind.kind] == ["", "Pod"]
} else := {"prefix": template_prefix, "meta": get(t, "metadata", {}), "spec": get(t, "spec", {})} if {
	writes
	pod_changed
	is_object(obj)
	t := template_of(obj, template_prefix)
}

runners_pod := pod if in_runners_namespace

# An UPDATE of a Pod that changes containers only (kubectl debug, in-place resize, a new image)
# is judged by the containers it adds or changes: everything else of the spec is as it was, and
# the old object is a Pod the rules could read.
narrowed if {
	operation == "UPDATE"
	[kind.group, kind.kind] == ["", "Pod"]
	is_object(review.oldObject)
	count(old_pod_type_problems) == 0
	new := review.object.spec
	old := review.oldObject.spec
	is_object(new)
	is_object(old)
	object.remove(new, ["initContainers", "containers", "ephemeralContainers", "resources"]) == object.remove(old, ["initContainers", "containers", "ephemeralContainers", "resources"])
}

# A container such an UPDATE leaves as it was, but for its resources (which no rule reads); as
# the module, only the first 64 of a list.
unchanged_container(field, i) if {
	narrowed
	i < 64
	a := review.object.spec[field][i]
	b := review.oldObject.spec[field][i]
	is_object(a)
	is_object(b)
	object.remove(a, ["resources", "resizePolicy"]) == object.remove(b, ["resources", "resizePolicy"])
}

# The containers to judge, and the volumes (none when such an UPDATE left them as they were).
judged_containers := [[field, i, c] |
	some [field, i, c] in containers_of(runners_pod.spec)
	not unchanged_container(field, i)
]

judged_volumes := [] if narrowed else := list(runners_pod.spec, "volumes")

# Every container of every list with the list and index (PSA's visiting order).
containers_of(spec) := [[field, i, c] |
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some i, c in list(spec, field)
]

# `Kind namespace/name`, for messages.
object_name := object_meta.name if {
	text(object_meta, "name") != ""
} else := object_meta.generateName if {
	text(object_meta, "generateName") != ""
} else := review.name if {
	is_string(review.name)
} else := ""

object_ref := concat(" ", [x | some x in [kind.kind, place]; x != ""]) if {
	place := concat("/", [x | some x in [namespace, object_name]; x != ""])
}

# Who is asking, for messages.
who := sprintf("%s (the %s runner)", [username, requester.type]) if {
	requester
} else := username
