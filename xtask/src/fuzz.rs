//! `cargo xtask fuzz [TARGET...] [--seconds N]`: coverage-guided fuzzing of the policy with
//! cargo-fuzz (libFuzzer, nightly), seeded with the recorded requests.
//!
//! The targets (`fuzz/fuzz_targets/`) check the properties of `host_tests::fuzzing`; an input
//! that breaks one is left in `fuzz/artifacts/<target>/`. Keeping it under
//! `fuzz/regressions/<target>/` makes `cargo xtask test` replay it on stable from then on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Every target, in the order they run: cheapest first, the wasm module last.
const TARGETS: [&str; 4] = ["json", "evaluate", "settings", "module"];

/// cargo-fuzz flags: no sanitizer (the policy is safe Rust; a sanitizer halves the rate),
/// overflow and debug assertions on (an overflow the release build would wrap is a finding),
/// optimised.
const BUILD_FLAGS: [&str; 3] = ["-s", "none", "-a"];

/// The longest input libFuzzer makes: larger than every recorded request.
const MAX_LEN: &str = "-max_len=65536";

pub fn run(args: &[&str]) -> Result<()> {
    let (targets, seconds) = parse_args(args)?;
    let root = crate::project_root();
    check_tools()?;
    if targets.contains(&"module") {
        crate::dist::run(&[]).context("the module target fuzzes bundles/dist/policy.wasm")?;
    }
    let corpus = root.join("fuzz/corpus");
    let dict = corpus.join("admission.dict");
    write_dictionary(&root.join("host-tests/requests"), &dict)?;
    write_settings_seed(&corpus.join("settings"))?;
    let mut broken = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        eprintln!(
            "==> [{}/{}] fuzzing `{target}` for {seconds}s",
            i + 1,
            targets.len()
        );
        let started = Instant::now();
        let own = corpus.join(target);
        std::fs::create_dir_all(&own)?;
        let mut command = Command::new("cargo");
        command
            .current_dir(&root)
            .args(["+nightly", "fuzz", "run"])
            .args(BUILD_FLAGS)
            .arg("-O")
            .arg(target)
            .arg(&own)
            .args(seeds(&root, target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-dict={}", dict.display()))
            .args([MAX_LEN, "-timeout=10", "-print_final_stats=1"]);
        let status = command
            .status()
            .context("cannot start `cargo +nightly fuzz`")?;
        if status.success() {
            eprintln!(
                "    `{target}`: no property broke in {:.0}s",
                started.elapsed().as_secs_f64()
            );
        } else {
            broken.push(*target);
        }
    }
    if !broken.is_empty() {
        bail!(
            "a property broke in {}: the input is in fuzz/artifacts/<target>/. Reproduce it with \
             `cargo +nightly fuzz run -s none -a -O <target> <file>`; once fixed, keep it under \
             fuzz/regressions/<target>/ so that `cargo xtask test` replays it",
            broken.join(", ")
        );
    }
    eprintln!("==> every target ran {seconds}s without breaking a property");
    Ok(())
}

fn parse_args<'a>(args: &[&'a str]) -> Result<(Vec<&'a str>, u64)> {
    let mut targets = Vec::new();
    let mut seconds = 60;
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        match arg {
            "--seconds" => {
                let value = args.next().context("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds {value}: not a whole number"))?;
            }
            t if TARGETS.contains(&t) => targets.push(t),
            other => bail!(
                "unknown argument `{other}`: give targets among {} and --seconds N",
                TARGETS.join(", ")
            ),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    Ok((targets, seconds))
}

/// cargo-fuzz needs a nightly toolchain and the `cargo fuzz` command.
fn check_tools() -> Result<()> {
    let nightly = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output();
    match nightly {
        Ok(out) if out.status.success() => Ok(()),
        _ => bail!(
            "fuzzing needs a nightly toolchain and cargo-fuzz: `rustup toolchain install nightly` \
             and `cargo install cargo-fuzz` (the rest of the project needs neither)"
        ),
    }
}

/// The corpora a target starts from, besides its own: the recorded requests (inputs of every
/// kind, valid and broken), and the inputs kept for it.
fn seeds(root: &Path, target: &str) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("fuzz/regressions").join(target)];
    if target != "settings" {
        dirs.push(root.join("host-tests/requests"));
    }
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

/// The example settings as JSON: the settings target's first input.
fn write_settings_seed(dir: &Path) -> Result<()> {
    let yaml =
        std::fs::read_to_string(crate::project_root().join("bundles/settings.example.yaml"))?;
    let value: Value = serde_yaml::from_str(&yaml).context("bundles/settings.example.yaml")?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("example.json"), serde_json::to_vec(&value)?)?;
    Ok(())
}

/// A libFuzzer dictionary of the words that steer the rules: JSON's own tokens, and every key
/// and short string of the recorded requests (field names, rule-relevant values such as
/// capability names and operations), so mutations splice in words the policy reads.
fn write_dictionary(requests: &Path, dict: &Path) -> Result<()> {
    let mut words: BTreeSet<String> = ["{", "}", "[", "]", ",", ":", "null", "true", "false"]
        .iter()
        .map(|w| (*w).to_owned())
        .collect();
    words.extend(["\\u0000", "\\ud800", "1e999", "-0"].map(str::to_owned));
    for path in json_files(requests)? {
        let text = std::fs::read(&path)?;
        if let Ok(value) = serde_json::from_slice::<Value>(&text) {
            collect_words(&value, &mut words);
        }
    }
    let mut out = String::from("# generated by `cargo xtask fuzz` from host-tests/requests\n");
    for word in &words {
        out.push_str(&format!("{}\n", serde_json::to_string(word)?));
    }
    if let Some(dir) = dict.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(dict, out).with_context(|| format!("cannot write {}", dict.display()))
}

fn collect_words(value: &Value, words: &mut BTreeSet<String>) {
    let short = |s: &str| s.len() <= 40 && !s.contains('\n');
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                words.insert(format!("\"{key}\":"));
                collect_words(v, words);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_words(v, words)),
        Value::String(s) if short(s) => {
            words.insert(format!("\"{s}\""));
        }
        _ => {}
    }
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(json_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(out)
}
