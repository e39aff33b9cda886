//! Project tasks: `cargo xtask <task>`. One module per task.

mod bundle;
mod dist;
mod fuzz;
mod gatekeeper;
mod kubewarden;
mod playground;
mod rego_constants;
mod requests;
mod test;

use anyhow::{Result, bail};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  dist              build bundles/dist/policy.wasm (release, post-linked) and the bundles
  requests [--check] regenerate the recorded requests under host-tests/requests
                    (--check: fail if they are stale)
  gatekeeper [--check] regenerate policy/rego/constants.rego and bundles/gatekeeper/
                    (--check: fail if they are stale)
  test              every check of the project (what CI runs), installing npm packages
  fuzz [TARGET...] [--seconds N]
                    coverage-guided fuzzing (nightly + cargo-fuzz) of json, evaluate,
                    settings and module, N seconds each (default 60)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("dist") => dist::run(&rest),
        Some("requests") => requests::run(&rest),
        Some("gatekeeper") => gatekeeper::run(&rest),
        Some("test") => test::run(&rest),
        Some("fuzz") => fuzz::run(&rest),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// The workspace root (xtask lives one level below it).
pub fn project_root() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    dir.parent().unwrap_or(dir).to_path_buf()
}
