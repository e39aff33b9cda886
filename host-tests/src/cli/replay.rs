//! `runner-policy replay PATH...`: every AdmissionReview and audit event found in files and
//! directories.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;

use super::{Cli, Outcome};
use crate::audit::{AuditLog, Event};
use crate::decision::Decision;
use crate::documents::{Found, read_documents, requests, summary, walk};
use crate::rego::RegoPolicy;

/// The engine a replay evaluates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The wasm module (`--module`).
    Module,
    /// The Rego twin embedded in the Gatekeeper ConstraintTemplate, through regorus: what
    /// Gatekeeper runs (`runner` is not reported).
    Rego,
}

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The engine.
    #[arg(long, value_enum, default_value_t = Engine::Module)]
    pub engine: Engine,
    /// With `--engine rego`: the ConstraintTemplate [default: bundles/gatekeeper/template.yaml].
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,
    /// Exit 1 when any request was denied.
    #[arg(long)]
    pub fail_on_deny: bool,
    /// Files and directories (walked recursively) of JSON, multi-document YAML or JSON lines
    /// holding AdmissionReviews or Kubernetes audit events (a cluster's audit log).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Progress is reported on stderr every this many requests.
const PROGRESS_EVERY: usize = 1000;

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let settings = crate::settings::load(cli.settings.as_deref())?;
    let mut module = match args.engine {
        Engine::Module => Some(cli.policy(None)?),
        Engine::Rego => None,
    };
    let mut twin = match args.engine {
        Engine::Rego => Some(RegoPolicy::from_template(
            &args
                .template
                .clone()
                .unwrap_or_else(RegoPolicy::default_template_path),
        )?),
        Engine::Module => None,
    };
    let files = walk(&args.paths)?;
    let (mut total, mut denied, mut unreadable) = (0usize, 0usize, 0usize);
    let mut audit = AuditTally::default();
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let docs = match read_documents(file) {
            Ok(docs) => docs,
            Err(e) => {
                unreadable += 1;
                eprintln!("warning: skipping {}: {e:#}", file.display());
                continue;
            }
        };
        let mut found = Vec::new();
        docs.into_iter().for_each(|doc| requests(doc, &mut found));
        for item in found {
            let (review, note) = match item {
                Found::Review(review) => (review, ""),
                Found::Audit(value) => {
                    audit.events += 1;
                    let event: Event = match serde_json::from_value(value) {
                        Ok(event) => event,
                        Err(e) => {
                            audit.unreadable += 1;
                            eprintln!(
                                "warning: {}: an audit event cannot be read: {e}",
                                file.display()
                            );
                            continue;
                        }
                    };
                    match audit.log.replay(&event) {
                        Ok(replayed) if replayed.without_old => {
                            audit.without_old += 1;
                            (replayed.review, "  (previous state not in the log)")
                        }
                        Ok(replayed) => (replayed.review, ""),
                        Err(_) => continue,
                    }
                }
            };
            let decision = match (&mut module, &mut twin) {
                (Some((_, policy)), _) => {
                    policy.evaluate("runners/decision", &serde_json::to_vec(&review)?)?
                }
                (None, Some(twin)) => twin.decide(&review, &settings)?,
                (None, None) => anyhow::bail!("no engine"),
            };
            let decision = Decision::from_value(decision)?;
            let rules = decision.rules();
            let (operation, kind, target, user) = summary(&review);
            let rules_text = rules.iter().cloned().collect::<Vec<_>>().join(",");
            println!(
                "{:5}  {operation:7}  {kind:22}  {target:40}  {user}  {rules_text}{note}",
                decision.verdict()
            );
            total += 1;
            if !decision.allowed {
                denied += 1;
                for rule in rules {
                    *by_rule.entry(rule).or_default() += 1;
                }
            }
            if total % PROGRESS_EVERY == 0 {
                eprintln!("... {total} requests, {denied} denied");
            }
        }
    }
    println!(
        "\n{total} requests in {} files: {} allowed, {denied} denied",
        files.len(),
        total - denied
    );
    for (rule, count) in &by_rule {
        println!("  {count:7}  {rule}");
    }
    audit.report();
    if unreadable > 0 {
        anyhow::bail!("{unreadable} files could not be read or parsed (see the warnings above)");
    }
    Ok(if args.fail_on_deny && denied > 0 {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}

/// What became of the audit events of a replay.
#[derive(Default)]
struct AuditTally {
    log: AuditLog,
    events: usize,
    unreadable: usize,
    without_old: usize,
}

impl AuditTally {
    fn report(&self) {
        if self.events == 0 {
            return;
        }
        let skipped: usize = self.log.skipped.values().sum();
        println!(
            "\naudit events: {} read, {} replayed as admission requests, {skipped} skipped, {} unreadable",
            self.events,
            self.events - skipped - self.unreadable,
            self.unreadable
        );
        for (skip, count) in &self.log.skipped {
            println!("  {count:7}  {}", skip.reason());
        }
        if self.without_old > 0 {
            println!(
                "  {} UPDATEs were judged as if their spec changed: the log does not show the object's previous state",
                self.without_old
            );
        }
    }
}
