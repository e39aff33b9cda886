# dind-only-privilege: in the runners namespace, only a privileged runner type (dind) may run
# privileged or relax any other Pod Security baseline check (host access aside, which
# no-host-access denies to everyone). Reference: policy/src/rules/dind_only_privilege.rs.
package k8srunnersecurity

dind_rule := "dind-only-privilege"

dind_why := sprintf("%s may run privileged only in service containers (dindPrivilegedContainers: services)", [who]) if {
	privileged_runner
} else := sprintf("%s is not a privileged runner (privileged runner types: %s)", [who, privileged_type_names])

privileged_type_names := concat(", ", privileged_runner_types) if {
	count(privileged_runner_types) > 0
} else := "none"

dind_deny(path, container, what, fix) := deny_in(dind_rule, path, container, sprintf("container %q of %s: %s, but %s; %s", [container, object_ref, what, dind_why, fix]))

dind_deny_pod(path, what, fix) := deny(dind_rule, path, sprintf("%s: %s, but %s; %s", [object_ref, what, dind_why, fix]))

# A privileged runner's container that may be privileged.
container_exempt(_, _) if {
	privileged_runner
	dind_privileged_containers == "all"
}

container_exempt(c, field) if {
	privileged_runner
	dind_privileged_containers == "services"
	field != "ephemeralContainers"
	not text(c, "name") in runner_own_containers
}

apparmor_annotation_allowed(value) if value in {"", "runtime/default"}

apparmor_annotation_allowed(value) if startswith(value, "localhost/")

profile_allowed(t) if t in {"RuntimeDefault", "Localhost"}

selinux_fix := "leave user and role unset and use type container_t (or unset)"

profile_fix := "use RuntimeDefault or Localhost"

# The containers to judge: [list field, index, container, path].
dind_containers contains [field, i, c, sprintf("%sspec.%s[%d]", [runners_pod.prefix, field, i])] if {
	some [field, i, c] in judged_containers
	not container_exempt(c, field)
}

# AppArmor annotations belong to one container each.
dind_only_privilege contains dind_deny(sprintf("%smetadata.annotations[\"%s\"]", [runners_pod.prefix, key]), text(c, "name"), sprintf("AppArmor profile annotation is `%s`", [value]), "use runtime/default or localhost/<profile>") if {
	some [_, _, c, _] in dind_containers
	key := concat("", [apparmor_annotation, text(c, "name")])
	value := get(runners_pod.meta, "annotations", {})[key]
	not apparmor_annotation_allowed(value)
}

dind_only_privilege contains dind_deny(sprintf("%s.securityContext.privileged", [at]), text(c, "name"), "privileged: true", "run the job on the dind runner or remove securityContext.privileged") if {
	some [_, _, c, at] in dind_containers
	c.securityContext.privileged == true
}

dind_only_privilege contains dind_deny(sprintf("%s.securityContext.capabilities.add[%d]", [at, j]), text(c, "name"), sprintf("adds capability `%s`, which Pod Security baseline does not allow (normalised: %s)", [cap, normalise_capability(cap)]), sprintf("add only baseline capabilities, spelt as Kubernetes spells them (%s)", [concat(", ", baseline_capabilities_in_order)])) if {
	some [_, _, c, at] in dind_containers
	some j, cap in list(get(get(c, "securityContext", {}), "capabilities", {}), "add")
	not cap in baseline_capabilities
}

normalise_capability(cap) := trim_prefix(upper(trim_space(cap)), "CAP_")

dind_only_privilege contains dind_deny(sprintf("%s.securityContext.procMount", [at]), text(c, "name"), sprintf("procMount is `%s`", [pm]), "use procMount Default (Unmasked needs a user namespace: hostUsers: false)") if {
	some [_, _, c, at] in dind_containers
	pm := c.securityContext.procMount
	is_string(pm)
	pm != "Default"
	get(runners_pod.spec, "hostUsers", null) != false
}

dind_only_privilege contains dind_deny(sprintf("%s.securityContext.%s.type", [at, field]), text(c, "name"), sprintf("%s is `%s`", [what, t]), profile_fix) if {
	some [_, _, c, at] in dind_containers
	some [field, what] in [["seccompProfile", "seccomp profile"], ["appArmorProfile", "AppArmor profile"]]
	profile := get(get(c, "securityContext", {}), field, null)
	is_object(profile)
	t := text(profile, "type")
	not profile_allowed(t)
}

dind_only_privilege contains dind_deny(sprintf("%s.securityContext.seLinuxOptions.%s", [at, field]), text(c, "name"), what, selinux_fix) if {
	some [_, _, c, at] in dind_containers
	some [field, what] in selinux_problems(get(get(c, "securityContext", {}), "seLinuxOptions", null))
}

dind_only_privilege contains dind_deny(sprintf("%s.securityContext.windowsOptions.hostProcess", [at]), text(c, "name"), "hostProcess: true runs the container on the Windows host", "remove windowsOptions.hostProcess") if {
	some [_, _, c, at] in dind_containers
	c.securityContext.windowsOptions.hostProcess == true
}

# Probes and lifecycle hooks that point the kubelet at another host (baseline since 1.34).
dind_only_privilege contains dind_deny(sprintf("%s.%s.%s.host", [at, field, handler_kind]), text(c, "name"), sprintf("%s targets host `%s`", [field, host]), "remove the host field; probes and hooks must target the pod itself") if {
	some [_, _, c, at] in dind_containers
	some [field, handler] in [
		["livenessProbe", get(c, "livenessProbe", null)],
		["readinessProbe", get(c, "readinessProbe", null)],
		["startupProbe", get(c, "startupProbe", null)],
		["lifecycle.postStart", get(get(c, "lifecycle", {}), "postStart", null)],
		["lifecycle.preStop", get(get(c, "lifecycle", {}), "preStop", null)],
	]
	is_object(handler)
	some handler_kind in ["httpGet", "tcpSocket"]
	host := text(get(handler, handler_kind, {}), "host")
	host != ""
}

selinux_problems(o) := [[field, what] |
	is_object(o)
	some [field, what] in [
		["type", sprintf("SELinux type is `%s`", [text(o, "type")])],
		["user", sprintf("SELinux user is set to `%s`", [text(o, "user")])],
		["role", sprintf("SELinux role is set to `%s`", [text(o, "role")])],
	]
	selinux_bad(field, text(o, field))
]

selinux_bad("type", t) if {
	t != ""
	not t in selinux_types
}

selinux_bad("user", u) if u != ""

selinux_bad("role", r) if r != ""

# ---------------------------------------------------------------- pod level

# Pod-level settings reach every container, the runner's own included, which stay at baseline
# unless every container may relax it.
pod_level_judged if {
	not narrowed
	not privileged_runner
}

pod_level_judged if {
	not narrowed
	dind_privileged_containers == "services"
}

pod_sc_at := sprintf("%sspec.securityContext", [runners_pod.prefix])

pod_sc := get(runners_pod.spec, "securityContext", {})

# AppArmor annotations naming no container of the pod still say "unconfined".
dind_only_privilege contains dind_deny_pod(sprintf("%smetadata.annotations[\"%s\"]", [runners_pod.prefix, key]), sprintf("AppArmor profile annotation is `%s`", [value]), "use runtime/default or localhost/<profile>") if {
	pod_level_judged
	names := {text(c, "name") | some [_, _, c] in containers_of(runners_pod.spec)}
	some key, value in get(runners_pod.meta, "annotations", {})
	startswith(key, apparmor_annotation)
	not substring(key, count(apparmor_annotation), -1) in names
	not apparmor_annotation_allowed(value)
}

dind_only_privilege contains dind_deny_pod(sprintf("%s.%s.type", [pod_sc_at, field]), sprintf("pod %s is `%s`", [what, t]), profile_fix) if {
	pod_level_judged
	some [field, what] in [["seccompProfile", "seccomp profile"], ["appArmorProfile", "AppArmor profile"]]
	profile := get(pod_sc, field, null)
	is_object(profile)
	t := text(profile, "type")
	not profile_allowed(t)
}

dind_only_privilege contains dind_deny_pod(sprintf("%s.seLinuxOptions.%s", [pod_sc_at, field]), what, selinux_fix) if {
	pod_level_judged
	some [field, what] in selinux_problems(get(pod_sc, "seLinuxOptions", null))
}

dind_only_privilege contains dind_deny_pod(sprintf("%s.sysctls[%d].name", [pod_sc_at, i]), sprintf("sets sysctl `%s`, which is not namespaced-safe", [name]), "remove it, or use only the Pod Security baseline safe sysctls") if {
	pod_level_judged
	some i, sysctl in list(pod_sc, "sysctls")
	name := text(sysctl, "name")
	not name in safe_sysctls
}

dind_only_privilege contains dind_deny_pod(sprintf("%s.windowsOptions.hostProcess", [pod_sc_at]), "hostProcess: true runs the pod on the Windows host", "remove windowsOptions.hostProcess") if {
	pod_level_judged
	pod_sc.windowsOptions.hostProcess == true
}
