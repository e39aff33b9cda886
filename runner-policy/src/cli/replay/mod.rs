//! `runner-policy replay PATH...`: every AdmissionReview and audit event found in files and
//! directories. `runner-policy check` (`super::check`) judges manifests with the same engine.

mod ordered;
mod progress;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::BufWriter;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::Result;
use serde_json::Value;

use super::eval::violation_rows;
use super::{Cli, Outcome, counted};
use crate::audit::{AuditLog, Event, Note};
use crate::decision::Decision;
use crate::documents::{
    self, Item, STDIN, Stop, for_each_item, parse_line, requests, summary, walk,
};
use crate::host::{Policy, Runtime};
use crate::junit::{self, Failure};
use crate::manifest::{Requester, create_review};
use crate::rego::RegoPolicy;
use progress::{Counts, Progress};

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
    /// Judge on N threads, one engine each [default: the number of cores]; the output is the
    /// same, in the same order, whatever N.
    #[arg(long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Progress on standard error: a bar with the rate and the time left when it is a
    /// terminal, a plain line every ten seconds otherwise.
    #[arg(long, value_enum, default_value_t = progress::Mode::Auto)]
    pub progress: progress::Mode,
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

/// Items waiting in each worker's queue, and results in its output: enough to keep every
/// worker busy, few enough that memory stays flat.
const QUEUE_DEPTH: usize = 16;

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    judge_all(cli, &args.common, None, args.fail_on_deny)
}

/// Judges every request (and, with `objects`, every plain object) found under the paths of
/// `args`, printing a line each and a summary; `Failed` on a denial when `fail_on_deny`.
///
/// Four stages, each in log order: one thread reads the files, workers parse the lines, one
/// thread rebuilds the requests (an audit event's request depends on the events before it),
/// and workers judge them, one engine each; this thread prints the lines in order.
pub(super) fn judge_all(
    cli: &Cli,
    args: &Common,
    objects: Option<Objects>,
    fail_on_deny: bool,
) -> Result<Outcome> {
    // Invalid settings stop everything before anything is judged.
    let (settings, valid) = cli.valid_settings(None)?;
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        NonZeroUsize::get,
    );
    let engines = engines(cli, args, &settings, jobs)?;
    let files = walk(&args.paths)?;
    let name = if objects.is_some() {
        "runner-policy check"
    } else {
        "runner-policy replay"
    };
    let format = Format {
        denials_only: args.denials_only,
        compact: args.compact,
        json: args.json,
        junit: args.junit.is_some(),
    };
    // A bar shows how much of the input is read, when its size is known.
    let total_bytes = files
        .iter()
        .map(|f| {
            (f.as_os_str() != STDIN && !f.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")))
                .then(|| std::fs::metadata(f).ok().map(|m| m.len()))
                .flatten()
        })
        .sum::<Option<u64>>();
    let bytes_read = AtomicU64::new(0);
    let events = AtomicUsize::new(0);
    let stdout = std::io::stdout().lock();
    let mut progress = Progress::new(
        args.progress,
        BufWriter::with_capacity(64 * 1024, stdout),
        total_bytes,
    );
    let mut tally = Tally {
        total: 0,
        denied: 0,
        by_rule: BTreeMap::new(),
        junit: args.junit.as_ref().map(|_| junit::Report::new(name)),
    };
    let rebuilt = std::thread::scope(|scope| -> Result<Rebuilder> {
        let (mut lines, parsed) = ordered::spawn(
            scope,
            vec![|input: Input| input.parse(&files); jobs],
            QUEUE_DEPTH,
        );
        let workers = engines
            .into_iter()
            .map(|engine| {
                let mut worker = Worker {
                    engine,
                    format,
                    files: &files,
                };
                move |job: Job| worker.judge(job)
            })
            .collect();
        let (mut requests, results) = ordered::spawn(scope, workers, QUEUE_DEPTH);
        let (files, bytes_read, events) = (&files, &bytes_read, &events);
        scope.spawn(move || read(files, &mut lines, bytes_read));
        let rebuilder = scope.spawn(move || {
            let mut rebuilder = Rebuilder {
                audit: AuditTally::default(),
                objects,
                objects_seen: 0,
                runners_namespace: valid.runners_namespace,
                in_runners_namespace: 0,
                unreadable: 0,
                bad_lines: 0,
                file: usize::MAX,
                document: 0,
            };
            for item in parsed {
                events.fetch_add(1, Ordering::Relaxed);
                if !rebuilder.rebuild(item, files, &mut requests) {
                    break;
                }
            }
            rebuilder
        });
        for result in results {
            let judged = match result {
                Ok(judged) => judged,
                Err(e) => {
                    progress.finish()?;
                    return Err(e);
                }
            };
            progress.print(&judged.text)?;
            tally.add(judged);
            progress.tick(Counts {
                events: events.load(Ordering::Relaxed),
                requests: tally.total,
                denied: tally.denied,
                bytes: bytes_read.load(Ordering::Relaxed),
            })?;
        }
        rebuilder
            .join()
            .map_err(|_| anyhow::anyhow!("the replay's rebuilding thread panicked"))
    })?;
    progress.finish()?;
    drop(progress);
    let Rebuilder {
        audit,
        objects,
        objects_seen,
        runners_namespace,
        in_runners_namespace,
        unreadable,
        bad_lines,
        ..
    } = rebuilt;
    let Tally {
        total,
        denied,
        by_rule,
        junit,
    } = tally;
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

/// The engine one worker judges with.
enum Judge {
    Module(Box<Policy>),
    Rego(Box<RegoPolicy>, Arc<Value>),
    Cel(Arc<crate::vap::Engine>),
}

/// One engine per worker: a module instance each (an instance runs one evaluation at a time).
fn engines(cli: &Cli, args: &Common, settings: &Value, jobs: usize) -> Result<Vec<Judge>> {
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
struct Format {
    denials_only: bool,
    compact: bool,
    json: bool,
    /// Whether a JUnit test case is made for each request.
    junit: bool,
}

/// A request to judge, or the error the replay stops at.
enum Job {
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
struct Origin {
    /// An index into the files.
    file: usize,
    /// The document's number in its file, from 1.
    document: usize,
    /// Whether it is a manifest judged as a CREATE (else a request found as it was).
    object: bool,
}

/// A request judged: its lines, and what the summary and the JUnit report count of it.
struct Judged {
    text: String,
    allowed: bool,
    rules: BTreeSet<String>,
    user: String,
    case: Option<junit::Case>,
}

/// A judging thread: its engine, and what to print.
struct Worker<'a> {
    engine: Judge,
    format: Format,
    files: &'a [PathBuf],
}

impl Worker<'_> {
    fn judge(&mut self, job: Job) -> Result<Judged> {
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
    fn judge_one(&mut self, review: &Value, note: &str, origin: Origin) -> Result<Judged> {
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

/// What the summary counts of the judged requests.
struct Tally {
    total: usize,
    denied: usize,
    by_rule: BTreeMap<String, RuleTally>,
    junit: Option<junit::Report>,
}

impl Tally {
    fn add(&mut self, judged: Judged) {
        if let (Some(report), Some(case)) = (&mut self.junit, judged.case) {
            report.cases.push(case);
        }
        self.total += 1;
        if !judged.allowed {
            self.denied += 1;
            for rule in judged.rules {
                let tally = self.by_rule.entry(rule).or_default();
                tally.count += 1;
                *tally.users.entry(judged.user.clone()).or_default() += 1;
            }
        }
    }
}

/// What the reading thread hands on: an item of a file (an index into the files), or the fault
/// that stopped reading one.
enum Input {
    Item(usize, Item),
    Unreadable(usize, anyhow::Error),
}

/// An input, parsed.
enum Parsed {
    /// A document of file `.0`.
    Document(usize, Document),
    /// A line that is not JSON, with the warning that names it.
    BadLine(anyhow::Error),
    Unreadable(usize, anyhow::Error),
}

/// A document, an audit event already read as one (on the parsing thread: the rebuilding
/// thread, which must see every event in order, is left the rebuild alone).
enum Document {
    Value(Value),
    Event(Result<Box<Event>, serde_json::Error>),
}

impl Input {
    fn parse(self, files: &[PathBuf]) -> Parsed {
        match self {
            Input::Item(file, Item::Document(doc)) => Parsed::Document(file, Document::Value(doc)),
            Input::Item(file, Item::Line { bytes, number }) => {
                match parse_line(&bytes, &files[file], number) {
                    Ok(doc) if crate::audit::is_audit_event(&doc) => Parsed::Document(
                        file,
                        Document::Event(serde_json::from_value(doc).map(Box::new)),
                    ),
                    Ok(doc) => Parsed::Document(file, Document::Value(doc)),
                    Err(e) => Parsed::BadLine(e),
                }
            }
            Input::Unreadable(file, e) => Parsed::Unreadable(file, e),
        }
    }
}

/// Reads every file in order, counting the bytes of the lines read.
fn read(files: &[PathBuf], out: &mut ordered::Feed<Input>, bytes_read: &AtomicU64) {
    for (index, file) in files.iter().enumerate() {
        let each = |item: Item| {
            if let Item::Line { bytes, .. } = &item {
                bytes_read.fetch_add(bytes.len() as u64 + 1, Ordering::Relaxed);
            }
            if out.send(Input::Item(index, item)) {
                Ok(())
            } else {
                Err(anyhow::anyhow!("the replay stopped"))
            }
        };
        match for_each_item(file, each) {
            Ok(()) => {}
            Err(Stop::Read(e)) => {
                if !out.send(Input::Unreadable(index, e)) {
                    return;
                }
            }
            Err(Stop::Callback(_)) => return,
        }
    }
}

/// The rebuilding thread: turns documents into the requests to judge, in order, and counts
/// what it does not hand on.
struct Rebuilder {
    audit: AuditTally,
    objects: Option<Objects>,
    /// Plain objects found (judged only with `objects`).
    objects_seen: usize,
    runners_namespace: String,
    /// Plain objects judged in the runners namespace.
    in_runners_namespace: usize,
    unreadable: usize,
    bad_lines: usize,
    /// The file of the last document, and its number there.
    file: usize,
    document: usize,
}

impl Rebuilder {
    /// Hands the requests of `item` on to be judged; false when the replay stops.
    fn rebuild(&mut self, item: Parsed, files: &[PathBuf], out: &mut ordered::Feed<Job>) -> bool {
        let document = match item {
            Parsed::BadLine(e) => {
                self.bad_lines += 1;
                eprintln!("warning: skipping {e:#}");
                return true;
            }
            Parsed::Unreadable(file, e) => {
                self.unreadable += 1;
                eprintln!(
                    "warning: skipping {} (from the fault on): {e:#}",
                    files[file].display()
                );
                return true;
            }
            Parsed::Document(file, document) => {
                if file != self.file {
                    (self.file, self.document) = (file, 0);
                }
                self.document += 1;
                document
            }
        };
        let origin = |object| Origin {
            file: self.file,
            document: self.document,
            object,
        };
        let found = match document {
            Document::Event(event) => vec![Found::Audit(Audited::Read(event))],
            Document::Value(doc) => {
                let mut found = Vec::new();
                requests(doc, &mut found);
                found.into_iter().map(Found::from).collect()
            }
        };
        for item in found {
            if let (Some(_), Found::Review(_) | Found::Audit(_)) = (&self.objects, &item) {
                // A request names its own requester: judged under `--as` it would pass or fail
                // for an identity nobody chose. Refusing keeps the gate's verdict about USER.
                out.send(Job::Stop(anyhow::anyhow!(
                    "{}, document {}: {} names its own requester, so `check --as` \
                     cannot judge it; `runner-policy replay` judges AdmissionReviews and audit \
                     events as the identity they name",
                    file_name(&files[self.file]),
                    self.document,
                    if matches!(item, Found::Review(_)) {
                        "an AdmissionReview"
                    } else {
                        "an audit event"
                    }
                )));
                return false;
            }
            let job = match item {
                Found::Review(review) => Job::Judge {
                    review,
                    note: String::new(),
                    origin: origin(false),
                    spent: None,
                },
                Found::Audit(event) => match self.audit.rebuild(event, &files[self.file]) {
                    Some((review, note, event)) => Job::Judge {
                        review,
                        note,
                        origin: origin(false),
                        spent: Some(event),
                    },
                    None => continue,
                },
                Found::Object(object) => {
                    self.objects_seen += 1;
                    let Some(objects) = &self.objects else {
                        continue;
                    };
                    let uid = format!("{}#{}", files[self.file].display(), self.objects_seen);
                    let review = create_review(
                        object,
                        &objects.requester,
                        objects.namespace.as_deref(),
                        &uid,
                    );
                    if review["request"]["namespace"] == self.runners_namespace.as_str() {
                        self.in_runners_namespace += 1;
                    }
                    Job::Judge {
                        review,
                        note: String::new(),
                        origin: origin(true),
                        spent: None,
                    }
                }
            };
            if !out.send(job) {
                return false;
            }
        }
        true
    }
}

/// A request found in a document, its audit event read or not.
enum Found {
    Review(Value),
    Audit(Audited),
    Object(Value),
}

/// An audit event, as found in a document or read straight from its line.
enum Audited {
    Value(Value),
    Read(Result<Box<Event>, serde_json::Error>),
}

impl From<documents::Found> for Found {
    fn from(found: documents::Found) -> Self {
        match found {
            documents::Found::Review(review) => Found::Review(review),
            documents::Found::Audit(event) => Found::Audit(Audited::Value(event)),
            documents::Found::Object(object) => Found::Object(object),
        }
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
    /// The admission request an audit event was, with the note its line carries, and the event
    /// (to be freed by a worker); `None` when it is not replayed (counted) or cannot be read
    /// (warned about).
    fn rebuild(&mut self, event: Audited, file: &Path) -> Option<(Value, String, Box<Event>)> {
        self.events += 1;
        let event = match event {
            Audited::Value(value) => serde_json::from_value(value).map(Box::new),
            Audited::Read(event) => event,
        };
        let event: Box<Event> = match event {
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
        Some((replayed.review, note, event))
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
