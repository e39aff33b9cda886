//! `runner-policy settings [FILE]`: whether a settings file is valid, and what it means once
//! the defaults are filled in (the runner identities above all), read by the same Rust code
//! the module runs.

use std::path::PathBuf;

use anyhow::Result;
use policy::settings::{DindPrivilegedContainers, Settings};

use super::{Cli, Outcome};

/// Arguments of `settings`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The settings file, YAML or JSON [default: --settings, else the bundled example].
    pub file: Option<PathBuf>,
}

/// Exit 1 when the settings are invalid, with every problem listed.
pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let path = args.file.as_deref().or(cli.settings.as_deref());
    let name = crate::settings::name(path);
    match crate::settings::validate(&crate::settings::load(path)?) {
        Ok(settings) => {
            print!("{name}: valid\n{}", describe(&settings));
            Ok(Outcome::Ok)
        }
        Err(problems) => {
            print!("{}", crate::settings::report(&name, &problems));
            Ok(Outcome::Failed)
        }
    }
}

/// The effective settings, one line each.
fn describe(settings: &Settings) -> String {
    let list = |items: &[String]| {
        if items.is_empty() {
            "(none)".to_owned()
        } else {
            items.join(", ")
        }
    };
    let mut out = format!(
        "  runners namespace            {}\n",
        settings.runners_namespace
    );
    for (i, runner) in settings.runners.iter().enumerate() {
        let label = if i == 0 { "runners" } else { "" };
        let privileged = if settings.is_privileged(runner.runner_type) {
            "  privileged"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {label:28} {:7} system:serviceaccount:{}:{}{privileged}\n",
            runner.runner_type.as_str(),
            settings.runners_namespace,
            runner.service_account
        ));
    }
    let dind = match settings.dind_privileged_containers {
        DindPrivilegedContainers::All => "all",
        DindPrivilegedContainers::Services => "services",
    };
    for (label, value) in [
        ("dind privileged containers", dind.to_owned()),
        ("attic namespace", settings.attic_namespace.clone()),
        ("allowed registries", list(&settings.allowed_registries)),
        (
            "registry credential secrets",
            list(&settings.registry_credential_secrets),
        ),
        (
            "push-allowed projects",
            list(&settings.push_allowed_projects),
        ),
        ("exempt users", list(&settings.exempt_users)),
    ] {
        out.push_str(&format!("  {label:28} {value}\n"));
    }
    out
}
