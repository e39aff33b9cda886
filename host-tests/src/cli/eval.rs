//! `runner-policy eval REQUEST`: the decision for one request.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{Cli, Outcome, read_input};
use crate::audit::{AuditLog, Event, is_audit_event};
use crate::decision::Decision;

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the `runners/decision` result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The request file: a JSON (or YAML) input document in any dialect, or one Kubernetes
    /// audit event (rebuilt as the admission request it was).
    pub request: PathBuf,
}

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let (_runtime, mut policy) = cli.policy(None)?;
    let input = from_audit_event(read_input(&args.request)?)?;
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
    let mut out = format!(
        "{}  runner: {}\n",
        decision.verdict(),
        decision.runner.as_deref().unwrap_or("-")
    );
    let rows: Vec<[&str; 4]> = decision
        .violations
        .iter()
        .map(|v| {
            [
                v.rule.as_str(),
                if v.path.is_empty() { "-" } else { &v.path },
                v.container.as_deref().unwrap_or("-"),
                v.msg.as_str(),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for [rule, path, container, msg] in rows {
        out.push_str(&format!(
            "  {rule:w0$}  {path:w1$}  {container:w2$}  {msg}\n"
        ));
    }
    out
}
