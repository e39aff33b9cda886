//! The policy agrees with the external corpora (Pod Security Admission baseline v1.37
//! fixtures, gatekeeper-library pod-security-policy samples): no disagreement beyond the
//! documented deliberate differences. See `runner_policy::conformance`.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build and
//! `RUNNER_POLICY_CORPORA=dir` names the corpora. The corpora are not part of the repository:
//! without them this test passes having checked nothing, and `cargo xtask test` says so in its
//! output (its conformance step prints the skip).

use runner_policy::conformance::{self, Part, Status};
use runner_policy::host::default_module_path;

#[test]
fn the_policy_agrees_with_the_pod_security_and_gatekeeper_corpora() {
    let Some(corpora) = conformance::find_corpora().unwrap() else {
        eprintln!("{}", conformance::skipped_message());
        return;
    };
    let module = default_module_path();
    assert!(
        module.exists(),
        "{} not found: run `cargo xtask dist` to build the policy module",
        module.display()
    );
    let report = conformance::run(&module, &corpora).unwrap();

    for part in [Part::PsaBaseline, Part::PsaRestrictedPass, Part::Gatekeeper] {
        assert!(
            report.totals(part).total() > 0,
            "no evaluations for {}",
            part.title()
        );
    }
    // PSA has no documented differences: every fixture agrees outright.
    assert!(
        report
            .rows
            .iter()
            .filter(|r| r.part != Part::Gatekeeper)
            .all(|r| r.status != Status::Deliberate)
    );
    let disagreements: Vec<String> = report
        .disagreements()
        .map(|r| {
            format!(
                "{} {} [{}] ({}): expected {}, policy gave {}",
                r.group,
                r.case,
                r.wrapping.title(),
                r.file,
                r.expected,
                r.observed
            )
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} unexplained disagreements with the corpora:\n{}\n\nfull report:\n{}",
        disagreements.len(),
        disagreements.join("\n"),
        report.render()
    );
}
