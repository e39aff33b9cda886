//! The ValidatingAdmissionPolicy generated for the example settings decides like the module on
//! every recorded request: same verdict, and a denial's first failing validation belongs to one
//! of the rules the module reports. Requests the module denies as `valid-request` are left out:
//! the API server decodes and validates objects before any admission policy sees them.
//!
//! Run `cargo xtask dist` (the module) first.

use kube_cel::KubeCelExt;
use kube_cel::cel::{Context, Program, Value as Cel};
use proptest::prelude::*;
use proptest::sample::select;
use runner_policy::host::{Runtime, default_module_path};
use runner_policy::rego::{RegoPolicy, admission_request};
use runner_policy::suite::{Suite, default_suite_path};
use runner_policy::vap::{Engine, Verdict};
use serde_json::{Value, json};

#[test]
fn vap_and_module_agree_on_every_recorded_request() {
    let suite = Suite::load(&default_suite_path()).unwrap();
    let settings = runner_policy::settings::load(suite.settings.as_deref()).unwrap();
    let engine = Engine::from_settings(&settings).unwrap_or_else(|e| panic!("{e:#}"));
    let runtime = Runtime::load(&default_module_path()).unwrap_or_else(|e| panic!("{e:#}"));
    let mut module = runtime.instantiate(&settings).unwrap();
    let (mut compared, mut excluded, mut denied, mut same_text) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for case in &suite.cases {
        let doc: Value = serde_json::from_slice(&std::fs::read(&case.request).unwrap()).unwrap();
        let Some(request) = admission_request(&doc) else {
            excluded += 1;
            continue;
        };
        let input = RegoPolicy::gatekeeper_input(request, &settings).to_string();
        let decision = module
            .evaluate("runners/decision", input.as_bytes())
            .unwrap();
        let rules: Vec<&str> = decision["violations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["rule"].as_str())
            .collect();
        if rules.contains(&"valid-request") {
            excluded += 1;
            continue;
        }
        compared += 1;
        let verdict = engine.judge_request(request);
        let agree = match &verdict {
            Verdict::Allowed => rules.is_empty(),
            Verdict::Denied { rule, message, .. } => {
                denied += 1;
                // The message starts with the rule and, when every violation of that rule the
                // module reports is a container's, names one of those containers.
                let of_rule: Vec<&Value> = decision["violations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| v["rule"] == rule.as_str())
                    .collect();
                let containers: Vec<&str> = of_rule
                    .iter()
                    .filter_map(|v| v["container"].as_str())
                    .collect();
                if of_rule.iter().any(|v| v["msg"] == message.as_str()) {
                    same_text += 1;
                }
                let names_container = containers.len() < of_rule.len()
                    || containers
                        .iter()
                        .any(|c| message.contains(&format!("container \"{c}\"")));
                if !names_container {
                    failures.push(format!(
                        "{}: the message names none of the containers {containers:?}: {message}",
                        case.name
                    ));
                }
                rules.contains(&rule.as_str()) && message.starts_with(&format!("{rule}: "))
            }
            Verdict::Error { .. } => false,
        };
        if !agree {
            failures.push(format!("{}: module {rules:?}, vap {verdict:?}", case.name));
        }
    }
    eprintln!(
        "recorded requests: {compared} compared ({denied} denied, {same_text} with the module's very message), {excluded} valid-request denials left out"
    );
    assert!(denied > 10, "too few denials ({denied}) to prove anything");
    assert!(
        failures.is_empty(),
        "{} of {compared} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The CEL of a registry auth path (partly written in the generator: `..`, `.docker`, helm's
/// `registry`, home directories) says what the rule's own test says, on generated paths.
#[test]
fn the_auth_path_predicate_is_the_rules() {
    let settings =
        runner_policy::vap::settings_from_json(&runner_policy::settings::example().unwrap())
            .unwrap();
    let program =
        Program::compile(&policy_vap::registry_auth_path(&settings, "f").unwrap()).unwrap();
    let mut root = Context::default();
    root.register_all();
    let parts = prop::collection::vec(
        select(
            &[
                "run",
                "user",
                "1000",
                "0",
                "containers",
                "lib",
                "share",
                "home",
                "root",
                "alice",
                ".docker",
                "..",
                "config.json",
                "auth.json",
                ".dockercfg",
                ".config",
                "helm",
                "registry",
                "certs.d",
                "kaniko",
                "x",
            ][..],
        ),
        0..6,
    );
    proptest!(ProptestConfig::with_cases(3000), |(parts in parts)| {
        let mut ctx = root.new_inner_scope();
        ctx.add_variable_from_value("f", runner_policy::vap::to_cel(&json!(parts)));
        let cel = program.execute(&ctx);
        let rule = policy::rules::no_push_credentials::is_registry_auth_path(&parts);
        prop_assert_eq!(cel, Ok(Cel::Bool(rule)), "{:?}", parts);
    });
}
