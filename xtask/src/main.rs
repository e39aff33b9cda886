//! Project tasks: `cargo xtask <task>`. One module per task.

mod bundle;
mod dist;
mod fuzz;
mod gatekeeper;
mod kubewarden;
mod npm;
mod playground;
mod rego_constants;
#[cfg(feature = "requests")]
mod requests;
mod test;
mod toolchain;
mod vap;

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

/// Errors print as their chain of causes, without the backtrace `anyhow` adds to `main`'s error
/// when `RUST_BACKTRACE` is set (as CI sets it): the cause is what says what to do.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("dist") => dist::run(&rest),
        Some("requests") => run_requests(&rest),
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

/// `cargo xtask requests`: built with the `requests` feature, or re-run with it.
#[cfg(feature = "requests")]
fn run_requests(args: &[&str]) -> Result<()> {
    requests::run(args)
}

/// Without the `requests` feature (the default, so that `dist` compiles no Kubernetes types),
/// runs this task again through cargo with the feature on.
#[cfg(not(feature = "requests"))]
fn run_requests(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(&cargo)
        .current_dir(project_root())
        .args(["run", "--package", "xtask", "--features", "requests", "--"])
        .arg("requests")
        .args(args)
        .status()
        .map_err(|e| anyhow::anyhow!("cannot start `{cargo}`: {e}"))?;
    if !status.success() {
        // The task has said what failed; pass its exit code on without another message.
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}

/// The workspace root (xtask lives one level below it).
pub fn project_root() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    dir.parent().unwrap_or(dir).to_path_buf()
}
