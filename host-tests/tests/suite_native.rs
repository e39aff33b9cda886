//! The recorded suite through the policy library itself (no wasm): the quickest check that
//! rules and recorded expectations agree. The same suite runs through the module in `host.rs`
//! and `cli.rs`.

use runner_policy::suite::{Expect, Suite, default_suite_path};
use std::collections::BTreeSet;

#[test]
fn every_recorded_case_decides_as_expected_natively() {
    let suite = Suite::load(&default_suite_path()).unwrap();
    let settings = runner_policy::settings::load(suite.settings.as_deref()).unwrap();
    let settings = serde_json::to_vec(&settings).unwrap();
    let mut failures = Vec::new();
    for case in &suite.cases {
        let input = std::fs::read(&case.request).unwrap();
        let decision = policy::eval::decide(&input, Some(&settings)).decision;
        let rules: BTreeSet<String> = decision
            .rules()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        let ok = match &case.expect {
            Expect::Allow => decision.allowed,
            Expect::Deny(expected) => !decision.allowed && &rules == expected,
        };
        if !ok {
            let msgs: Vec<&str> = decision.violations.iter().map(|v| v.msg.as_str()).collect();
            failures.push(format!(
                "{}: expected {}, got {rules:?}\n    {}",
                case.name,
                case.expect,
                msgs.join("\n    ")
            ));
        }
    }
    assert!(
        suite.cases.len() >= 40,
        "the suite shrank to {} cases",
        suite.cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        suite.cases.len(),
        failures.join("\n")
    );
}
