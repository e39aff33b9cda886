//! The gatekeeper-library `pod-security-policy` samples: every object the library flags under
//! its sample constraint is denied, the others are allowed, except the documented deliberate
//! differences.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use policy::decision::RuleName;
use serde_json::{Value, json};

use super::{
    NAMESPACE, Part, Row, Status, Verdict, Wrapping, evaluate, read_yaml, relative, status, text,
    wrap,
};
use crate::host::Policy;

/// gatekeeper-library pod-security-policy folder, relative to the corpora directory.
/// gatekeeper-library pod-security-policy folder, relative to the corpora directory.
pub const GATEKEEPER_PSP: &str = "gatekeeper-library/library/pod-security-policy";
/// The gatekeeper-library policies checked, and the rule expected to deny what they flag.
pub const GATEKEEPER_POLICIES: [(&str, RuleName); 6] = [
    ("privileged-containers", RuleName::DindOnlyPrivilege),
    ("host-namespaces", RuleName::NoHostAccess),
    ("host-filesystem", RuleName::NoHostAccess),
    ("capabilities", RuleName::DindOnlyPrivilege),
    ("proc-mount", RuleName::DindOnlyPrivilege),
    ("seccomp", RuleName::DindOnlyPrivilege),
];

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
pub const DELIBERATE_DIFFERENCES: &[((&str, &str), Option<RuleName>, &str)] = &[
    (("privileged-containers-disallowed", "update"), Some(RuleName::DindOnlyPrivilege), UPDATE_REASON),
    (("privileged-containers-disallowed", "exempted-image"), Some(RuleName::DindOnlyPrivilege), EXEMPT_IMAGE_REASON),
    (("host-namespace", "update"), Some(RuleName::NoHostAccess), UPDATE_REASON),
    (("host-filesystem", "example-allowed"), Some(RuleName::NoHostAccess), ALLOWED_HOST_PATHS_REASON),
    (("host-filesystem", "update"), Some(RuleName::NoHostAccess), UPDATE_REASON),
    (("capabilities-baseline", "update"), Some(RuleName::DindOnlyPrivilege), UPDATE_REASON),
    (("capabilities-restricted", "update"), Some(RuleName::DindOnlyPrivilege), UPDATE_REASON),
    (("default-proc-mount-required", "example-disallowed"), None, UNMASKED_USERNS_REASON),
    (("default-proc-mount-required", "disallowed-ephemeral"), None, UNMASKED_USERNS_REASON),
    (("default-proc-mount-required", "update"), Some(RuleName::DindOnlyPrivilege), UPDATE_REASON),
    (("default-seccomp-required", "example-disallowed-global"), None, SECCOMP_ANNOTATION_REASON),
    (("default-seccomp-required", "example-disallowed-container"), None, SECCOMP_ANNOTATION_REASON),
    (("default-seccomp-required", "disallowed-ephemeral"), None, SECCOMP_ANNOTATION_REASON),
    (("default-seccomp-required", "example-disallowed-container-localhost-profile"), None, LOCALHOST_SECCOMP_REASON),
    (("default-seccomp-required", "example-allowed-container-exempt-image"), Some(RuleName::DindOnlyPrivilege), EXEMPT_IMAGE_REASON),
];

pub(super) fn render_gatekeeper(out: &mut String, rows: &[Row]) {
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

/// One case of a gatekeeper-library suite.
#[derive(Debug)]
pub(super) struct GatekeeperCase {
    /// The library policy folder (`privileged-containers`).
    policy: String,
    /// The rule expected to deny what the library flags.
    rule: RuleName,
    /// The suite test name.
    pub(super) test: String,
    /// The case name.
    pub(super) name: String,
    /// The object's file.
    path: PathBuf,
    /// Whether the library expects violations.
    flagged: bool,
    /// Whether the object is an UPDATE wrapper.
    update: bool,
    /// The Pod (unwrapped from an AdmissionReview when needed).
    pub(super) pod: Value,
    /// The wrapper's `request.oldObject` (null when absent, as in every sample).
    old_pod: Value,
}

pub(super) fn read_gatekeeper(dir: &Path) -> Result<Vec<GatekeeperCase>> {
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

pub(super) fn gatekeeper_row(
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn violations_values() {
        assert_eq!(violations(&json!("yes")), Some(true));
        assert_eq!(violations(&json!("no")), Some(false));
        assert_eq!(violations(&json!(1)), Some(true));
        assert_eq!(violations(&json!(0)), Some(false));
        assert_eq!(violations(&json!(null)), None);
    }

    #[test]
    fn every_deliberate_difference_is_unique() {
        let keys: BTreeSet<_> = DELIBERATE_DIFFERENCES.iter().map(|(k, _, _)| k).collect();
        assert_eq!(keys.len(), DELIBERATE_DIFFERENCES.len());
    }
}
