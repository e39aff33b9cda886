//! The `runner-policy` command line: one module per subcommand.
//!
//! Exit codes: 0 ok; 1 a denial (`eval`, `check`, `replay --fail-on-deny`), a mismatch (`test`)
//! or invalid settings (`settings`);
//! 2 a usage or I/O error, input that is not what the command judges, or invalid settings given
//! to any other command.

mod bench;
mod check;
mod conformance;
mod eval;
mod replay;
mod settings;
mod test;
mod vap;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::host::{Policy, Runtime, default_module_path};

/// Evaluate, test, replay and benchmark the runner-policy wasm module (OPA Wasm ABI).
#[derive(Debug, Parser)]
#[command(name = "runner-policy", version)]
pub struct Cli {
    /// The policy module [default: $RUNNER_POLICY_MODULE, else bundles/dist/policy.wasm in the
    /// current directory or the workspace root].
    #[arg(long, global = true, value_name = "PATH")]
    pub module: Option<PathBuf>,
    /// Settings (the data document), YAML or JSON, checked before anything is judged: invalid
    /// settings stop the command (exit 2) with the report of `runner-policy settings`
    /// [default: the bundled bundles/settings.example.yaml].
    #[arg(long, global = true, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the decision for one request file (any dialect). Exits 1 when it is denied.
    Eval(eval::Args),
    /// Run a suite of golden cases. Exits 1 on any mismatch.
    Test(test::Args),
    /// Evaluate every AdmissionReview and audit event found in files and directories (JSON,
    /// YAML, JSON lines, gzipped or not).
    Replay(replay::Args),
    /// Judge manifests as the CREATE requests that would apply them. Exits 1 on any denial.
    /// AdmissionReviews and audit events are refused (they name their own requester: `replay`).
    Check(check::Args),
    /// Time the module on recorded requests through `opa_eval`.
    Bench(bench::Args),
    /// Check a settings file: every problem, or the effective settings. Exits 1 when invalid.
    Settings(settings::Args),
    /// Check agreement with the Pod Security Admission and gatekeeper-library corpora in DIR.
    /// Exits 1 on any disagreement not documented as deliberate.
    Conformance(conformance::Args),
    /// Write the rules as a Kubernetes ValidatingAdmissionPolicy and its Binding (YAML) for the
    /// settings, which it bakes in.
    Vap(vap::Args),
}

/// What a command concluded, mapped to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 1: a denial or a mismatch, as the command documents.
    Failed,
}

/// Parses the command line and runs it; the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match run(&cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// Usage and I/O errors (exit code 2).
pub fn run(cli: &Cli) -> Result<Outcome> {
    match &cli.command {
        Command::Eval(args) => eval::run(cli, args),
        Command::Test(args) => test::run(cli, args),
        Command::Replay(args) => replay::run(cli, args),
        Command::Check(args) => check::run(cli, args),
        Command::Bench(args) => bench::run(cli, args),
        Command::Conformance(args) => conformance::run(cli, args),
        Command::Settings(args) => settings::run(cli, args),
        Command::Vap(args) => vap::run(cli, args),
    }
}

impl Cli {
    /// The module path, given or default.
    pub fn module_path(&self) -> PathBuf {
        self.module.clone().unwrap_or_else(default_module_path)
    }

    /// Loads the module and instantiates it with `settings` (or `--settings`, or the bundled
    /// example).
    ///
    /// # Errors
    /// When the module or the settings cannot be loaded.
    pub fn policy(&self, settings: Option<&Path>) -> Result<(Runtime, Policy)> {
        let (settings, _) = self.valid_settings(settings)?;
        let runtime = Runtime::load(&self.module_path())?;
        let policy = runtime.instantiate(&settings)?;
        Ok((runtime, policy))
    }

    /// The settings at `settings` (or `--settings`, or the bundled example), validated: a
    /// command never judges anything with invalid settings, it stops with their report.
    ///
    /// # Errors
    /// When the settings cannot be read or are invalid.
    pub fn valid_settings(
        &self,
        settings: Option<&Path>,
    ) -> Result<(serde_json::Value, policy::settings::Settings)> {
        crate::settings::load_valid(settings.or(self.settings.as_deref()))
    }
}

/// `1 file`, `2 files`.
pub(crate) fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The input document of a request file: JSON files are passed as they are (so malformed
/// files reach the module, which must deny them); YAML files are converted to JSON.
///
/// # Errors
/// When the file cannot be read, or a `.yaml`/`.yml` file is not YAML.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_yaml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if !is_yaml {
        return Ok(bytes);
    }
    let value: serde_json::Value = serde_yaml::from_slice(&bytes)
        .with_context(|| format!("{} is not valid YAML", path.display()))?;
    Ok(serde_json::to_vec(&value)?)
}
