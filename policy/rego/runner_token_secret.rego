# runner-token-secret: not yet twinned (the Rust rule is being written).
package k8srunnersecurity

runner_token_secret contains v if {
	some v in set()
}
