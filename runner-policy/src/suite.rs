//! The golden-case suite format (`host-tests/requests/suite.yaml`):
//!
//! ```yaml
//! settings: ../../bundles/settings.example.yaml   # optional, relative to the suite file
//! cases:
//!   - name: dind-job-pod
//!     request: dind/job-pod.json                  # relative to the suite file
//!     expect: allow
//!   - name: docker-runner-privileged-pod
//!     request: docker/privileged-pod.json
//!     expect: {deny: [dind-only-privilege]}       # the set of distinct rule names
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// A suite file, its paths resolved against the file's directory.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The settings file, if the suite names one.
    pub settings: Option<PathBuf>,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// One golden case.
#[derive(Debug, Clone)]
pub struct Case {
    /// A unique name.
    pub name: String,
    /// The request file (the input document).
    pub request: PathBuf,
    /// What the decision must be.
    pub expect: Expect,
}

/// The expected outcome of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Admitted, no violations.
    Allow,
    /// Denied with exactly these distinct rules.
    Deny(BTreeSet<String>),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Allow => f.write_str("allow"),
            Expect::Deny(rules) => {
                let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
                write!(f, "deny [{}]", rules.join(", "))
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    settings: Option<PathBuf>,
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    request: PathBuf,
    expect: RawExpect,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawExpect {
    Word(String),
    Deny { deny: BTreeSet<String> },
}

impl Suite {
    /// Reads a suite file.
    ///
    /// # Errors
    /// When the file cannot be read, is not in the suite format, names a case twice, or has an
    /// `expect` other than `allow` or `{deny: [rules]}`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read suite {}", path.display()))?;
        let raw: RawSuite = serde_yaml::from_str(&text)
            .with_context(|| format!("{} is not a suite (settings?, cases)", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut names = BTreeSet::new();
        let mut cases = Vec::with_capacity(raw.cases.len());
        for case in raw.cases {
            if !names.insert(case.name.clone()) {
                bail!("{}: case `{}` appears twice", path.display(), case.name);
            }
            let expect = match case.expect {
                RawExpect::Word(word) if word == "allow" => Expect::Allow,
                RawExpect::Word(word) => bail!(
                    "{}: case `{}`: expect must be `allow` or `{{deny: [rules]}}`, not `{word}`",
                    path.display(),
                    case.name
                ),
                RawExpect::Deny { deny } => Expect::Deny(deny),
            };
            cases.push(Case {
                name: case.name,
                request: dir.join(case.request),
                expect,
            });
        }
        Ok(Suite {
            settings: raw.settings.map(|s| dir.join(s)),
            cases,
        })
    }
}

/// The suite of recorded requests, `host-tests/requests/suite.yaml`.
pub fn default_suite_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../host-tests/requests/suite.yaml")
}
