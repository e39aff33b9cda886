//! The judging stage: one engine per worker; each request judged and its lines written.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use serde_json::Value;

use super::{Common, Engine, file_name};
use crate::audit::{Event, Rebuilt};
use crate::cli::Cli;
use crate::cli::eval::violation_rows;
use crate::decision::Decision;
use crate::documents::summary;
use crate::host::{HostError, Policy, Runtime, result_of};
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
    /// An AdmissionReview, found as it is or made from a manifest.
    Judge {
        review: Value,
        note: String,
        origin: Origin,
    },
    /// An audit event's request.
    Rebuilt {
        request: Box<Rebuilt>,
        note: String,
        origin: Origin,
        /// The audit event the request was rebuilt from: freeing it is left to a worker, so
        /// that the rebuilding thread, which every event passes through, does no more than it
        /// must.
        spent: Box<Event>,
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
    /// The module's input and result text, kept from one request to the next.
    pub(super) input: Vec<u8>,
    pub(super) result: Vec<u8>,
}

/// What a request's line shows of it: `(operation, kind, namespace/name, username)`.
type Summary = (String, String, String, String);

/// The module's result set, `[{"result": decision}]`, read straight into a [`Decision`].
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultOf {
    result: Decision,
}

/// The entrypoint a replay evaluates.
const ENTRYPOINT: &str = "runners/decision";

impl Worker<'_> {
    pub(super) fn judge(&mut self, job: Job) -> Result<Judged> {
        match job {
            Job::Judge {
                review,
                note,
                origin,
            } => self.judge_one(&review, &note, origin),
            Job::Rebuilt {
                request,
                note,
                origin,
                spent,
            } => {
                drop(spent);
                self.judge_rebuilt(&request, &note, origin)
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
                self.input.clear();
                serde_json::to_writer(&mut self.input, review)?;
                decide(policy, &self.input, &mut self.result)?
            }
            Judge::Rego(twin, settings) => Decision::from_value(twin.decide(review, settings)?)?,
            Judge::Cel(vap) => Decision::from_value(vap.decision(review))?,
        };
        let uid = review["request"]["uid"].clone();
        self.lines(&decision, summary(review), uid, note, origin)
    }

    /// Judges an audit event's request: the module is handed the review's text, the objects
    /// spliced in as the log held them; the other engines read it as a tree.
    fn judge_rebuilt(&mut self, request: &Rebuilt, note: &str, origin: Origin) -> Result<Judged> {
        let decision = match &mut self.engine {
            Judge::Module(policy) => {
                self.input.clear();
                request.write_review(&mut self.input);
                decide(policy, &self.input, &mut self.result)?
            }
            Judge::Rego(twin, settings) => {
                Decision::from_value(twin.decide(&request.review(), settings)?)?
            }
            Judge::Cel(vap) => Decision::from_value(vap.decision(&request.review()))?,
        };
        let uid = Value::String(request.uid.clone());
        self.lines(&decision, request.summary(), uid, note, origin)
    }

    /// The lines of a judged request: one, and unless compact one per violation of a denial.
    fn lines(
        &self,
        decision: &Decision,
        (operation, kind, target, user): Summary,
        uid: Value,
        note: &str,
        origin: Origin,
    ) -> Result<Judged> {
        let rules = decision.rules();
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
                "uid": uid,
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

/// The module's decision on `input` (an AdmissionReview's text); `result` holds the result
/// set's text after. A result set of another shape fails as [`Policy::evaluate`] and
/// [`Decision::from_value`] fail on it.
fn decide(policy: &mut Policy, input: &[u8], result: &mut Vec<u8>) -> Result<Decision> {
    let entrypoint = policy.entrypoint(ENTRYPOINT)?;
    policy.eval_raw(entrypoint, input, result)?;
    if let Ok([ResultOf { result: decision }]) = serde_json::from_slice::<[ResultOf; 1]>(result) {
        return Ok(decision);
    }
    let value = result_of(result).map_err(|e| HostError::BadResult {
        context: format!("result of `{ENTRYPOINT}`"),
        source: Box::new(e),
    })?;
    Decision::from_value(value)
}
