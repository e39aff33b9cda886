//! Property: on generated admission requests the ValidatingAdmissionPolicy (through kube-rs's
//! CEL) and the policy give the same verdict, and a denial's first failing validation belongs to
//! a rule the policy reports. The requests are built as JSON (`common/reviews/json/`): Pods and
//! workloads with random containers, security contexts, env, mounts, volumes and images; RBAC
//! objects, Secrets, ConfigMaps, NetworkPolicies, TokenRequests, Namespaces; every identity,
//! namespace and operation.
//!
//! The policy runs natively (`policy::eval::decide`, the code the module is built from).
//! Requests it denies as `valid-request` are left out (the API server refuses them first).
//! `VAP_PROPERTY_CASES=N` changes the number of cases (default 10,000).

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use runner_policy::rego::RegoPolicy;
use runner_policy::vap::{Engine, Verdict};
use serde_json::Value;

use common::reviews::json::{admission_request, settings};

#[test]
fn vap_and_policy_agree_on_generated_requests() {
    let cases = std::env::var("VAP_PROPERTY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let engines: Vec<(Value, Engine)> = (0..4)
        .map(|v| {
            let s = settings(v);
            let e = Engine::from_settings(&s).unwrap_or_else(|e| panic!("{e:#}"));
            (s, e)
        })
        .collect();
    let counts = RefCell::new(BTreeMap::<String, usize>::new());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&admission_request(), |(variant, request)| {
        let (settings, engine) = &engines[variant];
        let input = RegoPolicy::gatekeeper_input(&request, settings).to_string();
        let decision = policy::eval::decide(input.as_bytes(), None).decision;
        let rules: Vec<&str> = decision
            .violations
            .iter()
            .map(|v| v.rule.as_str())
            .collect();
        let mut counts = counts.borrow_mut();
        for rule in &rules {
            *counts.entry(format!("module: {rule}")).or_default() += 1;
        }
        if rules.contains(&"valid-request") {
            *counts
                .entry("(valid-request, left out)".to_owned())
                .or_default() += 1;
            return Ok(());
        }
        let verdict = engine.judge_request(&request);
        match &verdict {
            Verdict::Allowed => *counts.entry("(allowed)".to_owned()).or_default() += 1,
            Verdict::Denied { rule, .. } => *counts.entry(rule.to_string()).or_default() += 1,
            Verdict::Error { .. } => {}
        }
        let agree = match &verdict {
            Verdict::Allowed => rules.is_empty(),
            Verdict::Denied { rule, .. } => rules.contains(&rule.as_str()),
            Verdict::Error { .. } => false,
        };
        prop_assert!(
            agree,
            "policy {rules:?}, vap {verdict:?}\nrequest: {request}"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let counts = counts.into_inner();
    eprintln!(
        "{cases} generated requests; the module's violations per rule, and the first failing validation per rule: {counts:?}"
    );
    // The generators must reach every rule, or the property proves little.
    for rule in policy::decision::RuleName::ALL {
        if rule == policy::decision::RuleName::ValidRequest {
            continue;
        }
        assert!(
            cases < 1000 || counts.get(&format!("module: {rule}")).copied().unwrap_or(0) > 10,
            "the generators seldom reach {rule}: {counts:?}"
        );
    }
}
