//! `runner-policy replay PATH...`: every AdmissionReview and audit event found in files and
//! directories. `runner-policy check` (`super::check`) judges manifests with the same engine.

mod judge;
mod ordered;
mod progress;
mod rebuild;
mod tally;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufWriter;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::Result;

use super::{Cli, Outcome, counted};
use crate::documents::{STDIN, walk};
use crate::junit::{self};
use crate::manifest::Requester;
use judge::{Format, Job, Worker, engines};
use progress::{Counts, Progress};
use rebuild::{Input, Rebuilder, read};
use tally::{AuditTally, Tally};

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

/// Batches waiting in each worker's queue, and results in its output: enough to keep every
/// worker busy, few enough that memory stays flat.
const QUEUE_DEPTH: usize = 4;

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
            vec![
                |batch: Vec<Input>| batch
                    .into_iter()
                    .map(|input| input.parse(&files))
                    .collect::<Vec<_>>();
                jobs
            ],
            QUEUE_DEPTH,
        );
        let workers = engines
            .into_iter()
            .map(|engine| {
                let mut worker = Worker {
                    engine,
                    format,
                    files: &files,
                    input: Vec::new(),
                    result: Vec::new(),
                };
                // A batch's requests up to the first that fails: the replay stops there.
                move |batch: Vec<Job>| {
                    let mut judged = Vec::with_capacity(batch.len());
                    for job in batch {
                        let result = worker.judge(job);
                        let failed = result.is_err();
                        judged.push(result);
                        if failed {
                            break;
                        }
                    }
                    judged
                }
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
            'batches: for batch in parsed {
                let mut jobs = Vec::with_capacity(batch.len());
                let mut going = true;
                for item in batch {
                    events.fetch_add(1, Ordering::Relaxed);
                    going = rebuilder.rebuild(item, files, &mut jobs);
                    if !going {
                        break;
                    }
                }
                if !jobs.is_empty() && !requests.send(jobs) || !going {
                    break 'batches;
                }
            }
            rebuilder
        });
        for result in results.flatten() {
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
