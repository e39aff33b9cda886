//! `runner-policy bench [PATH...]`: time the module through `opa_eval`, JSON bytes in to
//! result JSON out (copying the input in and reading the result included).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Cli, Outcome, read_input};
use crate::documents::{is_single_document, walk};
use crate::host::{Deadline, Runtime};
use crate::rego::{RegoPolicy, admission_request};
use crate::suite::{Suite, default_suite_path};

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Timed evaluations per request (after a warm-up of a tenth as many, at least 100)
    /// [default: 1,000; 10,000 with --full].
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Time every case of the default suite, 10,000 evaluations each unless --iterations says
    /// otherwise (minutes); without it and without PATHs, a few representative cases (seconds).
    #[arg(long)]
    pub full: bool,
    /// The entrypoint to time.
    #[arg(long, default_value = "runners/decision")]
    pub entrypoint: String,
    /// Also evaluate the first request 1,000,000 times and report memory before and after.
    #[arg(long)]
    pub flat_heap: bool,
    /// Also time the Rego twin (bundles/gatekeeper/template.yaml) through regorus and report
    /// the ratio. Both engines then get the same Gatekeeper input bytes
    /// (`{"review", "parameters"}`), parsed inside the timed region for both.
    #[arg(long)]
    pub rego: bool,
    /// Also time the same rules compiled into this binary (`policy::decide`, same input and
    /// settings): what the module's engine adds. Meaningful in a `--release` build, whose
    /// optimisation settings are the module's.
    #[arg(long)]
    pub native: bool,
    /// Time each request as the API server sends it to a webhook: compact JSON (the file's
    /// whitespace between tokens removed; keys and values unchanged).
    #[arg(long)]
    pub compact: bool,
    /// Time each request as Gatekeeper (and Kubewarden's gatekeeper mode) sends it:
    /// `{"review": request, "parameters": settings}`, the settings in every input.
    #[arg(long)]
    pub gatekeeper: bool,
    /// Run the module without the time limit: no epoch interruption, so no deadline check in
    /// every loop and call. Shows what those checks cost; a host without a deadline (OPA's
    /// SDKs) runs the module this way.
    #[arg(long)]
    pub no_deadline: bool,
    /// Also parse each answer into a JSON value (serde_json) inside the timed region, as
    /// Kubewarden's host does: what the answer's size costs the caller.
    #[arg(long)]
    pub parse_answer: bool,
    /// Request files (.json, .yaml) or directories of them [default: representative cases of
    /// host-tests/requests/suite.yaml, every case with --full].
    pub paths: Vec<PathBuf>,
}

/// The cases timed by default: the dind job pod (the figure the budget is about), a job pod of
/// each other runner, a privileged denial, a runner manager, RBAC, a Secret, egress and a
/// workload of an admin.
const REPRESENTATIVE: [&str; 10] = [
    DIND_POD,
    "docker-kaniko-build",
    "docker-runner-privileged-pod",
    "rocky8-job-pod",
    "nix-job-pod-attic",
    "helm-runner-manager-deployment",
    "runner-role-binding",
    "dockercfg-secret-create",
    "runner-egress-attic-dns-registries",
    "admin-privileged-deployment",
];

/// The suite case of the dind job pod, reported on its own in the summary.
const DIND_POD: &str = "dind-job-pod";

/// Its request file, when bench is given paths.
const DIND_POD_FILE: &str = "dind/job-pod.json";

/// Figures for one request.
#[derive(Debug, Serialize)]
pub struct Timing {
    /// The case name or file.
    pub name: String,
    /// Input size in bytes.
    pub bytes: usize,
    /// Median microseconds per evaluation.
    pub median_us: f64,
    /// 99th percentile microseconds per evaluation.
    pub p99_us: f64,
    /// With `--rego`: median microseconds of regorus on the Rego twin, same input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rego_median_us: Option<f64>,
    /// With `--native`: median microseconds of the same rules compiled into this binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_median_us: Option<f64>,
}

/// The heap-growth check.
#[derive(Debug, Serialize)]
pub struct FlatHeap {
    /// The request evaluated.
    pub name: String,
    /// Evaluations run.
    pub evaluations: usize,
    /// Linear memory before, in bytes.
    pub memory_before: usize,
    /// Linear memory after, in bytes.
    pub memory_after: usize,
    /// Whether memory did not grow.
    pub flat: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    module: String,
    module_bytes: usize,
    entrypoint: String,
    iterations: usize,
    /// Whether the inputs were Gatekeeper's `{review, parameters}`.
    gatekeeper_inputs: bool,
    /// Whether the module ran with the time limit (epoch interruption).
    deadline: bool,
    requests: Vec<Timing>,
    /// The median of the requests' medians.
    median_of_medians_us: f64,
    /// The dind job pod's median, when it was timed.
    #[serde(skip_serializing_if = "Option::is_none")]
    dind_pod_median_us: Option<f64>,
    flat_heap: Option<FlatHeap>,
}

const FLAT_HEAP_EVALUATIONS: usize = 1_000_000;

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let mut requests = requests(args)?;
    if args.compact {
        for (_, bytes) in &mut requests {
            *bytes = compact(bytes);
        }
    }
    anyhow::ensure!(!requests.is_empty(), "no requests to time");
    let iterations = args
        .iterations
        .unwrap_or(if args.full { 10_000 } else { 1_000 });
    anyhow::ensure!(iterations > 0, "--iterations must be at least 1");
    let deadline = if args.no_deadline {
        Deadline::Off
    } else {
        Deadline::Epoch
    };
    let runtime = Runtime::load_with(&cli.module_path(), deadline)?;
    let mut policy = runtime.instantiate(&cli.valid_settings(None)?.0)?;
    if args.rego || args.gatekeeper {
        requests = gatekeeper_inputs(cli, requests)?;
    }
    let mut twin = if args.rego {
        Some(RegoPolicy::from_template(
            &RegoPolicy::default_template_path(),
        )?)
    } else {
        None
    };
    let id = policy.entrypoint(&args.entrypoint)?;
    let mut native = if args.native {
        if cfg!(debug_assertions) && !args.json {
            eprintln!(
                "note: this runner-policy is a debug build, so its native figures are not the \
                 module's optimisation settings: build it with --release to compare"
            );
        }
        let entrypoint = policy::Entrypoint::from_name(&args.entrypoint)
            .with_context(|| format!("no entrypoint {}", args.entrypoint))?;
        let settings = serde_json::to_vec(&cli.valid_settings(None)?.0)?;
        // Settings read once and kept, as the module keeps them.
        Some((
            entrypoint,
            settings,
            policy::SettingsCache::<policy::cache::Heap>::new(),
        ))
    } else {
        None
    };
    let mut out = Vec::with_capacity(64 * 1024);
    let mut timings = Vec::new();
    let warmup = (iterations / 10).max(100);
    let mut samples = Vec::with_capacity(iterations);
    for (name, input) in &requests {
        let mut evaluate = || -> Result<()> {
            policy.eval_raw(id, input, &mut out)?;
            if args.parse_answer {
                let answer: serde_json::Value = serde_json::from_slice(&out)
                    .with_context(|| format!("{name}: the answer is not JSON"))?;
                std::hint::black_box(answer);
            }
            Ok(())
        };
        for _ in 0..warmup {
            evaluate()?;
        }
        time(iterations, &mut samples, evaluate)?;
        let (median_us, p99_us) = (
            micros(percentile(&samples, 50)),
            micros(percentile(&samples, 99)),
        );
        let rego_median_us = match twin.as_mut() {
            Some(twin) => Some(time_rego(twin, input, warmup, iterations, &mut samples)?),
            None => None,
        };
        let native_median_us = match native.as_mut() {
            Some((entrypoint, settings, cache)) => {
                let mut evaluate = || {
                    let outcome = cache.decide(input, Some(settings));
                    std::hint::black_box(outcome.render(*entrypoint));
                    Ok(())
                };
                for _ in 0..warmup {
                    evaluate()?;
                }
                time(iterations, &mut samples, evaluate)?;
                Some(micros(percentile(&samples, 50)))
            }
            None => None,
        };
        timings.push(Timing {
            name: name.clone(),
            bytes: input.len(),
            median_us,
            p99_us,
            rego_median_us,
            native_median_us,
        });
        if !args.json {
            eprintln!("timed {name}");
        }
    }
    let flat_heap = if args.flat_heap {
        let (name, input) = requests.first().context("no request for --flat-heap")?;
        let memory_before = policy.memory_bytes();
        for i in 0..FLAT_HEAP_EVALUATIONS {
            policy.eval_raw(id, input, &mut out)?;
            if !args.json && i > 0 && i % 100_000 == 0 {
                eprintln!(
                    "... {i} evaluations, memory {} bytes",
                    policy.memory_bytes()
                );
            }
        }
        let memory_after = policy.memory_bytes();
        Some(FlatHeap {
            name: name.clone(),
            evaluations: FLAT_HEAP_EVALUATIONS,
            memory_before,
            memory_after,
            flat: memory_after == memory_before,
        })
    } else {
        None
    };
    let mut medians: Vec<f64> = timings.iter().map(|t| t.median_us).collect();
    medians.sort_by(f64::total_cmp);
    let dind_pod_median_us = timings
        .iter()
        .find(|t| t.name == DIND_POD || t.name.ends_with(DIND_POD_FILE))
        .map(|t| t.median_us);
    let report = Report {
        module: cli.module_path().display().to_string(),
        module_bytes: runtime.wasm_len(),
        entrypoint: args.entrypoint.clone(),
        iterations,
        gatekeeper_inputs: args.rego || args.gatekeeper,
        deadline: deadline == Deadline::Epoch,
        median_of_medians_us: medians.get(medians.len() / 2).copied().unwrap_or_default(),
        dind_pod_median_us,
        requests: timings,
        flat_heap,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(Outcome::Ok)
}

fn print_report(report: &Report) {
    println!(
        "module {} ({} bytes), entrypoint {}, {} iterations per request{}{}",
        report.module,
        report.module_bytes,
        report.entrypoint,
        report.iterations,
        if report.gatekeeper_inputs {
            ", Gatekeeper inputs"
        } else {
            ""
        },
        if report.deadline { "" } else { ", no deadline" }
    );
    let width = report
        .requests
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0);
    println!(
        "{:width$}  {:>9}  {:>10}  {:>10}",
        "request", "bytes", "median us", "p99 us"
    );
    for t in &report.requests {
        print!(
            "{:width$}  {:>9}  {:>10.2}  {:>10.2}",
            t.name, t.bytes, t.median_us, t.p99_us
        );
        if let Some(native) = t.native_median_us {
            print!(
                "  native {native:>8.2} us  module/native x{:.1}",
                t.median_us / native
            );
        }
        match t.rego_median_us {
            Some(rego) => println!("  regorus {rego:>9.2} us  x{:.1}", rego / t.median_us),
            None => println!(),
        }
    }
    let rego: Vec<(f64, f64)> = report
        .requests
        .iter()
        .filter_map(|t| t.rego_median_us.map(|r| (t.median_us, r)))
        .collect();
    if !rego.is_empty() {
        let (module, twin): (f64, f64) = rego
            .iter()
            .fold((0.0, 0.0), |(m, r), (a, b)| (m + a, r + b));
        println!(
            "regorus on the Rego twin / module, sum of medians over {} requests: {twin:.1} us / {module:.1} us = x{:.1}",
            rego.len(),
            twin / module
        );
    }
    println!(
        "\nsummary: median over {}: {:.2} us; {}; module {} bytes",
        super::counted(report.requests.len(), "request"),
        report.median_of_medians_us,
        report.dind_pod_median_us.map_or_else(
            || format!("{DIND_POD} not timed"),
            |us| format!("dind job pod ({DIND_POD}): {us:.2} us")
        ),
        report.module_bytes
    );
    if let Some(flat) = &report.flat_heap {
        println!(
            "heap: {} evaluations of {}: memory {} -> {} bytes ({})",
            flat.evaluations,
            flat.name,
            flat.memory_before,
            flat.memory_after,
            if flat.flat { "flat" } else { "GREW" }
        );
    }
}

/// The inputs to time: `(name, JSON bytes)`.
fn requests(args: &Args) -> Result<Vec<(String, Vec<u8>)>> {
    if args.paths.is_empty() {
        let path = default_suite_path();
        let suite = Suite::load(&path).with_context(|| {
            format!(
                "no PATH given and the default suite {} cannot be read",
                path.display()
            )
        })?;
        if !args.full {
            let missing: Vec<&str> = REPRESENTATIVE
                .into_iter()
                .filter(|name| !suite.cases.iter().any(|c| c.name == *name))
                .collect();
            anyhow::ensure!(
                missing.is_empty(),
                "the default suite {} lacks the representative cases {}",
                path.display(),
                missing.join(", ")
            );
        }
        return suite
            .cases
            .iter()
            .filter(|case| args.full || REPRESENTATIVE.contains(&case.name.as_str()))
            .map(|case| Ok((case.name.clone(), read_input(&case.request)?)))
            .collect();
    }
    // One request per file: logs found in directories are left out, logs named are refused.
    if let Some(log) = args
        .paths
        .iter()
        .find(|p| !p.is_dir() && !is_single_document(p))
    {
        anyhow::bail!(
            "{} is not a request file (.json, .yaml): bench times one request per file; `runner-policy replay` reads logs",
            log.display()
        );
    }
    walk(&args.paths)?
        .iter()
        .filter(|file| is_single_document(file))
        .map(|file| Ok((file.display().to_string(), read_input(file)?)))
        .collect()
}

/// The requests as Gatekeeper inputs (`{"review": request, "parameters": settings}`), so the
/// module and the Rego twin read the same bytes.
fn gatekeeper_inputs(
    cli: &Cli,
    requests: Vec<(String, Vec<u8>)>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let (settings, _) = cli.valid_settings(None)?;
    requests
        .into_iter()
        .map(|(name, bytes)| {
            let doc: serde_json::Value =
                serde_json::from_slice(&bytes).with_context(|| format!("{name} is not JSON"))?;
            let request = admission_request(&doc)
                .with_context(|| format!("{name} holds no AdmissionRequest"))?;
            Ok((
                name,
                serde_json::to_vec(&RegoPolicy::gatekeeper_input(request, &settings))?,
            ))
        })
        .collect()
}

/// Median microseconds of regorus evaluating the twin's `violation` on `input` (JSON parsing
/// into regorus values included).
fn time_rego(
    twin: &mut RegoPolicy,
    input: &[u8],
    warmup: usize,
    iterations: usize,
    samples: &mut Vec<Duration>,
) -> Result<f64> {
    let text = std::str::from_utf8(input)?;
    for _ in 0..warmup {
        twin.violations(text)?;
    }
    time(iterations, samples, || twin.violations(text).map(drop))?;
    Ok(micros(percentile(samples, 50)))
}

/// Times `iterations` calls of `f` into `samples`, sorted.
fn time(
    iterations: usize,
    samples: &mut Vec<Duration>,
    mut f: impl FnMut() -> Result<()>,
) -> Result<()> {
    samples.clear();
    for _ in 0..iterations {
        let start = Instant::now();
        f()?;
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    Ok(())
}

/// JSON text without the whitespace between tokens (string contents untouched).
fn compact(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in text {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    let index = (sorted.len().saturating_sub(1) * pct) / 100;
    sorted.get(index).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn compact_keeps_tokens_and_strings() {
        let pretty = b"{\n  \"a b\": [1, true],\n  \"q\": \"x \\\" y\\\\\",\n  \"t\": \"\\t\"\n}\n";
        let out = compact(pretty);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"a b":[1,true],"q":"x \" y\\","t":"\t"}"#
        );
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_slice(pretty).unwrap(),
            serde_json::from_slice(&out).unwrap(),
        );
        assert_eq!(a, b);
    }
}
