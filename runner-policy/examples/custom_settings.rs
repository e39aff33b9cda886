//! Load custom settings (org `acme`, a push-allowed project) and print each violation.
//!
//! Run: `cargo xtask dist && cargo run -p runner-policy --example custom_settings`

use anyhow::Result;
use runner_policy::decision::Decision;
use runner_policy::host::{Runtime, default_module_path};
use serde_json::json;

const SETTINGS: &str = "
org: acme
runners:
  - {type: dind, serviceAccount: gitlab-runner-dind}
  - {type: nix, serviceAccount: gitlab-runner-nix}
allowedRegistries: [docker.io, registry.gitlab.com]
pushAllowedProjects: ['7']
";

fn main() -> Result<()> {
    let settings = runner_policy::settings::parse(SETTINGS)?;
    let mut policy = Runtime::load(&default_module_path())?.instantiate(&settings)?;

    // A nix job pod in `acme-runners` with a literal Attic token and an image from a private
    // registry: two violations.
    let request = json!({
        "uid": "7",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "namespace": "acme-runners",
        "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:acme-runners:gitlab-runner-nix"},
        "object": {
            "metadata": {"name": "nix-job", "namespace": "acme-runners"},
            "spec": {"containers": [{
                "name": "build",
                "image": "registry.example.com/nix:2.24",
                "env": [{"name": "ATTIC_TOKEN", "value": "hunter2"}],
            }]},
        },
    });

    // Kubewarden's `opa` dialect: `{"request": ...}`, settings in the data document.
    let input = serde_json::to_vec(&json!({ "request": request }))?;
    let decision = Decision::from_value(policy.evaluate("runners/decision", &input)?)?;
    println!("{}", decision.verdict());
    for v in &decision.violations {
        println!(
            "{:30} {:40} {:8} {}",
            v.rule,
            v.path,
            v.container.as_deref().unwrap_or("-"),
            v.msg
        );
    }
    Ok(())
}
