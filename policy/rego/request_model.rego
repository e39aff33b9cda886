# The request model: what the module's reader (policy/src/request/*.rs) refuses for a wrong type
# in what the rules read, refused here too, so that the twin fails closed where the module does.
# A field may always be null (the module reads it as absent); a list item or map value may not.
# Types: "s" string, "b" boolean, "i" integer, "o" object, "a" array, "m" map of strings. Paths
# are dotted, "#" standing for any list index.
package k8srunnersecurity

# ---------------------------------------------------------------- the request (input.review)

request_types := {
	"uid": "s", "kind": "o", "kind.group": "s", "kind.version": "s", "kind.kind": "s",
	"subResource": "s", "name": "s", "namespace": "s", "operation": "s",
	"userInfo": "o", "userInfo.username": "s", "userInfo.groups": "a",
}

# Why the input cannot be read, as [path, message]; the module reports the first it meets.
input_problem := ["input", "input is not one of the three dialects: a top-level kind or apiVersion that is not a string"] if {
	some f in ["kind", "apiVersion"]
	not get(input, f, "") == ""
	not is_string(input[f])
} else := ["input", "unsupported input: expected {\"review\": AdmissionRequest} (Gatekeeper), {\"request\": AdmissionRequest} (Kubewarden opa mode) or an AdmissionReview"] if {
	get(input, "review", null) == null
} else := ["input.review", "input.review is not a valid AdmissionRequest: not an object"] if {
	not is_object(review)
} else := ["input.review", sprintf("input.review is not a valid AdmissionRequest: input.review.%s is not %s", [k, type_names[t]])] if {
	some k, t in request_types
	v := object.get(review, split(k, "."), null)
	v != null
	not type_ok(t, v)
} else := ["input.review", "input.review is not a valid AdmissionRequest: input.review.userInfo.groups holds a value that is not a string"] if {
	some g in get(get(review, "userInfo", {}), "groups", [])
	not is_string(g)
} else := ["input.review", "input.review is not a valid AdmissionRequest: input.review.operation is required (CREATE, UPDATE, DELETE or CONNECT)"] if {
	not get(review, "operation", null) in {"CREATE", "UPDATE", "DELETE", "CONNECT"}
} else := ["input.review", "input.review is not a valid AdmissionRequest: input.review.kind.kind is required (the object's kind, e.g. Pod)"] if {
	text(get(review, "kind", {}), "kind") == ""
}

# ---------------------------------------------------------------- the object, by kind

meta_types := {"": "o", "name": "s", "generateName": "s", "namespace": "s", "labels": "m", "annotations": "m"}

handler_types := {"": "o", "httpGet": "o", "httpGet.host": "s", "tcpSocket": "o", "tcpSocket.host": "s"}

# Under a container's and a pod's securityContext alike.
profile_types := {"seccompProfile": "o", "seccompProfile.type": "s", "appArmorProfile": "o", "appArmorProfile.type": "s", "seLinuxOptions": "o", "seLinuxOptions.type": "s", "seLinuxOptions.user": "s", "seLinuxOptions.role": "s", "windowsOptions": "o", "windowsOptions.hostProcess": "b"}

container_own_types := {
	"": "o", "name": "s", "image": "s",
	"securityContext": "o", "securityContext.privileged": "b", "securityContext.capabilities": "o",
	"securityContext.capabilities.add": "a", "securityContext.capabilities.add.#": "s", "securityContext.procMount": "s",
	"ports": "a", "ports.#": "o", "ports.#.hostPort": "i",
	"env": "a", "env.#": "o", "env.#.name": "s", "env.#.value": "s", "env.#.valueFrom": "o",
	"env.#.valueFrom.secretKeyRef": "o", "env.#.valueFrom.secretKeyRef.name": "s",
	"envFrom": "a", "envFrom.#": "o", "envFrom.#.secretRef": "o", "envFrom.#.secretRef.name": "s",
	"envFrom.#.configMapRef": "o", "envFrom.#.configMapRef.name": "s", "envFrom.#.prefix": "s",
	"volumeMounts": "a", "volumeMounts.#": "o", "volumeMounts.#.name": "s", "volumeMounts.#.mountPath": "s", "volumeMounts.#.subPath": "s",
	"lifecycle": "o",
}

container_types := object.union(object.union(
	container_own_types,
	{dotted(["securityContext", k]): t | some k, t in profile_types},
), {dotted([h, k]): t | some h in ["livenessProbe", "readinessProbe", "startupProbe", "lifecycle.postStart", "lifecycle.preStop"]; some k, t in handler_types})

pod_spec_own_types := {
	"": "o", "hostNetwork": "b", "hostPID": "b", "hostIPC": "b", "hostUsers": "b",
	"securityContext": "o", "securityContext.sysctls": "a", "securityContext.sysctls.#": "o", "securityContext.sysctls.#.name": "s",
	"volumes": "a", "volumes.#": "o", "volumes.#.name": "s", "volumes.#.hostPath": "o", "volumes.#.hostPath.path": "s",
	"volumes.#.secret": "o", "volumes.#.secret.secretName": "s", "volumes.#.secret.items": "a", "volumes.#.secret.items.#": "o", "volumes.#.secret.items.#.path": "s",
	"volumes.#.projected": "o", "volumes.#.projected.sources": "a", "volumes.#.projected.sources.#": "o",
	"volumes.#.projected.sources.#.secret": "o", "volumes.#.projected.sources.#.secret.name": "s",
	"volumes.#.projected.sources.#.secret.items": "a", "volumes.#.projected.sources.#.secret.items.#": "o", "volumes.#.projected.sources.#.secret.items.#.path": "s",
	"volumes.#.image": "o", "volumes.#.image.reference": "s", "volumes.#.csi": "o", "volumes.#.csi.driver": "s",
	"serviceAccountName": "s", "serviceAccount": "s",
}

pod_spec_types := object.union(object.union(
	pod_spec_own_types,
	{dotted(["securityContext", k]): t | some k, t in profile_types},
), {dotted([l, k]): t | some l in container_lists; some k, t in container_list_types})

container_list_types := object.union({"": "a"}, {dotted(["#", k]): t | some k, t in container_types})

container_lists := ["initContainers", "containers", "ephemeralContainers"]

selector_types := {"": "o", "matchLabels": "m", "matchExpressions": "a", "matchExpressions.#": "o", "matchExpressions.#.key": "s", "matchExpressions.#.operator": "s", "matchExpressions.#.values": "a", "matchExpressions.#.values.#": "s"}

# The types of a pod-bearing object whose pod template sits at `root` ("" for a Pod): the
# objects on the way, the template's metadata and spec.
pod_object_types(root) := object.union(object.union(
	{dotted(array.slice(parts, 0, n)): "o" | root != ""; parts := split(root, "."); some n in numbers.range(1, count(parts))},
	{dotted([root, "metadata", k]): t | some k, t in meta_types},
), {dotted([root, "spec", k]): t | some k, t in pod_spec_types})

role_types := {dotted(["rules", k]): t | some k, t in object.union({"": "a", "#": "o"}, {sprintf("#.%s%s", [f, x]): t2 | some f in ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"]; some [x, t2] in [["", "a"], [".#", "s"]]})}

binding_types := {"roleRef": "o", "roleRef.apiGroup": "s", "roleRef.kind": "s", "roleRef.name": "s", "subjects": "a", "subjects.#": "o", "subjects.#.kind": "s", "subjects.#.name": "s", "subjects.#.namespace": "s"}

data_types := {"type": "s", "data": "m", "stringData": "m", "binaryData": "m"}

network_policy_types := object.union(
	{"spec": "o", "spec.egress": "a", "spec.egress.#": "o", "spec.egress.#.to": "a", "spec.egress.#.to.#": "o"},
	{dotted(["spec.egress.#.to.#", s, k]): t | some s in ["namespaceSelector", "podSelector"]; some k, t in selector_types},
)

# The types of an object of this kind (the module's `shape`), as path arrays.
object_types(group, kind) := types_of(object.union(object_types_text(group, kind), {dotted(["metadata", k]): t | some k, t in meta_types}))

object_types_text(group, kind) := pod_object_types(pod_root(group, kind)) if {
	pod_root(group, kind)
} else := role_types if {
	[group, kind] in {["rbac.authorization.k8s.io", "Role"], ["rbac.authorization.k8s.io", "ClusterRole"]}
} else := binding_types if {
	[group, kind] in {["rbac.authorization.k8s.io", "RoleBinding"], ["rbac.authorization.k8s.io", "ClusterRoleBinding"]}
} else := data_types if {
	[group, kind] in {["", "Secret"], ["", "ConfigMap"]}
} else := network_policy_types if {
	[group, kind] == ["networking.k8s.io", "NetworkPolicy"]
} else := {}

# Where a kind keeps its pod template ("" for a Pod itself).
pod_root(group, kind) := "" if {
	[group, kind] == ["", "Pod"]
} else := "spec.template" if {
	[group, kind] in {
		["apps", "Deployment"], ["apps", "ReplicaSet"], ["apps", "StatefulSet"], ["apps", "DaemonSet"],
		["batch", "Job"], ["", "ReplicationController"],
	}
} else := "spec.jobTemplate.spec.template" if {
	[group, kind] == ["batch", "CronJob"]
} else := "template" if {
	[group, kind] == ["", "PodTemplate"]
}

types_of(text_types) := {k: t | some k, t in text_types; k != ""}

pod_types := object_types("", "Pod")

# Dotted paths, skipping empty parts ("" stands for "here").
dotted(parts) := concat(".", [p | some p in parts; p != ""])

# The paths of the object, and of the old object of a Pod, whose value breaks the types of its
# kind. Each typed path is followed through the lists its "#" stand for (at most four).
object_type_problems contains path if {
	some key, t in kind_types
	some [path, v] in values_at(obj, key)
	not null_allowed(path, v)
	not type_ok(t, v)
}

old_pod_type_problems contains path if {
	some key, t in pod_types
	some [path, v] in values_at(review.oldObject, key)
	not null_allowed(path, v)
	not type_ok(t, v)
}

# [path, value] of each value at the dotted path `key` of `o`.
values_at(o, key) := {[s0, v] |
	[s0] := segments(key)
	v := value_at(o, s0)
} if {
	count(segments(key)) == 1
} else := {[array.concat(array.concat(s0, [i1]), s1), v] |
	[s0, s1] := segments(key)
	some i1, x1 in list_at(o, s0)
	v := value_at(x1, s1)
} if {
	count(segments(key)) == 2
} else := {[array.concat(array.concat(array.concat(array.concat(s0, [i1]), s1), [i2]), s2), v] |
	[s0, s1, s2] := segments(key)
	some i1, x1 in list_at(o, s0)
	some i2, x2 in list_at(x1, s1)
	v := value_at(x2, s2)
} if {
	count(segments(key)) == 3
} else := {[array.concat(array.concat(array.concat(array.concat(array.concat(array.concat(s0, [i1]), s1), [i2]), s2), [i3]), s3), v] |
	[s0, s1, s2, s3] := segments(key)
	some i1, x1 in list_at(o, s0)
	some i2, x2 in list_at(x1, s1)
	some i3, x3 in list_at(x2, s2)
	v := value_at(x3, s3)
} if {
	count(segments(key)) == 4
} else := {[array.concat(array.concat(array.concat(array.concat(array.concat(array.concat(array.concat(array.concat(s0, [i1]), s1), [i2]), s2), [i3]), s3), [i4]), s4), v] |
	[s0, s1, s2, s3, s4] := segments(key)
	some i1, x1 in list_at(o, s0)
	some i2, x2 in list_at(x1, s1)
	some i3, x3 in list_at(x2, s2)
	some i4, x4 in list_at(x3, s3)
	v := value_at(x4, s4)
}

# A dotted path cut at its "#": the keys between them.
segments(key) := [[k | some k in split(part, "."); k != ""] | some part in split(key, "#")]

value_at(o, keys) := o if {
	count(keys) == 0
} else := object.get(o, keys, null) if {
	is_object(o)
} else := null

list_at(o, keys) := l if {
	l := value_at(o, keys)
	is_array(l)
} else := []

kind_types := object_types(kind.group, kind.kind)

step(p) := "#" if is_number(p) else := p

null_allowed(path, null) if is_string(path[count(path) - 1])

type_ok("s", v) if is_string(v)

type_ok("b", v) if is_boolean(v)

type_ok("i", v) if {
	is_number(v)
	round(v) == v
}

type_ok("o", v) if is_object(v)

type_ok("a", v) if is_array(v)

type_ok("m", v) if {
	is_object(v)
	every x in v {
		is_string(x)
	}
}

type_names := {"s": "a string", "b": "a boolean", "i": "an integer", "o": "an object", "a": "an array", "m": "a map of strings"}

path_text(path) := concat("", [s | some p in path; s := path_step_text(p)])

path_step_text(p) := sprintf("[%d]", [p]) if is_number(p) else := sprintf(".%s", [p])

# Why the object cannot be judged, if it cannot (only when there is one).
object_problem := sprintf("request.object is not a valid %s: object is not an object", [kind.kind]) if {
	obj != null
	not is_object(obj)
} else := sprintf("request.object is not a valid %s: object%s is not %s", [kind.kind, path_text(p), type_names[kind_types[concat(".", [step(x) | some x in p])]]]) if {
	obj != null
	p := min(object_type_problems)
} else := sprintf("request.object is not a valid %s: object: %s is missing or null, so there is no pod spec to judge", [kind.kind, spec_at]) if {
	obj != null
	spec_at := dotted([pod_root(kind.group, kind.kind), "spec"])
	object.get(obj, split(spec_at, "."), null) == null
}
