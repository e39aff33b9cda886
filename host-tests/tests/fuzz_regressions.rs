//! The fuzz targets' properties (`host_tests::fuzzing`), checked on stable on what a fuzzing run
//! may not regress: every recorded request, and every input kept under `fuzz/regressions/`
//! (inputs that once broke a property, or that hold a reading a property must get right).

use std::path::{Path, PathBuf};

use host_tests::fuzzing::{Checker, ModuleChecker, json_readers_agree};
use runner_policy::host::{default_module_path, workspace_root};

/// Every file below `dir` (none when it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Runs `check` on every file below `dir`; fails with every broken property at once.
fn replay(dir: &Path, mut check: impl FnMut(&[u8]) -> Result<(), String>) -> usize {
    let files = files(dir);
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            check(&bytes)
                .err()
                .map(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    files.len()
}

/// The inputs kept for `target` (never none: an empty directory would test nothing).
fn regressions(target: &str) -> PathBuf {
    let dir = workspace_root().join("fuzz/regressions").join(target);
    assert!(!files(&dir).is_empty(), "no inputs under {}", dir.display());
    dir
}

#[test]
fn recorded_requests_keep_every_property() {
    let checker = Checker::new().unwrap();
    let requests = workspace_root().join("host-tests/requests");
    let n = replay(&requests, |bytes| {
        checker.evaluation(bytes)?;
        json_readers_agree(bytes)
    });
    assert!(n >= 70, "only {n} recorded requests found");
}

#[test]
fn the_module_answers_every_kept_input_as_the_native_build() {
    let mut checker = ModuleChecker::new(&default_module_path()).unwrap();
    for dir in [
        workspace_root().join("host-tests/requests"),
        regressions("evaluate"),
        regressions("module"),
    ] {
        replay(&dir, |bytes| checker.evaluation(bytes));
    }
}

#[test]
fn kept_evaluation_inputs_keep_every_property() {
    let checker = Checker::new().unwrap();
    replay(&regressions("evaluate"), |bytes| checker.evaluation(bytes));
}

#[test]
fn kept_settings_keep_every_property() {
    let checker = Checker::new().unwrap();
    replay(&regressions("settings"), |bytes| checker.settings(bytes));
    let example = serde_json::to_vec(&runner_policy::settings::example().unwrap()).unwrap();
    checker.settings(&example).unwrap();
}

#[test]
fn kept_json_texts_read_as_go_reads_them() {
    replay(&regressions("json"), json_readers_agree);
}
