//! The Pod Security Admission fixtures: baseline `pass`/`fail` under four wrappings, and the
//! restricted `pass` fixtures as a sanity check.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use policy::decision::RuleName;
use serde_json::Value;

use super::{Part, Row, Verdict, Wrapping, evaluate, read_yaml, relative, status, wrap};
use crate::host::Policy;

/// PSA baseline fixtures, relative to the corpora directory.
pub const PSA_BASELINE: &str = "pod-security-admission/test/testdata/baseline/v1.37";
/// PSA restricted fixtures, relative to the corpora directory.
pub const PSA_RESTRICTED: &str = "pod-security-admission/test/testdata/restricted/v1.37";
/// PSA checks whose failures are host access (denied to every runner, dind included).
pub const HOST_ACCESS_CHECKS: [&str; 3] = ["hostnamespaces", "hostpathvolumes", "hostports"];

pub(super) fn render_psa(out: &mut String, rows: &[Row]) {
    let _ = writeln!(out, "\n== {}", Part::PsaBaseline.title());
    let _ = writeln!(
        out,
        "   docker: pass allowed, fail denied by {} (hostnamespaces, hostpathvolumes, \
         hostports) or {} (every other check); dind: only host access denied",
        RuleName::NoHostAccess,
        RuleName::DindOnlyPrivilege
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

pub(super) fn render_restricted(out: &mut String, rows: &[Row]) {
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

/// One PSA fixture file.
#[derive(Debug)]
pub(super) struct PsaFixture {
    path: PathBuf,
    /// `pass` or `fail`.
    outcome: String,
    /// File stem (`privileged0`).
    stem: String,
    /// Check id: the stem minus trailing digits (`privileged`); `base` for `base*.yaml`.
    check: String,
    pub(super) pod: Value,
}

impl PsaFixture {
    fn case(&self) -> String {
        format!("{}/{}", self.outcome, self.stem)
    }
}

pub(super) fn read_psa(dir: &Path, outcomes: &[&str]) -> Result<Vec<PsaFixture>> {
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

pub(super) fn psa_rows(
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
            "also sets {}: {} expected for every runner",
            host_access.join(", "),
            RuleName::NoHostAccess
        )
    });
    for wrapping in Wrapping::PSA {
        let dind = matches!(wrapping, Wrapping::DindPod | Wrapping::DindDeployment);
        let mut rules = Vec::new();
        if fail && !host_access.is_empty() {
            rules.push(RuleName::NoHostAccess);
        }
        if fail && !check_is_host_access && !dind {
            rules.push(RuleName::DindOnlyPrivilege);
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

/// The restricted `pass` fixture as a Pod and a Deployment CREATE by the docker runner:
/// restricted implies baseline, so both are allowed.
pub(super) fn restricted_rows(
    policy: &mut Policy,
    corpora: &Path,
    fixture: &PsaFixture,
    rows: &mut Vec<Row>,
) -> Result<()> {
    for wrapping in [Wrapping::DockerPod, Wrapping::DockerDeployment] {
        let observed = evaluate(policy, &wrap(&fixture.pod, wrapping, rows.len())?)?;
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
    Ok(())
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
}
