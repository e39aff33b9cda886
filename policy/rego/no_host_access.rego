# no-host-access: in the runners namespace no workload, dind included, reaches the node: host
# namespaces, hostPath volumes (the Docker socket above all) and host ports.
# Reference: policy/src/rules/no_host_access.rs.
package k8srunnersecurity

no_host_access contains deny("no-host-access", sprintf("%sspec.%s", [runners_pod.prefix, field]), sprintf("%s (requested by %s) sets %s: true and would share %s; runner pods never need it, remove it", [object_ref, who, field, what])) if {
	some [field, what] in [
		["hostNetwork", "the node's network"],
		["hostPID", "the node's processes"],
		["hostIPC", "the node's IPC"],
	]
	runners_pod.spec[field] == true
	not narrowed
}

no_host_access contains deny("no-host-access", sprintf("%sspec.volumes[%d].hostPath", [runners_pod.prefix, i]), sprintf("volume %q of %s (requested by %s) %s; use the dind service (DOCKER_HOST=tcp://docker:2376) or an emptyDir instead", [text(volume, "name"), object_ref, who, host_path_what(text(volume.hostPath, "path"))])) if {
	some i, volume in judged_volumes
	is_object(volume.hostPath)
}

host_path_what(path) := "mounts the node's Docker socket, which is root on the node" if {
	endswith(trim_right(path, "/"), "docker.sock")
} else := sprintf("mounts host path `%s` from the node", [path])

no_host_access contains deny_in("no-host-access", sprintf("%sspec.%s[%d].ports[%d].hostPort", [runners_pod.prefix, field, i, j]), text(c, "name"), sprintf("container %q of %s (requested by %s) binds host port %d; use a Service or the pod IP instead", [text(c, "name"), object_ref, who, port.hostPort])) if {
	some [field, i, c] in judged_containers
	some j, port in list(c, "ports")
	is_number(port.hostPort)
	port.hostPort != 0
}
