# namespaced-rbac: not yet twinned (the Rust rule is being written).
package k8srunnersecurity

namespaced_rbac contains v if {
	some v in set()
}
