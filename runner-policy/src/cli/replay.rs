//! `runner-policy replay PATH...`: every AdmissionReview and audit event found in files and
//! directories. `runner-policy check` (`super::check`) judges manifests with the same engine.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use super::eval::violation_rows;
use super::{Cli, Outcome, counted};
use crate::audit::{AuditLog, Event, Note};
use crate::decision::Decision;
use crate::documents::{Found, STDIN, Stop, for_each_document, requests, summary, walk};
use crate::host::{Policy, Runtime};
use crate::junit::{self, Failure};
use crate::manifest::{Requester, create_review};
use crate::rego::RegoPolicy;

/// The engine a replay evaluates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The wasm module (`--module`).
    Module,
    /// The Rego twin embedded in the Gatekeeper ConstraintTemplate, through regorus: what
    /// Gatekeeper runs (`runner` is not reported).
    Rego,
    /// The ValidatingAdmissionPolicy generated for the settings (`runner-policy vap`), through
    /// kube-rs's CEL: what the API server runs (the first failing validation only).
    Cel,
}

/// What `replay` and `check` share: the engine, the output and the inputs.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The engine.
    #[arg(long, value_enum, default_value_t = Engine::Module)]
    pub engine: Engine,
    /// With `--engine rego`: the ConstraintTemplate [default: bundles/gatekeeper/template.yaml].
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,
    /// Print only the denied requests' lines (the summary still counts every request).
    #[arg(long)]
    pub denials_only: bool,
    /// One line per request, with the rule names only: the denials' paths, containers and
    /// messages are left out.
    #[arg(long)]
    pub compact: bool,
    /// Print one JSON object per request (verdict, operation, kind, target, user, uid, note,
    /// violations) instead of a line of text; the summary goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// Also write a JUnit XML report to FILE (GitLab: `artifacts:reports:junit`): a test case
    /// per judged object or request, failed when it was denied.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Files and directories (walked recursively) of JSON, multi-document YAML or JSON lines,
    /// gzipped or not; `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Exit 1 when any request was denied.
    #[arg(long)]
    pub fail_on_deny: bool,
    #[command(flatten)]
    pub common: Common,
}

/// How plain Kubernetes objects are judged: as CREATEs by `requester`, or not at all.
pub(super) struct Objects {
    pub requester: Requester,
    pub namespace: Option<String>,
}

/// Progress is reported on stderr every this many requests.
const PROGRESS_EVERY: usize = 1000;

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    judge_all(cli, &args.common, None, args.fail_on_deny)
}

/// Judges every request (and, with `objects`, every plain object) found under the paths of
/// `args`, printing a line each and a summary; `Failed` on a denial when `fail_on_deny`.
pub(super) fn judge_all(
    cli: &Cli,
    args: &Common,
    objects: Option<Objects>,
    fail_on_deny: bool,
) -> Result<Outcome> {
    // Invalid settings stop everything before anything is judged.
    let (settings, valid) = cli.valid_settings(None)?;
    let engine = match args.engine {
        Engine::Module => Judge::Module(Box::new(
            Runtime::load(&cli.module_path())?.instantiate(&settings)?,
        )),
        Engine::Rego => Judge::Rego(
            Box::new(RegoPolicy::from_template(
                &args
                    .template
                    .clone()
                    .unwrap_or_else(RegoPolicy::default_template_path),
            )?),
            settings,
        ),
        Engine::Cel => Judge::Cel(Box::new(crate::vap::Engine::from_settings(&settings)?)),
    };
    let files = walk(&args.paths)?;
    let name = if objects.is_some() {
        "runner-policy check"
    } else {
        "runner-policy replay"
    };
    let mut replay = Replay {
        engine,
        denials_only: args.denials_only,
        compact: args.compact,
        json: args.json,
        total: 0,
        denied: 0,
        by_rule: BTreeMap::new(),
        audit: AuditTally::default(),
        objects,
        objects_seen: 0,
        runners_namespace: valid.runners_namespace,
        in_runners_namespace: 0,
        junit: args.junit.as_ref().map(|_| junit::Report::new(name)),
    };
    let (mut unreadable, mut bad_lines) = (0usize, 0usize);
    for file in &files {
        let bad_line = |e: anyhow::Error| {
            bad_lines += 1;
            eprintln!("warning: skipping {e:#}");
        };
        let mut index = 0;
        let each = |doc| {
            index += 1;
            replay.document(doc, file, index)
        };
        match for_each_document(file, each, bad_line) {
            Ok(()) => {}
            Err(Stop::Read(e)) => {
                unreadable += 1;
                eprintln!(
                    "warning: skipping {} (from the fault on): {e:#}",
                    file.display()
                );
            }
            Err(Stop::Callback(e)) => return Err(e),
        }
    }
    let Replay {
        total,
        denied,
        by_rule,
        audit,
        objects,
        objects_seen,
        runners_namespace,
        in_runners_namespace,
        junit,
        ..
    } = replay;
    if let (Some(path), Some(report)) = (&args.junit, &junit) {
        report.write(path)?;
    }
    let mut summary = format!(
        "\n{} in {}: {} allowed, {denied} denied\n",
        counted(total, "request"),
        counted(files.len(), "file"),
        total - denied
    );
    for (rule, tally) in &by_rule {
        let _ = writeln!(
            summary,
            "  {:7}  {rule}  ({})",
            tally.count,
            tally.top_users()
        );
    }
    audit.report(&mut summary);
    if objects.is_none() && objects_seen > 0 {
        let _ = writeln!(
            summary,
            "\n{} not judged: `runner-policy check --as USER` judges manifests as the CREATEs that apply them",
            match objects_seen {
                1 => "1 Kubernetes object that is not a request was".to_owned(),
                n => format!("{n} Kubernetes objects that are not requests were"),
            }
        );
    }
    // With --json, stdout holds the records only.
    if args.json {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    // A gate that judged nothing must not pass: a failed `helm template`, a wrong path.
    if total == 0 && audit.events == 0 && unreadable == 0 && bad_lines == 0 {
        if objects.is_some() {
            anyhow::bail!(
                "nothing to check: no Kubernetes objects found (an object needs apiVersion, kind and metadata)"
            );
        }
        anyhow::bail!("nothing to replay: no AdmissionReviews or audit events found");
    }
    // Most rules guard the runners namespace: a gate whose objects all landed elsewhere
    // (`helm template` output without `-n`) passes them without having checked much.
    if objects.is_some() && objects_seen > 0 && in_runners_namespace == 0 {
        eprintln!(
            "warning: none of the {} landed in the runners namespace `{runners_namespace}`, \
             where most rules apply; namespaced objects that name no namespace were put in \
             `default`: give the namespace they are applied to with `-n {runners_namespace}`",
            counted(objects_seen, "object")
        );
    }
    if unreadable > 0 || bad_lines > 0 {
        let what = [(unreadable, "file"), (bad_lines, "line")]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, noun)| counted(n, noun))
            .collect::<Vec<_>>()
            .join(" and ");
        anyhow::bail!(
            "{what} could not be read or parsed (see the warnings above); everything else was judged"
        );
    }
    Ok(if fail_on_deny && denied > 0 {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}

/// What the user calls `file`.
fn file_name(file: &Path) -> String {
    if file.as_os_str() == STDIN {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    }
}

/// The engine a replay judges with.
enum Judge {
    Module(Box<Policy>),
    Rego(Box<RegoPolicy>, Value),
    Cel(Box<crate::vap::Engine>),
}

/// A replay under way: the engine and the tallies.
struct Replay {
    engine: Judge,
    denials_only: bool,
    compact: bool,
    json: bool,
    total: usize,
    denied: usize,
    by_rule: BTreeMap<String, RuleTally>,
    audit: AuditTally,
    objects: Option<Objects>,
    /// Plain objects found (judged only with `objects`).
    objects_seen: usize,
    runners_namespace: String,
    /// Plain objects judged in the runners namespace.
    in_runners_namespace: usize,
    junit: Option<junit::Report>,
}

/// Where a judged request came from.
struct Origin<'a> {
    file: &'a Path,
    /// The document's number in its file, from 1.
    document: usize,
    /// Whether it is a manifest judged as a CREATE (else a request found as it was).
    object: bool,
}

impl Replay {
    /// Judges every request found in document `document` (from 1) of `file`.
    fn document(&mut self, doc: Value, file: &Path, document: usize) -> Result<()> {
        let mut found = Vec::new();
        requests(doc, &mut found);
        let origin = |object| Origin {
            file,
            document,
            object,
        };
        for item in found {
            if let (Some(_), Found::Review(_) | Found::Audit(_)) = (&self.objects, &item) {
                // A request names its own requester: judged under `--as` it would pass or fail
                // for an identity nobody chose. Refusing keeps the gate's verdict about USER.
                anyhow::bail!(
                    "{}, document {document}: {} names its own requester, so `check --as` \
                     cannot judge it; `runner-policy replay` judges AdmissionReviews and audit \
                     events as the identity they name",
                    file_name(file),
                    if matches!(item, Found::Review(_)) {
                        "an AdmissionReview"
                    } else {
                        "an audit event"
                    }
                );
            }
            match item {
                Found::Review(review) => self.judge(&review, "", &origin(false))?,
                Found::Audit(value) => {
                    if let Some((review, note)) = self.audit.rebuild(value, file) {
                        self.judge(&review, &note, &origin(false))?;
                    }
                }
                Found::Object(object) => {
                    self.objects_seen += 1;
                    if let Some(objects) = &self.objects {
                        let uid = format!("{}#{}", file.display(), self.objects_seen);
                        let review = create_review(
                            object,
                            &objects.requester,
                            objects.namespace.as_deref(),
                            &uid,
                        );
                        if review["request"]["namespace"] == self.runners_namespace.as_str() {
                            self.in_runners_namespace += 1;
                        }
                        self.judge(&review, "", &origin(true))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Judges one AdmissionReview and prints its line (and, unless compact, one line per
    /// violation of a denial).
    fn judge(&mut self, review: &Value, note: &str, origin: &Origin<'_>) -> Result<()> {
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
        if self.denials_only && decision.allowed {
        } else if self.json {
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
            println!("{record}");
        } else {
            let rules_text = rules.iter().cloned().collect::<Vec<_>>().join(",");
            println!(
                "{:5}  {operation:7}  {kind:22}  {target:40}  {user}  {rules_text}{note}",
                decision.verdict()
            );
            if !self.compact && !decision.allowed {
                if origin.object {
                    println!(
                        "       {}, document {}",
                        file_name(origin.file),
                        origin.document
                    );
                }
                print!("{}", violation_rows(&decision.violations, "       "));
            }
        }
        if let Some(report) = &mut self.junit {
            report.cases.push(junit::Case {
                classname: file_name(origin.file),
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
        }
        self.total += 1;
        if !decision.allowed {
            self.denied += 1;
            for rule in rules {
                let tally = self.by_rule.entry(rule).or_default();
                tally.count += 1;
                *tally.users.entry(user.clone()).or_default() += 1;
            }
        }
        if self.total.is_multiple_of(PROGRESS_EVERY) {
            eprintln!("... {} requests, {} denied", self.total, self.denied);
        }
        Ok(())
    }
}

/// The denials of one rule, and whose requests they were: a rollout's first question is
/// whether one identity accounts for most of them.
#[derive(Default)]
struct RuleTally {
    count: usize,
    users: BTreeMap<String, usize>,
}

impl RuleTally {
    /// The three identities denied most often, with their counts, and how many others.
    fn top_users(&self) -> String {
        const SHOWN: usize = 3;
        let mut users: Vec<(&String, &usize)> = self.users.iter().collect();
        users.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut text = users
            .iter()
            .take(SHOWN)
            .map(|(user, n)| format!("{} {n}", if user.is_empty() { "(no user)" } else { user }))
            .collect::<Vec<_>>()
            .join(", ");
        match users.len().saturating_sub(SHOWN) {
            0 => {}
            1 => text.push_str(", 1 more identity"),
            more => text.push_str(&format!(", {more} more identities")),
        }
        text
    }
}

/// What became of the audit events of a replay.
#[derive(Default)]
struct AuditTally {
    log: AuditLog,
    events: usize,
    unreadable: usize,
    notes: BTreeMap<Note, usize>,
}

impl AuditTally {
    /// The admission request an audit event was, with the note its line carries; `None` when
    /// it is not replayed (counted) or cannot be read (warned about).
    fn rebuild(&mut self, value: Value, file: &Path) -> Option<(Value, String)> {
        self.events += 1;
        let event: Event = match serde_json::from_value(value) {
            Ok(event) => event,
            Err(e) => {
                self.unreadable += 1;
                eprintln!(
                    "warning: {}: an audit event cannot be read: {e}",
                    file.display()
                );
                return None;
            }
        };
        let replayed = self.log.replay(&event).ok()?;
        let note = match replayed.note {
            Some(note) => {
                *self.notes.entry(note).or_default() += 1;
                format!("  {}", note.text())
            }
            None => String::new(),
        };
        Some((replayed.review, note))
    }

    /// Adds what became of the audit events to `out`.
    fn report(&self, out: &mut String) {
        if self.events == 0 {
            return;
        }
        let skipped: usize = self.log.skipped.values().sum();
        let _ = writeln!(
            out,
            "\naudit events: {} read, {} replayed as admission requests, {skipped} skipped, {} unreadable",
            self.events,
            self.events - skipped - self.unreadable,
            self.unreadable
        );
        for (skip, count) in &self.log.skipped {
            let _ = writeln!(out, "  {count:7}  {}", skip.reason());
        }
        for (note, count) in &self.notes {
            let _ = writeln!(out, "  {count} {}", note.summary());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RuleTally;

    #[test]
    fn a_rules_tally_names_the_identities_denied_most() {
        let cases: [(&[(&str, usize)], &str); 4] = [
            (&[("a", 1)], "a 1"),
            (&[("a", 1), ("b", 3), ("", 2)], "b 3, (no user) 2, a 1"),
            (
                &[("a", 1), ("b", 1), ("c", 1), ("d", 1)],
                "a 1, b 1, c 1, 1 more identity",
            ),
            (
                &[("a", 5), ("b", 1), ("c", 1), ("d", 1), ("e", 9)],
                "e 9, a 5, b 1, 2 more identities",
            ),
        ];
        for (users, want) in cases {
            let tally = RuleTally {
                count: users.iter().map(|(_, n)| n).sum(),
                users: users.iter().map(|(u, n)| ((*u).to_owned(), *n)).collect(),
            };
            assert_eq!(tally.top_users(), want);
        }
    }
}
