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
//!
//! [`psa`] reads the PSA fixtures, [`gatekeeper`] the gatekeeper-library samples; [`wrap()`]
//! turns a corpus Pod into an AdmissionReview and [`report`] holds the verdicts and tables.

mod gatekeeper;
mod psa;
mod report;
mod wrap;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use policy::request::image::{ImageRef, normalise_registry};
use serde_json::Value;

use crate::decision::Decision;
use crate::host::{Policy, Runtime, workspace_root};

use gatekeeper::{gatekeeper_row, read_gatekeeper};
use psa::{psa_rows, read_psa, restricted_rows};

pub use gatekeeper::{DELIBERATE_DIFFERENCES, GATEKEEPER_POLICIES, GATEKEEPER_PSP};
pub use psa::{HOST_ACCESS_CHECKS, PSA_BASELINE, PSA_RESTRICTED, host_access};
pub use report::{AddedRegistries, Part, Report, Row, Status, Totals, Verdict};
pub use wrap::{Wrapping, wrap};

/// The environment variable that names the corpora directory (see [`find_corpora`]).
pub const CORPORA_ENV: &str = "RUNNER_POLICY_CORPORA";
/// The runners namespace of the example settings.
pub const NAMESPACE: &str = "example-runners";
/// The docker runner manager's identity (unprivileged runner type).
pub const DOCKER_USER: &str = "system:serviceaccount:example-runners:gitlab-runner-docker";
/// The dind runner manager's identity (the privileged runner type).
pub const DIND_USER: &str = "system:serviceaccount:example-runners:gitlab-runner-dind";
const DECISION: &str = "runners/decision";

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
        restricted_rows(&mut policy, corpora, fixture, &mut rows)?;
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

/// The images of every container of a Pod.
fn images(pod: &Value) -> impl Iterator<Item = &str> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| pod["spec"][list].as_array().into_iter().flatten())
        .filter_map(|c| c["image"].as_str())
}

/// The registry an image is pulled from, read by the policy's own parser (so the added
/// registries are exactly the ones `public-registries` compares); `None` when the reference
/// cannot be read (the policy denies it whatever the settings allow).
pub fn registry_of(image: &str) -> Option<String> {
    ImageRef::parse(image)
        .ok()
        .map(|reference| reference.registry().to_owned())
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
        .map(|r| normalise_registry(r).into_owned())
        .collect();
    let mut registries = BTreeMap::new();
    for image in pods.iter().flat_map(|p| images(p)) {
        let Some(registry) = registry_of(image) else {
            continue;
        };
        if !known.contains(&registry) {
            registries
                .entry(registry)
                .or_insert_with(|| image.to_owned());
        }
    }
    allowed.extend(registries.keys().map(|r| Value::String(r.clone())));
    Ok((settings, AddedRegistries { part, registries }))
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
        for (image, registry) in [
            ("registry.k8s.io/pause", Some("registry.k8s.io")),
            ("nginx", Some("docker.io")),
            ("openpolicyagent/opa:0.9.2", Some("docker.io")),
            ("safeimages.com/nginx", Some("safeimages.com")),
            ("localhost:5000/x", Some("localhost:5000")),
            ("Index.Docker.io/library/nginx", Some("docker.io")),
            // An uppercase first component is a host to runtimes (paths are lowercase).
            ("Registry/nginx", Some("registry")),
            ("UPPER", None),
        ] {
            assert_eq!(registry_of(image).as_deref(), registry, "{image}");
        }
    }
}
