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
    /// The corpora directory (`../shared/corpora` beside the project; see its README.md).
    pub dir: PathBuf,
}

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    if cli.settings.is_some() {
        bail!(
            "conformance always uses the bundled example settings (org example); --settings is \
             not supported"
        );
    }
    let report = crate::conformance::run(&cli.module_path(), &args.dir)?;
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
