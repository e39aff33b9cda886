//! Conformance of the policy with external admission corpora, read in place where they are
//! ([`find_corpora`]): Kubernetes Pod Security Admission fixtures and gatekeeper-library samples.
//! They are not part of the repository, so a checkout without them skips this check.
//!
//! 1. **PSA baseline v1.37**: every fixture is wrapped four ways - a Pod CREATE and a
//!    Deployment CREATE (the pod as its template), each by the `docker` and by the `dind`
//!    runner identity in `example-runners`. Docker: `pass` is allowed, `fail` is denied by
//!    `no-host-access` (checks hostNamespaces, hostPathVolumes, hostPorts) or
//!    `dind-only-privilege` (every other check). Dind: only host access is denied. A fixture
//!    whose object also grants host access beside its own check (Windows hostProcess needs
//!    hostNetwork) is expected to be denied by `no-host-access` too, found from the object.
//! 2. **PSA restricted v1.37 `pass`** (sanity): restricted implies baseline, so every one is
//!    allowed for the docker identity.
//! 3. **gatekeeper-library** `pod-security-policy` samples: every object the library flags under
//!    its sample constraint is denied (CREATE by the docker identity); objects it does not flag
//!    are allowed. Where the sample constraint asks for more, or less, than Pod Security
//!    baseline, the expected verdict and the reason are in [`DELIBERATE_DIFFERENCES`]; such a
//!    row agrees only when the policy gives exactly that verdict.
//!
//! Settings: the bundled example settings (org `example`) with `allowedRegistries` extended by
//! the registries of the corpus images (`registry.k8s.io` for PSA), so that
//! `public-registries` does not mask the rules under test; the report lists what was added.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::decision::Decision;
use crate::host::{Policy, Runtime, workspace_root};

/// The environment variable that names the corpora directory (see [`find_corpora`]).
pub const CORPORA_ENV: &str = "RUNNER_POLICY_CORPORA";
/// The runners namespace of the example settings.
pub const NAMESPACE: &str = "example-runners";
/// The docker runner manager's identity (unprivileged runner type).
pub const DOCKER_USER: &str = "system:serviceaccount:example-runners:gitlab-runner-docker";
/// The dind runner manager's identity (the privileged runner type).
pub const DIND_USER: &str = "system:serviceaccount:example-runners:gitlab-runner-dind";
/// PSA baseline fixtures, relative to the corpora directory.
pub const PSA_BASELINE: &str = "pod-security-admission/test/testdata/baseline/v1.37";
/// PSA restricted fixtures, relative to the corpora directory.
pub const PSA_RESTRICTED: &str = "pod-security-admission/test/testdata/restricted/v1.37";
/// gatekeeper-library pod-security-policy folder, relative to the corpora directory.
pub const GATEKEEPER_PSP: &str = "gatekeeper-library/library/pod-security-policy";
/// The gatekeeper-library policies checked, and the rule expected to deny what they flag.
pub const GATEKEEPER_POLICIES: [(&str, &str); 6] = [
    ("privileged-containers", DIND_ONLY_PRIVILEGE),
    ("host-namespaces", NO_HOST_ACCESS),
    ("host-filesystem", NO_HOST_ACCESS),
    ("capabilities", DIND_ONLY_PRIVILEGE),
    ("proc-mount", DIND_ONLY_PRIVILEGE),
    ("seccomp", DIND_ONLY_PRIVILEGE),
];
/// PSA checks whose failures are host access (denied to every runner, dind included).
pub const HOST_ACCESS_CHECKS: [&str; 3] = ["hostnamespaces", "hostpathvolumes", "hostports"];

const NO_HOST_ACCESS: &str = "no-host-access";
const DIND_ONLY_PRIVILEGE: &str = "dind-only-privilege";
const DECISION: &str = "runners/decision";

/// An UPDATE wrapper of the library (its templates skip UPDATEs).
const UPDATE_REASON: &str = "UPDATE: the library's PSP templates skip UPDATE requests; the policy \
    judges the new object of an UPDATE whose pod spec changed (docs/design.md) and the sample's \
    wrapper has no oldObject, so a non-dind runner's pod that breaks baseline is denied";

/// Image exemptions of a sample constraint.
const EXEMPT_IMAGE_REASON: &str = "exemptImages: the sample constraint exempts this image; the \
    policy has no image exemptions (privilege follows the runner identity, never the image) and \
    the object breaks Pod Security baseline";

/// An `unconfined` seccomp annotation.
const SECCOMP_ANNOTATION_REASON: &str = "seccomp annotation `unconfined` \
    (seccomp.security.alpha.kubernetes.io/pod, container.seccomp.security.alpha.kubernetes.io/*): \
    the annotations have no effect since Kubernetes 1.27 (kubelets ignore them since 1.25; the \
    API server stopped copying them into securityContext.seccompProfile in 1.27, \
    kubernetes/kubernetes#114947) and Pod Security baseline (since v1.19) checks only the field";

/// procMount Unmasked in a user namespace.
const UNMASKED_USERNS_REASON: &str = "procMount Unmasked with hostUsers: false: Pod Security \
    baseline (since v1.35; PSA fixture baseline/v1.37/pass/procmount1) allows an unmasked /proc \
    inside a user namespace; the sample constraint requires Default regardless";

/// A Localhost seccomp profile outside the sample's allow-list.
const LOCALHOST_SECCOMP_REASON: &str = "Localhost seccomp profile `profile.log`: Pod Security \
    baseline allows any Localhost profile; the sample's allowedProfiles is a site-specific \
    allow-list";

/// Read-only hostPath volumes the sample allows.
const ALLOWED_HOST_PATHS_REASON: &str = "allowedHostPaths: the sample allows read-only hostPath \
    volumes under /foo; Pod Security baseline forbids every hostPath volume and no-host-access \
    denies them to every runner, dind included";

/// The documented deliberate differences with the gatekeeper-library samples:
/// (suite test name, case name) -> (the policy's verdict, the reason). A row listed here agrees
/// only when the policy gives exactly this verdict.
///
/// `None` as the rule means "allowed"; `Some(rule)` means "denied by exactly that rule".
#[rustfmt::skip]
pub const DELIBERATE_DIFFERENCES: &[((&str, &str), Option<&str>, &str)] = &[
    (("privileged-containers-disallowed", "update"), Some(DIND_ONLY_PRIVILEGE), UPDATE_REASON),
    (("privileged-containers-disallowed", "exempted-image"), Some(DIND_ONLY_PRIVILEGE), EXEMPT_IMAGE_REASON),
    (("host-namespace", "update"), Some(NO_HOST_ACCESS), UPDATE_REASON),
    (("host-filesystem", "example-allowed"), Some(NO_HOST_ACCESS), ALLOWED_HOST_PATHS_REASON),
    (("host-filesystem", "update"), Some(NO_HOST_ACCESS), UPDATE_REASON),
    (("capabilities-baseline", "update"), Some(DIND_ONLY_PRIVILEGE), UPDATE_REASON),
    (("capabilities-restricted", "update"), Some(DIND_ONLY_PRIVILEGE), UPDATE_REASON),
    (("default-proc-mount-required", "example-disallowed"), None, UNMASKED_USERNS_REASON),
    (("default-proc-mount-required", "disallowed-ephemeral"), None, UNMASKED_USERNS_REASON),
    (("default-proc-mount-required", "update"), Some(DIND_ONLY_PRIVILEGE), UPDATE_REASON),
    (("default-seccomp-required", "example-disallowed-global"), None, SECCOMP_ANNOTATION_REASON),
    (("default-seccomp-required", "example-disallowed-container"), None, SECCOMP_ANNOTATION_REASON),
    (("default-seccomp-required", "disallowed-ephemeral"), None, SECCOMP_ANNOTATION_REASON),
    (("default-seccomp-required", "example-disallowed-container-localhost-profile"), None, LOCALHOST_SECCOMP_REASON),
    (("default-seccomp-required", "example-allowed-container-exempt-image"), Some(DIND_ONLY_PRIVILEGE), EXEMPT_IMAGE_REASON),
];

/// Where the corpora sit when the environment names none: a `shared/corpora` folder beside the
/// checkout, as the project's CI lays it out.
const BESIDE_CHECKOUT: &str = "../shared/corpora";

/// The external corpora directory: `$RUNNER_POLICY_CORPORA` when set, else
/// `../shared/corpora` beside the workspace when it exists, else `None` (the check is skipped).
///
/// # Errors
/// When `$RUNNER_POLICY_CORPORA` names something that is not a directory: a directory asked for
/// by name is never skipped quietly.
pub fn find_corpora() -> Result<Option<PathBuf>> {
    if let Some(dir) = std::env::var_os(CORPORA_ENV) {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            bail!(
                "${CORPORA_ENV} is {}, which is not a directory",
                dir.display()
            );
        }
        return Ok(Some(dir));
    }
    let beside = workspace_root().join(BESIDE_CHECKOUT);
    Ok(beside.is_dir().then_some(beside))
}

/// What a skipped check says, naming where it looked.
pub fn skipped_message() -> String {
    format!(
        "skipped: no external corpora (set ${CORPORA_ENV} to a directory of Pod Security \
         Admission fixtures and gatekeeper-library samples, or place them at {})",
        workspace_root().join(BESIDE_CHECKOUT).display()
    )
}

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

/// How a corpus object reaches the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wrapping {
    /// A Pod CREATE by the docker runner identity.
    DockerPod,
    /// A Deployment CREATE (the pod as its template) by the docker runner identity.
    DockerDeployment,
    /// A Pod CREATE by the dind runner identity.
    DindPod,
    /// A Deployment CREATE by the dind runner identity.
    DindDeployment,
    /// A Pod UPDATE by the docker runner identity (the library's UPDATE wrappers).
    DockerPodUpdate,
}

impl Wrapping {
    /// The four wrappings of every PSA baseline fixture, in table column order.
    pub const PSA: [Wrapping; 4] = [
        Wrapping::DockerPod,
        Wrapping::DockerDeployment,
        Wrapping::DindPod,
        Wrapping::DindDeployment,
    ];

    /// A column title.
    pub fn title(self) -> &'static str {
        match self {
            Wrapping::DockerPod => "docker pod",
            Wrapping::DockerDeployment => "docker deployment",
            Wrapping::DindPod => "dind pod",
            Wrapping::DindDeployment => "dind deployment",
            Wrapping::DockerPodUpdate => "docker pod UPDATE",
        }
    }

    fn user(self) -> &'static str {
        match self {
            Wrapping::DindPod | Wrapping::DindDeployment => DIND_USER,
            _ => DOCKER_USER,
        }
    }

    fn deployment(self) -> bool {
        matches!(self, Wrapping::DockerDeployment | Wrapping::DindDeployment)
    }
}

/// A verdict: allowed, or denied by exactly these rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// The distinct rules of the violations (empty when allowed).
    pub rules: BTreeSet<String>,
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
    pub fn deny<'a>(rules: impl IntoIterator<Item = &'a str>) -> Self {
        Verdict {
            allowed: false,
            rules: rules.into_iter().map(str::to_owned).collect(),
        }
    }

    fn of(decision: &Decision) -> Self {
        Verdict {
            allowed: decision.allowed,
            rules: decision.rules(),
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.allowed && self.rules.is_empty() {
            return f.write_str("ALLOW");
        }
        let verdict = if self.allowed { "ALLOW" } else { "DENY" };
        let rules: Vec<&str> = self.rules.iter().map(String::as_str).collect();
        write!(f, "{verdict} {}", rules.join(","))
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
    fn add(&mut self, status: Status) {
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

fn render_psa(out: &mut String, rows: &[Row]) {
    let _ = writeln!(out, "\n== {}", Part::PsaBaseline.title());
    let _ = writeln!(
        out,
        "   docker: pass allowed, fail denied by {NO_HOST_ACCESS} (hostnamespaces, \
         hostpathvolumes, hostports) or {DIND_ONLY_PRIVILEGE} (every other check); \
         dind: only host access denied"
    );
    let mut groups: BTreeMap<&str, BTreeMap<&str, Vec<&Row>>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.part == Part::PsaBaseline) {
        groups
            .entry(&r.group)
            .or_default()
            .entry(&r.case)
            .or_default()
            .push(r);
    }
    for (check, fixtures) in groups {
        let _ = writeln!(out, "\n{check}");
        let width = fixtures.keys().map(|k| k.len()).max().unwrap_or(0).max(7);
        let mut header = format!("  {:width$}", "fixture");
        for w in Wrapping::PSA {
            let _ = write!(header, "  {:17}", w.title());
        }
        let _ = writeln!(out, "{}", header.trim_end());
        let mut notes = Vec::new();
        for (fixture, cells) in fixtures {
            let mut line = format!("  {fixture:width$}");
            for w in Wrapping::PSA {
                let label = cells
                    .iter()
                    .find(|r| r.wrapping == w)
                    .map_or("-", |r| r.status.label());
                let _ = write!(line, "  {label:17}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
            if let Some(note) = cells.iter().find_map(|r| r.note.as_deref()) {
                notes.push(format!("    {fixture}: {note}"));
            }
        }
        for note in notes {
            let _ = writeln!(out, "{note}");
        }
    }
}

fn render_restricted(out: &mut String, rows: &[Row]) {
    let _ = writeln!(
        out,
        "\n== {} (restricted implies baseline: allowed for the docker runner)",
        Part::PsaRestrictedPass.title()
    );
    let rows: Vec<&Row> = rows
        .iter()
        .filter(|r| r.part == Part::PsaRestrictedPass)
        .collect();
    let width = rows.iter().map(|r| r.case.len()).max().unwrap_or(0).max(7);
    let _ = writeln!(
        out,
        "  {:width$}  {:17}  {:24}  status",
        "fixture", "wrapping", "observed"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "  {:width$}  {:17}  {:24}  {}",
            r.case,
            r.wrapping.title(),
            r.observed.to_string(),
            r.status.label()
        );
    }
}

fn render_gatekeeper(out: &mut String, rows: &[Row]) {
    let _ = writeln!(out, "\n== {}", Part::Gatekeeper.title());
    for (policy, rule) in GATEKEEPER_POLICIES {
        let rows: Vec<&Row> = rows
            .iter()
            .filter(|r| r.part == Part::Gatekeeper && r.group == policy)
            .collect();
        let _ = writeln!(
            out,
            "\n{policy} (flagged objects: expected denied by {rule})"
        );
        let width = rows.iter().map(|r| r.case.len()).max().unwrap_or(0).max(9);
        let _ = writeln!(
            out,
            "  {:width$}  {:8}  {:17}  {:26}  {:26}  status",
            "test/case", "library", "wrapping", "expected", "observed"
        );
        let mut notes = Vec::new();
        for r in rows {
            let _ = writeln!(
                out,
                "  {:width$}  {:8}  {:17}  {:26}  {:26}  {}",
                r.case,
                r.corpus,
                r.wrapping.title(),
                r.expected.to_string(),
                r.observed.to_string(),
                r.status.label()
            );
            if let Some(note) = &r.note {
                notes.push(format!("    {}: {note}", r.case));
            }
        }
        for note in notes {
            let _ = writeln!(out, "{note}");
        }
    }
}

/// Runs the whole conformance check with the module at `module` on the corpora in `corpora`.
///
/// # Errors
/// When the corpora directory or one of its expected folders is missing, a fixture cannot be
/// read or parsed, or the module cannot be loaded or evaluated. Disagreements are not errors:
/// they are rows of the report (see [`Report::disagreements`]).
pub fn run(module: &Path, corpora: &Path) -> Result<Report> {
    if !corpora.is_dir() {
        bail!(
            "the corpora directory {} does not exist (it holds Pod Security Admission \
             fixtures and gatekeeper-library samples)",
            corpora.display()
        );
    }
    let runtime = Runtime::load(module)?;
    let mut rows = Vec::new();
    let mut added_registries = Vec::new();

    let baseline = read_psa(&corpora.join(PSA_BASELINE), &["pass", "fail"])?;
    let restricted = read_psa(&corpora.join(PSA_RESTRICTED), &["pass"])?;
    let psa_objects: Vec<&Value> = baseline.iter().chain(&restricted).map(|f| &f.pod).collect();
    let (settings, added) = settings_for(Part::PsaBaseline, &psa_objects)?;
    let mut policy = runtime.instantiate(&settings)?;
    added_registries.push(added);
    for fixture in &baseline {
        psa_rows(&mut policy, corpora, fixture, &mut rows)?;
    }
    for fixture in &restricted {
        for wrapping in [Wrapping::DockerPod, Wrapping::DockerDeployment] {
            let observed = evaluate(&mut policy, &wrap(&fixture.pod, wrapping, rows.len())?)?;
            let expected = Verdict::allow();
            rows.push(Row {
                part: Part::PsaRestrictedPass,
                group: fixture.check.clone(),
                case: fixture.case(),
                file: relative(corpora, &fixture.path),
                wrapping,
                corpus: "pass".to_owned(),
                status: status(&expected, &observed),
                expected,
                observed,
                note: None,
            });
        }
    }

    let cases = read_gatekeeper(&corpora.join(GATEKEEPER_PSP))?;
    for ((test, name), _, _) in DELIBERATE_DIFFERENCES {
        if !cases.iter().any(|c| c.test == *test && c.name == *name) {
            bail!("the documented difference ({test}, {name}) matches no gatekeeper-library case");
        }
    }
    let objects: Vec<&Value> = cases.iter().map(|c| &c.pod).collect();
    let (settings, added) = settings_for(Part::Gatekeeper, &objects)?;
    let mut policy = runtime.instantiate(&settings)?;
    added_registries.push(added);
    for case in &cases {
        rows.push(gatekeeper_row(&mut policy, corpora, case, rows.len())?);
    }

    Ok(Report {
        corpora: corpora.to_path_buf(),
        added_registries,
        rows,
    })
}

/// One PSA fixture file.
#[derive(Debug)]
struct PsaFixture {
    path: PathBuf,
    /// `pass` or `fail`.
    outcome: String,
    /// File stem (`privileged0`).
    stem: String,
    /// Check id: the stem minus trailing digits (`privileged`); `base` for `base*.yaml`.
    check: String,
    pod: Value,
}

impl PsaFixture {
    fn case(&self) -> String {
        format!("{}/{}", self.outcome, self.stem)
    }
}

fn read_psa(dir: &Path, outcomes: &[&str]) -> Result<Vec<PsaFixture>> {
    let mut fixtures = Vec::new();
    for outcome in outcomes {
        let sub = dir.join(outcome);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&sub)
            .with_context(|| format!("cannot read the fixture folder {}", sub.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            bail!("no fixtures in {}", sub.display());
        }
        for path in paths {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .context("fixture file name is not UTF-8")?
                .to_owned();
            let check = stem
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .to_owned();
            let pod = read_yaml(&path)?;
            if pod["kind"] != "Pod" {
                bail!("{} is not a Pod", path.display());
            }
            fixtures.push(PsaFixture {
                path,
                outcome: (*outcome).to_owned(),
                stem,
                check,
                pod,
            });
        }
    }
    Ok(fixtures)
}

fn psa_rows(
    policy: &mut Policy,
    corpora: &Path,
    fixture: &PsaFixture,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let fail = fixture.outcome == "fail";
    let check_is_host_access = HOST_ACCESS_CHECKS.contains(&fixture.check.as_str());
    let host_access = host_access(&fixture.pod["spec"]);
    if fail && check_is_host_access && host_access.is_empty() {
        bail!(
            "{} fails check {} but grants no host access that this harness recognises",
            fixture.path.display(),
            fixture.check
        );
    }
    // What the object grants besides the check it fails (e.g. hostProcess needs hostNetwork).
    let note = (fail && !check_is_host_access && !host_access.is_empty()).then(|| {
        format!(
            "also sets {}: {NO_HOST_ACCESS} expected for every runner",
            host_access.join(", ")
        )
    });
    for wrapping in Wrapping::PSA {
        let dind = matches!(wrapping, Wrapping::DindPod | Wrapping::DindDeployment);
        let mut rules = Vec::new();
        if fail && !host_access.is_empty() {
            rules.push(NO_HOST_ACCESS);
        }
        if fail && !check_is_host_access && !dind {
            rules.push(DIND_ONLY_PRIVILEGE);
        }
        let expected = if rules.is_empty() {
            Verdict::allow()
        } else {
            Verdict::deny(rules)
        };
        let observed = evaluate(policy, &wrap(&fixture.pod, wrapping, rows.len())?)?;
        rows.push(Row {
            part: Part::PsaBaseline,
            group: fixture.check.clone(),
            case: fixture.case(),
            file: relative(corpora, &fixture.path),
            wrapping,
            corpus: fixture.outcome.clone(),
            status: status(&expected, &observed),
            expected,
            observed,
            note: note.clone(),
        });
    }
    Ok(())
}

/// One case of a gatekeeper-library suite.
#[derive(Debug)]
struct GatekeeperCase {
    /// The library policy folder (`privileged-containers`).
    policy: String,
    /// The rule expected to deny what the library flags.
    rule: &'static str,
    /// The suite test name.
    test: String,
    /// The case name.
    name: String,
    /// The object's file.
    path: PathBuf,
    /// Whether the library expects violations.
    flagged: bool,
    /// Whether the object is an UPDATE wrapper.
    update: bool,
    /// The Pod (unwrapped from an AdmissionReview when needed).
    pod: Value,
    /// The wrapper's `request.oldObject` (null when absent, as in every sample).
    old_pod: Value,
}

fn read_gatekeeper(dir: &Path) -> Result<Vec<GatekeeperCase>> {
    let mut cases = Vec::new();
    for (policy, rule) in GATEKEEPER_POLICIES {
        let folder = dir.join(policy);
        let suite_path = folder.join("suite.yaml");
        let suite = read_yaml(&suite_path)?;
        let tests = suite["tests"]
            .as_array()
            .with_context(|| format!("{}: no tests", suite_path.display()))?;
        for test in tests {
            let test_name = text(&test["name"], &suite_path, "tests[].name")?;
            let cases_of = test["cases"].as_array().with_context(|| {
                format!("{}: test {test_name} has no cases", suite_path.display())
            })?;
            for case in cases_of {
                let name = text(&case["name"], &suite_path, "cases[].name")?;
                let object = text(&case["object"], &suite_path, "cases[].object")?;
                let assertions = case["assertions"].as_array().with_context(|| {
                    format!("{}: case {name} has no assertions", suite_path.display())
                })?;
                let mut flagged = None;
                for a in assertions {
                    let yes = violations(&a["violations"]).with_context(|| {
                        format!(
                            "{}: case {name}: unreadable `violations: {}`",
                            suite_path.display(),
                            a["violations"]
                        )
                    })?;
                    flagged = Some(flagged.unwrap_or(false) || yes);
                }
                let flagged = flagged.with_context(|| {
                    format!("{}: case {name} has no assertions", suite_path.display())
                })?;
                let path = folder.join(object);
                let doc = read_yaml(&path)?;
                let (pod, old_pod, update) = match doc["kind"].as_str() {
                    Some("Pod") => (doc, Value::Null, false),
                    Some("AdmissionReview") => {
                        let operation = doc["request"]["operation"].as_str().unwrap_or("CREATE");
                        let pod = doc["request"]["object"].clone();
                        if pod["kind"] != "Pod" {
                            bail!("{}: the AdmissionReview holds no Pod", path.display());
                        }
                        let old_pod = doc["request"]["oldObject"].clone();
                        (pod, old_pod, operation == "UPDATE")
                    }
                    other => bail!("{}: unexpected kind {other:?}", path.display()),
                };
                cases.push(GatekeeperCase {
                    policy: policy.to_owned(),
                    rule,
                    test: test_name.to_owned(),
                    name: name.to_owned(),
                    path,
                    flagged,
                    update,
                    pod,
                    old_pod,
                });
            }
        }
    }
    Ok(cases)
}

fn gatekeeper_row(
    policy: &mut Policy,
    corpora: &Path,
    case: &GatekeeperCase,
    seq: usize,
) -> Result<Row> {
    let wrapping = if case.update {
        Wrapping::DockerPodUpdate
    } else {
        Wrapping::DockerPod
    };
    let mut review = wrap(&case.pod, wrapping, seq)?;
    if case.update {
        let mut old = case.old_pod.clone();
        if old.is_object() {
            old["metadata"]["namespace"] = json!(NAMESPACE);
        }
        review["request"]["oldObject"] = old;
    }
    let observed = evaluate(policy, &review)?;
    let documented = DELIBERATE_DIFFERENCES
        .iter()
        .find(|((test, name), _, _)| *test == case.test && *name == case.name);
    let plain = if case.flagged {
        Verdict::deny([case.rule])
    } else {
        Verdict::allow()
    };
    let (expected, status, note) = match documented {
        Some((_, rule, reason)) => {
            let expected = rule.map_or_else(Verdict::allow, |r| Verdict::deny([r]));
            let status = if observed == expected {
                Status::Deliberate
            } else {
                Status::Disagree
            };
            (expected, status, Some((*reason).to_owned()))
        }
        None => {
            let status = status(&plain, &observed);
            (plain, status, None)
        }
    };
    Ok(Row {
        part: Part::Gatekeeper,
        group: case.policy.clone(),
        case: format!("{}/{}", case.test, case.name),
        file: relative(corpora, &case.path),
        wrapping,
        corpus: if case.flagged { "yes" } else { "no" }.to_owned(),
        expected,
        observed,
        status,
        note,
    })
}

/// `violations: yes|no|<count>` -> whether violations are expected.
fn violations(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_u64().map(|n| n > 0),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" => Some(true),
            "no" | "false" => Some(false),
            other => other.parse::<u64>().ok().map(|n| n > 0),
        },
        _ => None,
    }
}

fn status(expected: &Verdict, observed: &Verdict) -> Status {
    if expected == observed {
        Status::Agree
    } else {
        Status::Disagree
    }
}

fn evaluate(policy: &mut Policy, review: &Value) -> Result<Verdict> {
    let input = serde_json::to_vec(review)?;
    let decision = Decision::from_value(policy.evaluate(DECISION, &input)?)?;
    Ok(Verdict::of(&decision))
}

/// The host access a pod spec grants, as field names (`hostNetwork`, `hostPath volume x`).
pub fn host_access(spec: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[field] == true {
            found.push(format!("{field}: true"));
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        if !volume["hostPath"].is_null() {
            found.push(format!(
                "hostPath volume {}",
                volume["name"].as_str().unwrap_or("?")
            ));
        }
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for container in spec[list].as_array().into_iter().flatten() {
            for port in container["ports"].as_array().into_iter().flatten() {
                if port["hostPort"].as_u64().is_some_and(|p| p != 0) {
                    found.push(format!("hostPort {}", port["hostPort"]));
                }
            }
        }
    }
    found
}

/// The images of every container of a Pod.
fn images(pod: &Value) -> impl Iterator<Item = &str> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| pod["spec"][list].as_array().into_iter().flatten())
        .filter_map(|c| c["image"].as_str())
}

/// The registry host of an image reference (no registry means docker.io).
pub fn registry_of(image: &str) -> String {
    let host = match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => {
            first.to_ascii_lowercase()
        }
        _ => "docker.io".to_owned(),
    };
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
        _ => host,
    }
}

/// The example settings with `allowedRegistries` extended by the registries of `pods`'
/// images that it does not allow yet.
fn settings_for(part: Part, pods: &[&Value]) -> Result<(Value, AddedRegistries)> {
    let mut settings = crate::settings::example()?;
    let allowed = settings["allowedRegistries"]
        .as_array_mut()
        .context("the example settings have no allowedRegistries list")?;
    let known: BTreeSet<String> = allowed
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    let mut registries = BTreeMap::new();
    for image in pods.iter().flat_map(|p| images(p)) {
        let registry = registry_of(image);
        if !known.contains(&registry) {
            registries
                .entry(registry)
                .or_insert_with(|| image.to_owned());
        }
    }
    allowed.extend(registries.keys().map(|r| Value::String(r.clone())));
    Ok((settings, AddedRegistries { part, registries }))
}

/// Wraps a Pod as an `admission.k8s.io/v1` AdmissionReview in the runners namespace: a Pod or
/// Deployment CREATE, or a Pod UPDATE with a null `oldObject` (for the caller to set).
///
/// # Errors
/// When the pod has no `metadata.name`.
pub fn wrap(pod: &Value, wrapping: Wrapping, seq: usize) -> Result<Value> {
    let name = pod["metadata"]["name"]
        .as_str()
        .context("the pod has no metadata.name")?;
    let mut pod = pod.clone();
    pod["metadata"]["namespace"] = json!(NAMESPACE);
    let (kind, resource, object) = if wrapping.deployment() {
        let mut labels = pod["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        labels["app"] = json!(name);
        let mut template_meta = json!({ "labels": labels });
        if pod["metadata"]["annotations"].is_object() {
            template_meta["annotations"] = pod["metadata"]["annotations"].clone();
        }
        let deployment = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": template_meta, "spec": pod["spec"].clone()},
            },
        });
        (
            json!({"group": "apps", "version": "v1", "kind": "Deployment"}),
            json!({"group": "apps", "version": "v1", "resource": "deployments"}),
            deployment,
        )
    } else {
        (
            json!({"group": "", "version": "v1", "kind": "Pod"}),
            json!({"group": "", "version": "v1", "resource": "pods"}),
            pod,
        )
    };
    // An UPDATE's oldObject is the caller's to set (the corpus wrappers carry none).
    let (operation, options_kind) = if wrapping == Wrapping::DockerPodUpdate {
        ("UPDATE", "UpdateOptions")
    } else {
        ("CREATE", "CreateOptions")
    };
    let (sa, user_uid) = if wrapping.user() == DIND_USER {
        ("gitlab-runner-dind", "5a0c0f4e-7d1a-4c55-9d7e-000000000001")
    } else {
        (
            "gitlab-runner-docker",
            "5a0c0f4e-7d1a-4c55-9d7e-000000000002",
        )
    };
    Ok(json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("00000000-0000-4000-8000-{seq:012}"),
            "kind": kind,
            "resource": resource,
            "requestKind": kind,
            "requestResource": resource,
            "name": name,
            "namespace": NAMESPACE,
            "operation": operation,
            "userInfo": {
                "username": wrapping.user(),
                "uid": user_uid,
                "groups": [
                    "system:serviceaccounts",
                    format!("system:serviceaccounts:{NAMESPACE}"),
                    "system:authenticated",
                ],
                "extra": {
                    "authentication.kubernetes.io/credential-id": [format!("JTI=conformance-{sa}")],
                },
            },
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": options_kind},
        },
    }))
}

fn read_yaml(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_yaml::from_str(&text).with_context(|| format!("{} is not valid YAML", path.display()))
}

fn text<'a>(value: &'a Value, file: &Path, what: &str) -> Result<&'a str> {
    value
        .as_str()
        .with_context(|| format!("{}: {what} is missing or not a string", file.display()))
}

fn relative(corpora: &Path, path: &Path) -> String {
    path.strip_prefix(corpora)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_of_images() {
        assert_eq!(registry_of("registry.k8s.io/pause"), "registry.k8s.io");
        assert_eq!(registry_of("nginx"), "docker.io");
        assert_eq!(registry_of("openpolicyagent/opa:0.9.2"), "docker.io");
        assert_eq!(registry_of("safeimages.com/nginx"), "safeimages.com");
        assert_eq!(registry_of("localhost:5000/x"), "localhost:5000");
        assert_eq!(registry_of("Index.Docker.io/library/nginx"), "docker.io");
    }

    #[test]
    fn violations_values() {
        assert_eq!(violations(&json!("yes")), Some(true));
        assert_eq!(violations(&json!("no")), Some(false));
        assert_eq!(violations(&json!(1)), Some(true));
        assert_eq!(violations(&json!(0)), Some(false));
        assert_eq!(violations(&json!(null)), None);
    }

    #[test]
    fn host_access_is_found() {
        let spec = json!({
            "hostNetwork": true,
            "volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
            "containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]}],
        });
        assert_eq!(
            host_access(&spec),
            ["hostNetwork: true", "hostPath volume sock", "hostPort 8080"]
        );
        assert!(host_access(&json!({"containers": [{"name": "c"}]})).is_empty());
    }

    #[test]
    fn every_deliberate_difference_is_unique() {
        let keys: BTreeSet<_> = DELIBERATE_DIFFERENCES.iter().map(|(k, _, _)| k).collect();
        assert_eq!(keys.len(), DELIBERATE_DIFFERENCES.len());
    }
}
