//! `runner-policy vap [-o FILE]`: the rules as a Kubernetes ValidatingAdmissionPolicy and its
//! Binding (one YAML stream) for the settings, which are baked in: regenerate it when they
//! change. `--cost` prints each validation's estimated cost for a pod of the given size.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{Cli, Outcome};
use crate::vap::cost::{self, Sizes};

/// Arguments of `vap`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the YAML to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print each validation's estimated cost (Kubernetes units) to standard error.
    #[arg(long)]
    pub cost: bool,
    /// For --cost: containers (all lists together).
    #[arg(long, default_value_t = Sizes::PROMISED.containers)]
    pub containers: u64,
    /// For --cost: env vars per container.
    #[arg(long, default_value_t = Sizes::PROMISED.env)]
    pub env: u64,
    /// For --cost: volume mounts per container.
    #[arg(long, default_value_t = Sizes::PROMISED.mounts)]
    pub mounts: u64,
    /// For --cost: volumes.
    #[arg(long, default_value_t = Sizes::PROMISED.volumes)]
    pub volumes: u64,
}

/// Invalid settings are an error (exit 2): a policy is never generated from them.
pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let value = crate::settings::load(cli.settings.as_deref())?;
    let settings = crate::vap::settings_from_json(&value)?;
    let vap = crate::vap::generate(&settings, crate::vap::POLICY_NAME)?;
    let yaml = vap.to_yaml()?;
    match &args.output {
        Some(path) => std::fs::write(path, &yaml)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{yaml}"),
    }
    if args.cost {
        let sizes = Sizes {
            containers: args.containers,
            env: args.env,
            mounts: args.mounts,
            volumes: args.volumes,
            ..Sizes::PROMISED
        };
        let estimate = cost::estimate(&vap, &sizes);
        eprintln!(
            "estimated cost for {} containers x {} env x {} mounts, {} volumes (limits: 1,000,000 per expression, 10,000,000 per evaluation):",
            sizes.containers, sizes.env, sizes.mounts, sizes.volumes
        );
        for (part, check, message) in &estimate.validations {
            eprintln!("  {check:>10} {message:>10}  {part}");
        }
        eprintln!(
            "  largest expression {}, one evaluation {}",
            estimate.max_expression(),
            estimate.per_evaluation()
        );
    }
    Ok(Outcome::Ok)
}
