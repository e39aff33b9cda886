# public-registries: not yet twinned (the Rust rule is being written).
package k8srunnersecurity

public_registries contains v if {
	some v in set()
}
