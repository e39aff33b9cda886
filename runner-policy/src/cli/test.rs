//! `runner-policy test SUITE`: golden cases.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::Value;

use super::{Cli, Outcome, counted, read_input};
use crate::decision::Decision;
use crate::host::Policy;
use crate::junit::{self, Failure};
use crate::suite::{Case, Expect, Suite};

/// Arguments of `test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also write a JUnit XML report to FILE (GitLab: `artifacts:reports:junit`): a test case
    /// per golden case, failed when the decision differs from the expectation.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The suite file (see `host-tests/requests/suite.yaml`).
    pub suite: PathBuf,
}

pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let suite = Suite::load(&args.suite)?;
    // An explicit --settings wins over the suite's.
    let settings = cli.settings.clone().or(suite.settings.clone());
    let (_runtime, mut policy) = cli.policy(settings.as_deref())?;
    let mut failed = 0usize;
    let mut report = junit::Report::new("runner-policy test");
    for case in &suite.cases {
        let result = check(&mut policy, case);
        match &result {
            Ok(()) => println!("ok    {}", case.name),
            Err(problem) => {
                failed += 1;
                println!("FAIL  {}: {problem:#}", case.name);
            }
        }
        report.cases.push(junit::Case {
            classname: args.suite.display().to_string(),
            name: case.name.clone(),
            failure: result.err().map(|problem| Failure {
                message: format!("{problem:#}"),
                text: format!("{}: {problem:#}", case.request.display()),
            }),
        });
    }
    if let Some(path) = &args.junit {
        report.write(path)?;
    }
    let total = suite.cases.len();
    println!(
        "\n{} passed, {failed} failed, {} ({})",
        total - failed,
        counted(total, "case"),
        args.suite.display()
    );
    Ok(if failed == 0 {
        Outcome::Ok
    } else {
        Outcome::Failed
    })
}

/// Evaluates one case; `Err` says how it differs from the expectation.
fn check(policy: &mut Policy, case: &Case) -> Result<()> {
    let input = read_input(&case.request)?;
    let decision = Decision::from_value(policy.evaluate("runners/decision", &input)?)?;
    let rules = decision.rules();
    let actual = if decision.allowed && rules.is_empty() {
        Expect::Allow
    } else {
        Expect::Deny(rules.clone())
    };
    anyhow::ensure!(
        actual == case.expect,
        "expected {}, got {}",
        case.expect,
        actual
    );
    anyhow::ensure!(
        decision.allowed == rules.is_empty(),
        "inconsistent decision: allowed={} with violations {rules:?}",
        decision.allowed
    );
    // runners/main must agree with runners/decision.
    let main = policy.evaluate("runners/main", &input)?;
    let main_allowed = main_allowed(&main).context("runners/main result has no verdict")?;
    anyhow::ensure!(
        main_allowed == decision.allowed,
        "runners/main says allowed={main_allowed} but runners/decision says {}",
        decision.allowed
    );
    Ok(())
}

/// The verdict of a `runners/main` result: an AdmissionReview's `response.allowed`, or an empty
/// Gatekeeper violations list.
fn main_allowed(result: &Value) -> Option<bool> {
    match result {
        Value::Array(violations) => Some(violations.is_empty()),
        other => other.pointer("/response/allowed").and_then(Value::as_bool),
    }
}
