//! `runner-policy conformance DIR`: agreement with the Pod Security Admission fixtures and the
//! gatekeeper-library samples in a corpora directory (see [`crate::conformance`]).

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::{Cli, Outcome};

/// Arguments of `conformance`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print machine-readable rows (JSON) instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// When no corpora directory is given or found, say so and exit 0 instead of failing.
    #[arg(long)]
    pub skip_missing: bool,
    /// The corpora directory [default: $RUNNER_POLICY_CORPORA, else the corpora beside the
    /// checkout when present].
    pub dir: Option<PathBuf>,
}

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    if cli.settings.is_some() {
        bail!(
            "conformance always uses the bundled example settings (org example); --settings is \
             not supported"
        );
    }
    let found = match &args.dir {
        Some(dir) => Some(dir.clone()),
        None => crate::conformance::find_corpora()?,
    };
    let Some(dir) = found else {
        if args.skip_missing {
            println!("conformance {}", crate::conformance::skipped_message());
            return Ok(Outcome::Ok);
        }
        bail!(
            "no corpora directory: give one as DIR or set ${}",
            crate::conformance::CORPORA_ENV
        );
    };
    let report = crate::conformance::run(&cli.module_path(), &dir)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.render());
    }
    Ok(if report.disagreements().next().is_some() {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}
