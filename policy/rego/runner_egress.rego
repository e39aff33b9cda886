# runner-egress: not yet twinned (the Rust rule is being written).
package k8srunnersecurity

runner_egress contains v if {
	some v in set()
}
