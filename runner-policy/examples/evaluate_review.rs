//! Evaluate one AdmissionReview with the bundled example settings and print the decision.
//!
//! Run: `cargo xtask dist && cargo run -p runner-policy --example evaluate_review`

use anyhow::Result;
use runner_policy::decision::Decision;
use runner_policy::host::{Runtime, default_module_path};
use serde_json::json;

fn main() -> Result<()> {
    let runtime = Runtime::load(&default_module_path())?;
    let mut policy = runtime.instantiate(&runner_policy::settings::example()?)?;

    // A privileged job pod created by the `docker` runner: only `dind` may run privileged.
    let review = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "42",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "namespace": "example-runners",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:example-runners:gitlab-runner-docker"},
            "object": {
                "metadata": {"name": "runner-job", "namespace": "example-runners"},
                "spec": {"containers": [{
                    "name": "build",
                    "image": "docker.io/library/alpine:3",
                    "securityContext": {"privileged": true},
                }]},
            },
        },
    });

    let input = serde_json::to_vec(&review)?;
    let decision = Decision::from_value(policy.evaluate("runners/decision", &input)?)?;
    println!("{} (runner: {:?})", decision.verdict(), decision.runner);
    // What Kubewarden and the API server see: the AdmissionReview response.
    let main = policy.evaluate("runners/main", &input)?;
    println!("{}", serde_json::to_string_pretty(&main["response"])?);
    Ok(())
}
