//! Property: on generated AdmissionReviews the Rego twin (through regorus) and the policy give
//! the same (rule, path) multiset. The generators (`common/reviews/`) make typed
//! `k8s-openapi` objects: Pods and every workload kind, RBAC objects, Secrets, ConfigMaps,
//! NetworkPolicies and a Namespace, with random security contexts, identities (each runner,
//! admin, other ServiceAccounts, exempt), namespaces (runners, others, cluster-scoped),
//! operations, images and volumes.
//!
//! The policy runs natively (`policy::eval::decide`, the code the module is built from);
//! `rego_equivalence.rs` compares the module itself on the recorded requests, and `opa_real.rs`
//! real OPA on a sample of these reviews. A counterexample is shrunk and printed as the
//! Gatekeeper input document.
//!
//! `RULE_PROPERTY_CASES=N` changes the number of cases (default 10,000).

mod common;

use std::cell::RefCell;

use common::reviews::{gatekeeper_input, module_rule_paths};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use runner_policy::rego::RegoPolicy;

#[test]
fn twin_and_policy_agree_on_generated_admission_reviews() {
    let cases = std::env::var("RULE_PROPERTY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let twin = RefCell::new(
        RegoPolicy::from_template(&RegoPolicy::default_template_path())
            .unwrap_or_else(|e| panic!("{e:#}")),
    );
    let denied = RefCell::new(std::collections::BTreeMap::<String, usize>::new());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&gatekeeper_input(), |input| {
        let text = input.to_string();
        let module = module_rule_paths(&text);
        let rego = twin
            .borrow_mut()
            .rule_paths(&text)
            .map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
        for (rule, _) in &module {
            *denied.borrow_mut().entry(rule.clone()).or_default() += 1;
        }
        prop_assert_eq!(
            &module,
            &rego,
            "module (left) and Rego twin (right) disagree"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generators must reach every rule the policy implements, or the property proves little.
    let denied = denied.into_inner();
    eprintln!("violations per rule over {cases} cases: {denied:?}");
    for rule in policy::decision::RuleName::ALL.map(|r| r.as_str()) {
        assert!(
            cases < 1000 || denied.get(rule).copied().unwrap_or(0) > 10,
            "the generators seldom reach {rule}: {denied:?}"
        );
    }
}
