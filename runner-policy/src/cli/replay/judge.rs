//! The judging stage: one engine per worker; each request judged and its lines written.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use serde_json::Value;

use super::{Common, Engine, file_name};
use crate::audit::Event;
use crate::cli::Cli;
use crate::cli::eval::violation_rows;
use crate::decision::Decision;
use crate::documents::summary;
use crate::host::{Policy, Runtime};
use crate::junit::{self, Failure};
use crate::rego::RegoPolicy;

/// The engine one worker judges with.
pub(super) enum Judge {
    Module(Box<Policy>),
    Rego(Box<RegoPolicy>, Arc<Value>),
    Cel(Arc<crate::vap::Engine>),
}

/// One engine per worker: a module instance each (an instance runs one evaluation at a time).
pub(super) fn engines(
    cli: &Cli,
    args: &Common,
    settings: &Value,
    jobs: usize,
) -> Result<Vec<Judge>> {
    Ok(match args.engine {
        Engine::Module => {
            let runtime = Runtime::load(&cli.module_path())?;
            (0..jobs)
                .map(|_| Ok(Judge::Module(Box::new(runtime.instantiate(settings)?))))
                .collect::<Result<_>>()?
        }
        Engine::Rego => {
            let twin = RegoPolicy::from_template(
                &args
                    .template
                    .clone()
                    .unwrap_or_else(RegoPolicy::default_template_path),
            )?;
            let settings = Arc::new(settings.clone());
            (0..jobs)
                .map(|_| Judge::Rego(Box::new(twin.clone()), Arc::clone(&settings)))
                .collect()
        }
        Engine::Cel => {
            let vap = Arc::new(crate::vap::Engine::from_settings(settings)?);
            (0..jobs).map(|_| Judge::Cel(Arc::clone(&vap))).collect()
        }
    })
}

/// What a replay prints for each request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Format {
    pub(super) denials_only: bool,
    pub(super) compact: bool,
    pub(super) json: bool,
    /// Whether a JUnit test case is made for each request.
    pub(super) junit: bool,
}

/// A request to judge, or the error the replay stops at.
pub(super) enum Job {
    Judge {
        review: Value,
        note: String,
        origin: Origin,
        /// The audit event the request was rebuilt from: freeing its trees is a large part of
        /// the rebuilding thread's work, so a worker does it.
        spent: Option<Box<Event>>,
    },
    Stop(anyhow::Error),
}

/// Where a judged request came from.
#[derive(Clone, Copy)]
pub(super) struct Origin {
    /// An index into the files.
    pub(super) file: usize,
    /// The document's number in its file, from 1.
    pub(super) document: usize,
    /// Whether it is a manifest judged as a CREATE (else a request found as it was).
    pub(super) object: bool,
}

/// A request judged: its lines, and what the summary and the JUnit report count of it.
pub(super) struct Judged {
    pub(super) text: String,
    pub(super) allowed: bool,
    pub(super) rules: BTreeSet<String>,
    pub(super) user: String,
    pub(super) case: Option<junit::Case>,
}

/// A judging thread: its engine, and what to print.
pub(super) struct Worker<'a> {
    pub(super) engine: Judge,
    pub(super) format: Format,
    pub(super) files: &'a [PathBuf],
}

impl Worker<'_> {
    pub(super) fn judge(&mut self, job: Job) -> Result<Judged> {
        match job {
            Job::Judge {
                review,
                note,
                origin,
                spent,
            } => {
                drop(spent);
                self.judge_one(&review, &note, origin)
            }
            Job::Stop(e) => Err(e),
        }
    }

    /// Judges one AdmissionReview and writes its line (and, unless compact, one line per
    /// violation of a denial).
    pub(super) fn judge_one(
        &mut self,
        review: &Value,
        note: &str,
        origin: Origin,
    ) -> Result<Judged> {
        let decision = match &mut self.engine {
            Judge::Module(policy) => {
                policy.evaluate("runners/decision", &serde_json::to_vec(review)?)?
            }
            Judge::Rego(twin, settings) => twin.decide(review, settings)?,
            Judge::Cel(vap) => vap.decision(review),
        };
        let decision = Decision::from_value(decision)?;
        let rules = decision.rules();
        let (operation, kind, target, user) = summary(review);
        let format = self.format;
        let file = &self.files[origin.file];
        let mut text = String::new();
        if format.denials_only && decision.allowed {
        } else if format.json {
            let record = serde_json::json!({
                "verdict": decision.verdict(),
                "operation": operation,
                "kind": kind,
                "target": target,
                "user": user,
                "uid": review["request"]["uid"],
                "note": Some(note.trim()).filter(|n| !n.is_empty()),
                "violations": decision.violations,
            });
            let _ = writeln!(text, "{record}");
        } else {
            let rules_text = rules.iter().cloned().collect::<Vec<_>>().join(",");
            let _ = writeln!(
                text,
                "{:5}  {operation:7}  {kind:22}  {target:40}  {user}  {rules_text}{note}",
                decision.verdict()
            );
            if !format.compact && !decision.allowed {
                if origin.object {
                    let _ = writeln!(
                        text,
                        "       {}, document {}",
                        file_name(file),
                        origin.document
                    );
                }
                text.push_str(&violation_rows(&decision.violations, "       "));
            }
        }
        let case = format.junit.then(|| junit::Case {
            classname: file_name(file),
            name: if origin.object {
                format!("{kind} {target}")
            } else {
                format!("{operation} {kind} {target} by {user} {}", note.trim())
                    .trim_end()
                    .to_owned()
            },
            failure: (!decision.allowed).then(|| Failure {
                message: format!(
                    "denied: {}",
                    rules.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                text: violation_rows(&decision.violations, ""),
            }),
        });
        Ok(Judged {
            text,
            allowed: decision.allowed,
            rules,
            user,
            case,
        })
    }
}
