//! `cargo xtask test`: every check of the project, in the order that fails fastest, installing
//! what it needs (npm packages, a Python venv, Chromium) so that a fresh clone passes as is.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// One step: a name for the progress line and the command to run from the workspace root.
struct Step {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
}

const fn step(name: &'static str, program: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        name,
        program,
        args,
    }
}

/// Stands for `cargo run -q -p runner-policy --bin runner-policy --` in a step.
const RUNNER_POLICY: &str = "runner-policy";
const RUNNER_POLICY_CARGO_ARGS: &[&str] = &[
    "run",
    "-q",
    "-p",
    "runner-policy",
    "--bin",
    "runner-policy",
    "--",
];

const STEPS: &[Step] = &[
    step("format", "cargo", &["fmt", "--all", "--", "--check"]),
    step(
        "format (fuzz targets)",
        "cargo",
        &["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"],
    ),
    step(
        "recorded requests are fresh",
        "cargo",
        &["xtask", "requests", "--check"],
    ),
    // Adds the wasm32 target first when the toolchain lacks it.
    step("build the module and bundles", "cargo", &["xtask", "dist"]),
    step(
        "Rego constants and Gatekeeper template are fresh",
        "cargo",
        &["xtask", "gatekeeper", "--check"],
    ),
    step(
        "clippy (host)",
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
    ),
    step(
        "clippy (wasm32 module)",
        "cargo",
        &[
            "clippy",
            "-p",
            "policy",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ],
    ),
    // The fuzz targets (their own workspace, fuzzed with nightly by `cargo xtask fuzz`) must keep
    // compiling against the host-tests and runner-policy APIs they call; checking them needs no nightly.
    step(
        "fuzz targets compile",
        "cargo",
        &[
            "check",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--bins",
            "--locked",
            "--target-dir",
            "target/fuzz-check",
        ],
    ),
    step(
        "JS SDK packages",
        "npm",
        &["ci", "--prefix", "host-tests/js", "--no-audit", "--no-fund"],
    ),
    step(
        "Chromium for the playground test (apt-get, when missing)",
        "bash",
        &[
            "-c",
            "command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
             (apt-get update -q && apt-get install -y -q chromium)",
        ],
    ),
    // Every test binary runs even when one fails, so that one failure hides no other.
    step(
        "tests",
        "cargo",
        &["test", "--workspace", "--all-targets", "--no-fail-fast"],
    ),
    step("doctests", "cargo", &["test", "--workspace", "--doc"]),
    step(
        "example: evaluate a review",
        "cargo",
        &[
            "run",
            "-q",
            "-p",
            "runner-policy",
            "--example",
            "evaluate_review",
        ],
    ),
    step(
        "example: custom settings",
        "cargo",
        &[
            "run",
            "-q",
            "-p",
            "runner-policy",
            "--example",
            "custom_settings",
        ],
    ),
    step(
        "recorded suite through the CLI",
        RUNNER_POLICY,
        &["test", "host-tests/requests/suite.yaml"],
    ),
    // The corpora are external: checked where they are found, skipped (and said so) elsewhere.
    step(
        "conformance with the external corpora, when present",
        RUNNER_POLICY,
        &["conformance", "--skip-missing"],
    ),
    step(
        "the sample admission log replays (the README's main command)",
        RUNNER_POLICY,
        &["replay", "host-tests/requests/sample-admission-log.jsonl"],
    ),
    step(
        "the sample audit log replays as admission requests",
        RUNNER_POLICY,
        &["replay", "host-tests/requests/sample-audit-log.jsonl"],
    ),
    step(
        "benchmark (figures, not a pass/fail gate)",
        RUNNER_POLICY,
        &["bench", "--full", "--rego", "--iterations", "30"],
    ),
];

pub fn run(args: &[&str]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("`cargo xtask test` takes no arguments, got `{arg}`");
    }
    let root = crate::project_root();
    let started = Instant::now();
    let total = STEPS.len();
    let mut failed = Vec::new();
    for (i, s) in STEPS.iter().enumerate() {
        eprintln!(
            "==> [{}/{total}] {}: {} {}",
            i + 1,
            s.name,
            s.program,
            s.args.join(" ")
        );
        let t = Instant::now();
        // A failed step does not stop the run: later steps may still pass, and a report of every
        // failure at once is worth more than the first.
        match run_in(&root, s.program, s.args) {
            Ok(()) => eprintln!("    ok in {:.1}s", t.elapsed().as_secs_f64()),
            Err(e) => {
                eprintln!("    FAILED in {:.1}s: {e:#}", t.elapsed().as_secs_f64());
                failed.push(format!("[{}/{total}] {}: {e:#}", i + 1, s.name));
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let passed = total - failed.len();
    if failed.is_empty() {
        eprintln!("==> all {total} steps passed in {secs:.0}s");
    } else {
        eprintln!("==> {} of {total} steps failed:", failed.len());
        for f in &failed {
            eprintln!("    {f}");
        }
    }
    println!("steps: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        bail!("{} of {total} steps failed (listed above)", failed.len());
    }
    Ok(())
}

fn run_in(root: &Path, program: &str, args: &[&str]) -> Result<()> {
    let (program, args) = if program == RUNNER_POLICY {
        ("cargo", [RUNNER_POLICY_CARGO_ARGS, args].concat())
    } else {
        (program, args.to_vec())
    };
    let status = Command::new(program)
        .args(&args)
        .current_dir(root)
        .status()
        .with_context(|| format!("cannot start `{program}`: is it installed and on PATH?"))?;
    if !status.success() {
        bail!("`{program} {}` exited with {status}", args.join(" "));
    }
    Ok(())
}
