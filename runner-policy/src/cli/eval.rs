//! `runner-policy eval REQUEST`: the decision for one request.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Cli, Outcome, read_input};
use crate::audit::{AuditLog, Event, is_audit_event};
use crate::decision::{Decision, Violation};
use crate::documents::STDIN;

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the `runners/decision` result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Hand the file's bytes to the module as they are, whatever they hold: input that is not
    /// a request (not JSON, a plain manifest) is then denied by the module (`valid-request`)
    /// instead of refused here.
    #[arg(long)]
    pub raw: bool,
    /// The request file: a JSON (or YAML) input document in any dialect (an AdmissionReview,
    /// Gatekeeper's `{review, parameters}`, Kubewarden's `{request}`), or one Kubernetes audit
    /// event (rebuilt as the admission request it was); `-` reads standard input.
    pub request: PathBuf,
}

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let (_runtime, mut policy) = cli.policy(None)?;
    let bytes = if args.request.as_os_str() == STDIN {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        bytes
    } else {
        read_input(&args.request)?
    };
    let input = if args.raw {
        bytes
    } else {
        from_audit_event(request(&args.request, bytes)?)?
    };
    let value = policy.evaluate("runners/decision", &input)?;
    let decision = Decision::from_value(value.clone())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", render(&decision));
    }
    Ok(if decision.allowed {
        Outcome::Ok
    } else {
        Outcome::Failed
    })
}

/// The request in `bytes` read from `path`, as JSON: JSON as it is (a malformed request in it
/// still reaches the module, which must deny it), YAML converted; refused, with what to do
/// instead, when it holds no request: empty, neither JSON nor YAML, a plain manifest.
fn request(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let name = if path.as_os_str() == STDIN {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        bail!("{name} is empty: there is no request to judge");
    }
    let (value, yaml) = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => (value, false),
        // Standard input has no extension to say YAML.
        Err(json) => match serde_yaml::from_str::<Value>(&text) {
            Ok(value) if path.as_os_str() == STDIN && value.is_object() => (value, true),
            _ => bail!(
                "{name} is not JSON ({json}): `eval` judges one request; `eval --raw` hands \
                 the bytes to the module as they are"
            ),
        },
    };
    let is_request = (value.is_object()
        && ["request", "review"].iter().any(|k| value.get(k).is_some()))
        || is_audit_event(&value);
    if is_request {
        return Ok(if yaml {
            serde_json::to_vec(&value)?
        } else {
            bytes
        });
    }
    if crate::manifest::is_object(&value) {
        let kind = value["kind"].as_str().unwrap_or_default();
        bail!(
            "{name} is a {kind} manifest, not an admission request: `runner-policy check --as USER \
             -n NAMESPACE {}` judges manifests as the CREATE requests that apply them",
            path.display()
        );
    }
    bail!(
        "{name} holds no admission request: `eval` judges an AdmissionReview, Gatekeeper's \
         `{{review, parameters}}`, Kubewarden's `{{request}}` or one audit event \
         (`eval --raw` hands any bytes to the module)"
    )
}

/// An audit event rebuilt as its AdmissionReview (see [`crate::audit`]); any other input as it
/// is, so that malformed files reach the module, which must deny them.
fn from_audit_event(input: Vec<u8>) -> Result<Vec<u8>> {
    let Some(value) = serde_json::from_slice::<serde_json::Value>(&input)
        .ok()
        .filter(is_audit_event)
    else {
        return Ok(input);
    };
    let event: Event = serde_json::from_value(value).context("the audit event cannot be read")?;
    match AuditLog::default().replay(&event) {
        Ok(replayed) => {
            eprintln!(
                "note: judging the admission request rebuilt from audit event {}",
                event.audit_id
            );
            if let Some(note) = replayed.note {
                eprintln!(
                    "note: {} (replay the log it came from to judge it against what came before)",
                    note.text()
                );
            }
            Ok(serde_json::to_vec(&replayed.review)?)
        }
        Err(skip) => bail!(
            "audit event {} is not judged: {}",
            event.audit_id,
            skip.reason()
        ),
    }
}

/// `ALLOW`/`DENY` and the runner type, then one aligned line per violation:
/// `rule  path  container  msg`.
pub fn render(decision: &Decision) -> String {
    format!(
        "{}  runner: {}\n{}",
        decision.verdict(),
        decision.runner.as_deref().unwrap_or("-"),
        violation_rows(&decision.violations, "  ")
    )
}

/// One aligned line per violation, each starting with `indent`: `rule  path  container  msg`
/// (`-` for an empty path or no container; the message without the rule name it repeats).
pub fn violation_rows(violations: &[Violation], indent: &str) -> String {
    let rows: Vec<[&str; 4]> = violations
        .iter()
        .map(|v| {
            let msg = v.msg.as_str();
            [
                v.rule.as_str(),
                if v.path.is_empty() { "-" } else { &v.path },
                v.container.as_deref().unwrap_or("-"),
                msg.strip_prefix(v.rule.as_str())
                    .and_then(|m| m.strip_prefix(": "))
                    .unwrap_or(msg),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for [rule, path, container, msg] in rows {
        out.push_str(&format!(
            "{indent}{rule:w0$}  {path:w1$}  {container:w2$}  {msg}\n"
        ));
    }
    out
}
