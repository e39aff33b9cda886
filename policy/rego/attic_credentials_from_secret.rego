# attic-credentials-from-secret: not yet twinned (the Rust rule is being written).
package k8srunnersecurity

attic_credentials_from_secret contains v if {
	some v in set()
}
