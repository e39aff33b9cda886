//! What a conformance run found: a verdict per evaluation, the counts, and the tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use policy::decision::RuleName;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::gatekeeper::render_gatekeeper;
use super::psa::{render_psa, render_restricted};
use super::{DIND_USER, DOCKER_USER, NAMESPACE, Wrapping};
use crate::decision::Decision;

/// Which part of the conformance check a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// PSA baseline v1.37, pass and fail.
    PsaBaseline,
    /// PSA restricted v1.37, pass only.
    PsaRestrictedPass,
    /// gatekeeper-library pod-security-policy samples.
    Gatekeeper,
}

impl Part {
    /// A title for humans.
    pub fn title(self) -> &'static str {
        match self {
            Part::PsaBaseline => "Pod Security Admission baseline v1.37",
            Part::PsaRestrictedPass => "Pod Security Admission restricted v1.37, pass fixtures",
            Part::Gatekeeper => "gatekeeper-library pod-security-policy samples",
        }
    }
}

/// A verdict: allowed, or denied by exactly these rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// The distinct rules of the violations (empty when allowed).
    #[serde(serialize_with = "names_in_order")]
    pub rules: BTreeSet<RuleName>,
}

impl Verdict {
    /// Allowed.
    pub fn allow() -> Self {
        Verdict {
            allowed: true,
            rules: BTreeSet::new(),
        }
    }

    /// Denied by exactly `rules`.
    pub fn deny(rules: impl IntoIterator<Item = RuleName>) -> Self {
        Verdict {
            allowed: false,
            rules: rules.into_iter().collect(),
        }
    }

    /// The rules' names in name order, as the tables and the JSON rows list them.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.rules.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names
    }

    pub(super) fn of(decision: &Decision) -> Self {
        Verdict {
            allowed: decision.allowed,
            rules: decision.violations.iter().map(|v| v.rule).collect(),
        }
    }
}

fn names_in_order<S: Serializer>(rules: &BTreeSet<RuleName>, out: S) -> Result<S::Ok, S::Error> {
    let mut names: Vec<&str> = rules.iter().map(|r| r.as_str()).collect();
    names.sort_unstable();
    out.collect_seq(names)
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.allowed && self.rules.is_empty() {
            return f.write_str("ALLOW");
        }
        let verdict = if self.allowed { "ALLOW" } else { "DENY" };
        write!(f, "{verdict} {}", self.names().join(","))
    }
}

/// Whether the policy agrees with the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The policy gives the expected verdict.
    Agree,
    /// The policy differs from the corpus as documented in [`DELIBERATE_DIFFERENCES`].
    Deliberate,
    /// An unexplained disagreement.
    Disagree,
}

impl Status {
    /// `agree`, `deliberate` or `DISAGREE`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Agree => "agree",
            Status::Deliberate => "deliberate",
            Status::Disagree => "DISAGREE",
        }
    }
}

/// One object, wrapped one way, evaluated once.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The part of the check.
    pub part: Part,
    /// The PSA check id (`privileged`, `capabilities_baseline`) or the gatekeeper-library
    /// policy (`privileged-containers`).
    pub group: String,
    /// The fixture (`fail/privileged0`) or the suite case (`test/case`).
    pub case: String,
    /// The object's file, relative to the corpora directory.
    pub file: String,
    /// How the object was wrapped.
    pub wrapping: Wrapping,
    /// What the corpus says (`pass`/`fail`, or the library's `violations`).
    pub corpus: String,
    /// The verdict the policy should give.
    pub expected: Verdict,
    /// The verdict the policy gave.
    pub observed: Verdict,
    /// Agreement.
    pub status: Status,
    /// Why the expectation is what it is, when it is not the plain one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Registries added to `allowedRegistries` for one part, with an image that needs each.
#[derive(Debug, Clone, Serialize)]
pub struct AddedRegistries {
    /// The part.
    pub part: Part,
    /// Registry -> one image of the corpus from it.
    pub registries: BTreeMap<String, String>,
}

/// The result of a conformance run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The corpora directory.
    pub corpora: PathBuf,
    /// What was added to the example settings' `allowedRegistries`, per part.
    pub added_registries: Vec<AddedRegistries>,
    /// Every evaluation.
    pub rows: Vec<Row>,
}

/// Agreement counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Rows that agree.
    pub agree: usize,
    /// Rows that differ as documented.
    pub deliberate: usize,
    /// Unexplained disagreements.
    pub disagree: usize,
}

impl Totals {
    pub(super) fn add(&mut self, status: Status) {
        match status {
            Status::Agree => self.agree += 1,
            Status::Deliberate => self.deliberate += 1,
            Status::Disagree => self.disagree += 1,
        }
    }

    /// Rows counted.
    pub fn total(&self) -> usize {
        self.agree + self.deliberate + self.disagree
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} evaluations: {} agree, {} deliberate differences, {} DISAGREE",
            self.total(),
            self.agree,
            self.deliberate,
            self.disagree
        )
    }
}

impl Report {
    /// The unexplained disagreements.
    pub fn disagreements(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.status == Status::Disagree)
    }

    /// Counts for one part.
    pub fn totals(&self, part: Part) -> Totals {
        let mut totals = Totals::default();
        self.rows
            .iter()
            .filter(|r| r.part == part)
            .for_each(|r| totals.add(r.status));
        totals
    }

    /// Counts over every part.
    pub fn overall(&self) -> Totals {
        let mut totals = Totals::default();
        self.rows.iter().for_each(|r| totals.add(r.status));
        totals
    }

    /// The rows as JSON: `{corpora, addedRegistries, totals, rows}`.
    pub fn to_json(&self) -> Value {
        let parts: BTreeMap<Part, Totals> =
            [Part::PsaBaseline, Part::PsaRestrictedPass, Part::Gatekeeper]
                .into_iter()
                .map(|p| (p, self.totals(p)))
                .collect();
        json!({
            "corpora": self.corpora,
            "addedRegistries": self.added_registries,
            "totals": parts.iter().map(|(p, t)| json!({"part": p, "totals": t})).collect::<Vec<_>>(),
            "overall": self.overall(),
            "rows": self.rows,
        })
    }

    /// The human-readable report: a table per PSA check and per gatekeeper-library policy,
    /// the totals, and every disagreement in detail.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "corpora: {}", self.corpora.display());
        let _ = writeln!(
            out,
            "settings: bundled example (org example, namespace {NAMESPACE}); docker runner \
             {DOCKER_USER}, dind runner {DIND_USER}"
        );
        for added in &self.added_registries {
            let list: Vec<String> = added
                .registries
                .iter()
                .map(|(r, image)| format!("{r} (e.g. {image})"))
                .collect();
            let list = if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            };
            let _ = writeln!(
                out,
                "allowedRegistries += {list}  [{}: the corpus images' registries, so \
                 public-registries does not mask the rules under test]",
                added.part.title()
            );
        }
        render_psa(&mut out, &self.rows);
        render_restricted(&mut out, &self.rows);
        render_gatekeeper(&mut out, &self.rows);
        let _ = writeln!(out, "\n== totals");
        for part in [Part::PsaBaseline, Part::PsaRestrictedPass, Part::Gatekeeper] {
            let _ = writeln!(out, "  {:58} {}", part.title(), self.totals(part));
        }
        let _ = writeln!(out, "  {:58} {}", "all", self.overall());
        let disagreements: Vec<&Row> = self.disagreements().collect();
        if !disagreements.is_empty() {
            let _ = writeln!(out, "\n== disagreements");
            for r in disagreements {
                let _ = writeln!(
                    out,
                    "  {} {} [{}] ({}): corpus {}; expected {}, policy gave {}",
                    r.group,
                    r.case,
                    r.wrapping.title(),
                    r.file,
                    r.corpus,
                    r.expected,
                    r.observed
                );
            }
        }
        out
    }
}
