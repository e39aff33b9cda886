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

# Where docker, kaniko, buildah, podman and skopeo look for registry credentials: a `.docker`
# directory anywhere, a credential file by name, or the `containers` directory of podman's
# auth.json (`.../containers`, `.../containers/<uid>`), but not image storage under lib/ or share/.
is_registry_auth_path(mount_path, sub_path) if ".docker" in path_parts(mount_path, sub_path)

is_registry_auth_path(mount_path, sub_path) if {
	parts := path_parts(mount_path, sub_path)
	auth_dir(parts, count(parts) - 1)
}

is_registry_auth_path(mount_path, sub_path) if {
	parts := path_parts(mount_path, sub_path)
	regex.match(`^[0-9]+$`, parts[count(parts) - 1])
	auth_dir(parts, count(parts) - 2)
}

auth_dir(parts, i) if {
	parts[i] == "containers"
	not parts[i - 1] in {"lib", "share"}
}

is_registry_auth_path(mount_path, sub_path) if {
	parts := path_parts(mount_path, sub_path)
	count(parts) > 0
	parts[count(parts) - 1] in {"auth.json", "config.json", ".dockercfg", ".dockerconfigjson"}
}

path_parts(mount_path, sub_path) := [p |
	some p in array.concat(split(mount_path, "/"), split(sub_path, "/"))
	not p in {"", "."}
]

no_push_credentials contains deny("no-push-credentials", sprintf("%sspec.volumes[%d]", [runners_pod.prefix, i]), sprintf("volume %q of %s mounts Secret %s, which holds registry credentials; %s", [text(volume, "name"), object_ref, secret, push_fix])) if {
	not push_allowed
	some i, volume in judged_volumes
	listed := [s | some s in volume_secret_names(volume); s in registry_credential_secrets]
	count(listed) > 0
	secret := listed[0]
}

no_push_credentials contains deny_in("no-push-credentials", sprintf("%s.volumeMounts[%d].mountPath", [at, j]), text(c, "name"), sprintf("container %q of %s mounts %s at %s, where registry clients read push credentials; %s", [text(c, "name"), object_ref, source, text(mount, "mountPath"), push_fix])) if {
	not push_allowed
	some [field, i, c] in judged_containers
	at := sprintf("%sspec.%s[%d]", [runners_pod.prefix, field, i])
	some j, mount in list(c, "volumeMounts")
	sources := [s | some volume in list(runners_pod.spec, "volumes"); text(volume, "name") == text(mount, "name"); s := credential_source(volume)]
	count(sources) > 0
	source := sources[0]
	is_registry_auth_path(text(mount, "mountPath"), text(mount, "subPath"))
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
