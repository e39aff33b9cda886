# public-registries: in the runners namespace, every image of every container list and every
# image volume comes from a registry in allowedRegistries. References are read with the grammar of
# github.com/distribution/reference (image_registry); one that cannot be read is denied, since
# its registry cannot be known. Reference: policy/src/rules/public_registries.rs and
# policy/src/request/image.rs.
package k8srunnersecurity

allowed_registries_normalised := {normalise_registry(r) | some r in allowed_registries}

public_registries contains deny_in("public-registries", sprintf("%sspec.%s[%d].image", [runners_pod.prefix, field, i]), text(c, "name"), sprintf("container %q of %s: image `%s` %s; use an image from an allowed registry (an image without a registry is docker.io) or add the registry to allowedRegistries (%s), and write it as [registry/]repository[:tag][@digest]", [text(c, "name"), object_ref, image, image_problem(image), concat(", ", sort([r | some r in allowed_registries_normalised]))])) if {
	some [field, i, c] in judged_containers
	image := text(c, "image")
	image != ""
	not allowed_image(image)
}

# An image volume (volumes[].image) pulls its image like a container does.
public_registries contains deny("public-registries", sprintf("%sspec.volumes[%d].image.reference", [runners_pod.prefix, i]), sprintf("volume %q of %s: image `%s` %s; use an image from an allowed registry (an image without a registry is docker.io) or add the registry to allowedRegistries (%s), and write it as [registry/]repository[:tag][@digest]", [text(v, "name"), object_ref, image, image_problem(image), concat(", ", sort([r | some r in allowed_registries_normalised]))])) if {
	some i, v in judged_volumes
	image := text(get(v, "image", {}), "reference")
	image != ""
	not allowed_image(image)
}

# A reference that cannot be read is not allowed. A rule of its own because real OPA fails
# `not image_registry(image) in s` when image_registry(image) is undefined (regorus passes it).
allowed_image(image) if image_registry(image) in allowed_registries_normalised

image_problem(image) := sprintf("comes from registry %s, which is not in allowedRegistries", [image_registry(image)]) if {
	image_registry(image)
} else := "is not a valid image reference, so its registry cannot be checked"

# Docker Hub under any of its names is docker.io; hosts compare case-insensitively; the port
# is kept.
normalise_registry(r) := docker_hub if {
	ascii_lower(r) in docker_hub_aliases
} else := ascii_lower(r)

# The normalised registry of a valid image reference; undefined when it cannot be read.
image_registry(image) := registry if {
	[name_tag, digest] := split_digest(image)
	valid_digest(digest)
	[name, tag] := split_tag(name_tag)
	valid_tag(tag)
	name != ""
	count(name) <= image_name_max
	[registry, path] := split_registry(name)
	every component in split(path, "/") {
		regex.match(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`, component)
	}
	not regex.match(`^[0-9a-f]{64}$`, name)
}

# [name[:tag], digest]; digest null without `@` (split at the first `@`).
split_digest(image) := [substring(image, 0, at), substring(image, at + 1, -1)] if {
	at := indexof(image, "@")
	at >= 0
} else := [image, null]

valid_digest(d) if d == null

valid_digest(d) if {
	is_string(d)
	regex.match(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`, d)
}

# [name, tag]; a `:` after the last `/` starts the tag, one before it belongs to a port.
split_tag(name_tag) := [substring(name_tag, 0, colon), tag] if {
	colon := last_index(name_tag, ":")
	colon >= 0
	tag := substring(name_tag, colon + 1, -1)
	not contains(tag, "/")
} else := [name_tag, null]

last_index(s, ch) := max(indexof_n(s, ch)) if {
	count(indexof_n(s, ch)) > 0
} else := -1

valid_tag(t) if t == null

valid_tag(t) if {
	is_string(t)
	count(t) <= image_tag_max
	regex.match(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`, t)
}

# [registry, repository path]: the first component is a registry when it has `.` or `:`, is
# localhost, or has an uppercase letter; else the registry is Docker Hub.
split_registry(name) := [normalise_registry(first), substring(name, count(first) + 1, -1)] if {
	contains(name, "/")
	first := split(name, "/")[0]
	is_registry_component(first)
	valid_registry(first)
} else := [docker_hub, name] if {
	not registry_named(name)
}

registry_named(name) if {
	contains(name, "/")
	is_registry_component(split(name, "/")[0])
}

is_registry_component(first) if contains(first, ".")

is_registry_component(first) if contains(first, ":")

is_registry_component(first) if first == "localhost"

is_registry_component(first) if regex.match(`[A-Z]`, first)

valid_registry(r) if regex.match(`^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`, r)

valid_registry(r) if regex.match(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]+)?$`, r)
