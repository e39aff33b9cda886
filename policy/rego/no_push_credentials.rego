# no-push-credentials: pods in the runners namespace hold no registry push credentials unless
# their project (the runner label, which jobs cannot override) is allowed to push. A Secret or
# CSI volume mounted where registry clients read credentials is one. imagePullSecrets are pull-only and stay allowed. Reference: policy/src/rules/no_push_credentials.rs.
package k8srunnersecurity

push_project := get(get(runners_pod.meta, "labels", {}), project_label, null)

push_allowed if push_project in push_allowed_projects

push_fix := sprintf("project %s is not in pushAllowedProjects; configure push per job through CI/CD credentials, or add the project to pushAllowedProjects", [push_project]) if {
	is_string(push_project)
} else := sprintf("the pod has no %s label in pushAllowedProjects; configure push per job through CI/CD credentials", [project_label])

# The Secrets a volume projects into the pod.
volume_secret_names(volume) := array.concat(
	[n | n := volume.secret.secretName; is_string(n)],
	[n | some source in list(get(volume, "projected", {}), "sources"); n := source.secret.name; is_string(n)],
)

# What may bring credentials into the pod through this volume: a Secret, or a CSI driver.
credential_source(volume) := "a Secret" if {
	carries_secret(volume)
} else := "a CSI volume, whose driver can mount any stored credential," if {
	is_object(volume.csi)
}

carries_secret(volume) if is_object(volume.secret)

carries_secret(volume) if {
	some source in list(get(volume, "projected", {}), "sources")
	is_object(source.secret)
}

# Where docker, kaniko, buildah, podman, skopeo and helm look for registry credentials, as path
# parts: a `.docker` directory anywhere, a credential file by name, the `containers` directory of
# podman's auth.json (`.../containers`, `.../containers/<uid>`) but not image storage under lib/
# or share/, helm's `helm/registry`, the directories above them that a Secret's keys or a CSI
# driver's files fill (a home directory, `.config`, `/run/user/<uid>`), and any `..`.
is_registry_auth_path(parts) if {
	some p in parts
	p in {".docker", ".."}
}

is_registry_auth_path(parts) if parts[count(parts) - 1] in {"auth.json", "config.json", ".dockercfg", ".dockerconfigjson", ".config"}

is_registry_auth_path(parts) if auth_dir(parts, count(parts) - 1)

is_registry_auth_path(parts) if {
	regex.match(`^[0-9]+$`, parts[count(parts) - 1])
	auth_dir(parts, count(parts) - 2)
}

is_registry_auth_path(parts) if {
	parts[count(parts) - 1] == "registry"
	parts[count(parts) - 2] == "helm"
}

is_registry_auth_path(parts) if parts == ["root"]

is_registry_auth_path(parts) if {
	count(parts) == 2
	parts[0] == "home"
}

is_registry_auth_path(parts) if {
	count(parts) == 3
	array.slice(parts, 0, 2) == ["run", "user"]
}

auth_dir(parts, i) if {
	parts[i] == "containers"
	not parts[i - 1] in {"lib", "share"}
}

# The parts of a path as the kubelet and the runtime resolve them: no empty or `.` parts.
path_parts(path) := [p | some p in split(path, "/"); not p in {"", "."}]

# Variables that name where registry clients read credentials, with the location under their
# value (the table and its reasons: policy/src/rules/no_push_credentials.rs).
auth_vars := [
	["DOCKER_CONFIG", ""],
	["REGISTRY_AUTH_FILE", ""],
	["HELM_REGISTRY_CONFIG", ""],
	["HELM_CONFIG_HOME", "registry"],
	["XDG_RUNTIME_DIR", "containers"],
	["XDG_CONFIG_HOME", "containers"],
	["XDG_CONFIG_HOME", "helm/registry"],
	["HOME", ".docker"],
	["HOME", ".dockercfg"],
	["HOME", ".config/containers"],
	["HOME", ".config/helm/registry"],
]

# The auth locations a container's env gives, in env order: [variable, its literal absolute
# value or null, location parts]; no parts (anywhere) when the spec does not show the value.
declared_auth(c) := [[var, value, loc] |
	some env in list(c, "env")
	some [var, under] in auth_vars
	text(env, "name") == var
	[value, loc] := auth_location(env, under)
]

auth_location(env, under) := [v, loc] if {
	v := text(env, "value")
	startswith(v, "/")
	not contains(v, "$")
	loc := array.concat(path_parts(v), path_parts(under))
	not ".." in loc
} else := [null, []] if {
	text(env, "value") != ""
} else := [null, []] if {
	get(env, "valueFrom", null) != null
}

# The paths of the Secret items a volume places: the Secret's, then each projected Secret's.
secret_items(volume) := array.concat(
	[text(item, "path") | some item in list(get(volume, "secret", {}), "items")],
	[text(item, "path") |
		some source in list(get(volume, "projected", {}), "sources")
		some item in list(get(source, "secret", {}), "items")
	],
)

# Where a mount puts files, as [item path or null, parts]: at the mount path (with any backstep
# of the subPath), and each Secret item the subPath selects, below it.
mount_places(mount, volume) := array.concat([[null, array.concat(m, [p | some p in sub; p == ".."])]], items) if {
	m := path_parts(text(mount, "mountPath"))
	sub := path_parts(text(mount, "subPath"))
	items := [[item, array.concat(m, rest)] |
		some item in secret_items(volume)
		rest := item_below(path_parts(item), sub)
	]
}

item_below(r, sub) := array.slice(r, count(sub), count(r)) if {
	array.slice(r, 0, count(sub)) == sub
} else := r if ".." in r

# Why a mount is a push credential, for its message: the first place at an auth path, else the
# first variable whose location holds a place or lies in one.
mount_note(c, mount, volume) := notes[0] if {
	places := mount_places(mount, volume)
	notes := array.concat(
		[item_note(item) | some [item, parts] in places; is_registry_auth_path(parts)],
		[var_note(var, value) |
			some [var, value, loc] in declared_auth(c)
			some [_, parts] in places
			paths_related(parts, loc)
		],
	)
	count(notes) > 0
}

item_note(item) := sprintf(" (item %s)", [item]) if is_string(item) else := ""

var_note(var, value) := sprintf(" (%s=%s)", [var, value]) if {
	is_string(value)
} else := sprintf(" (%s has no literal absolute value, so it may name any mount: give it one)", [var])

# One path is the other or lies under it.
paths_related(a, b) if array.slice(a, 0, count(b)) == b

paths_related(a, b) if array.slice(b, 0, count(a)) == a

no_push_credentials contains deny("no-push-credentials", sprintf("%sspec.volumes[%d]", [runners_pod.prefix, i]), sprintf("volume %q of %s mounts Secret %s, which holds registry credentials; %s", [text(volume, "name"), object_ref, secret, push_fix])) if {
	not push_allowed
	some i, volume in judged_volumes
	listed := [s | some s in volume_secret_names(volume); s in registry_credential_secrets]
	count(listed) > 0
	secret := listed[0]
}

no_push_credentials contains deny_in("no-push-credentials", sprintf("%s.volumeMounts[%d].mountPath", [at, j]), text(c, "name"), sprintf("container %q of %s mounts %s at %s, where registry clients read push credentials%s; %s", [text(c, "name"), object_ref, source, text(mount, "mountPath"), note, push_fix])) if {
	not push_allowed
	some [field, i, c] in judged_containers
	at := sprintf("%sspec.%s[%d]", [runners_pod.prefix, field, i])
	some j, mount in list(c, "volumeMounts")
	found := [[v, s] | some v in list(runners_pod.spec, "volumes"); text(v, "name") == text(mount, "name"); s := credential_source(v)]
	count(found) > 0
	[volume, source] := found[0]
	note := mount_note(c, mount, volume)
}

no_push_credentials contains deny_in("no-push-credentials", sprintf("%s.env[%d].valueFrom.secretKeyRef", [at, j]), text(c, "name"), sprintf("container %q of %s reads %s from Secret %s, which holds registry credentials; %s", [text(c, "name"), object_ref, text(env, "name"), secret, push_fix])) if {
	not push_allowed
	some [field, i, c] in judged_containers
	at := sprintf("%sspec.%s[%d]", [runners_pod.prefix, field, i])
	some j, env in list(c, "env")
	secret := env.valueFrom.secretKeyRef.name
	secret in registry_credential_secrets
}

no_push_credentials contains deny_in("no-push-credentials", sprintf("%s.envFrom[%d].secretRef", [at, j]), text(c, "name"), sprintf("container %q of %s loads every key of Secret %s, which holds registry credentials; %s", [text(c, "name"), object_ref, secret, push_fix])) if {
	not push_allowed
	some [field, i, c] in judged_containers
	at := sprintf("%sspec.%s[%d]", [runners_pod.prefix, field, i])
	some j, from in list(c, "envFrom")
	secret := from.secretRef.name
	secret in registry_credential_secrets
}
