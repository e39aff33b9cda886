//! The generated ValidatingAdmissionPolicy uses no CEL construct on which evaluators disagree
//! (see `runner_policy::vap::lint`), and the largest pod the README promises stays within
//! Kubernetes' cost budgets (see `runner_policy::vap::cost`).

use runner_policy::vap::cost::{self, Sizes};
use runner_policy::vap::{Engine, lint};
use serde_json::json;

fn settings_variants() -> Vec<serde_json::Value> {
    let example = runner_policy::settings::example().unwrap();
    let mut services = example.clone();
    services["dindPrivilegedContainers"] = json!("services");
    services["exemptUsers"] = json!(["cluster-admin-bob"]);
    let mut bare = example.clone();
    bare["registryCredentialSecrets"] = json!([]);
    bare["pushAllowedProjects"] = json!([]);
    bare["allowedRegistries"] = json!([]);
    bare["privilegedRunnerTypes"] = json!([]);
    vec![example, services, bare]
}

#[test]
fn the_generated_policy_passes_the_lint() {
    for settings in settings_variants() {
        let engine = Engine::from_settings(&settings).unwrap();
        let findings = lint::lint_policy(engine.vap());
        assert!(
            findings.is_empty(),
            "{}",
            findings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn the_promised_pod_stays_within_the_cost_budgets() {
    for settings in settings_variants() {
        let engine = Engine::from_settings(&settings).unwrap();
        let estimate = cost::estimate(engine.vap(), &Sizes::PROMISED);
        for (part, check, message) in &estimate.validations {
            eprintln!("{check:>9} {message:>9}  {part}");
        }
        let (max, total) = (estimate.max_expression(), estimate.per_evaluation());
        eprintln!("largest expression {max}, one evaluation {total}");
        assert!(max < 1_000_000, "an expression may cost {max}");
        assert!(total < 10_000_000, "an evaluation may cost {total}");
    }
    // The estimate grows with the pod: a pod twice as large in every list costs more.
    let engine = Engine::from_settings(&runner_policy::settings::example().unwrap()).unwrap();
    let double = Sizes {
        containers: 20,
        env: 100,
        mounts: 40,
        volumes: 100,
        ..Sizes::PROMISED
    };
    assert!(
        cost::estimate(engine.vap(), &double).per_evaluation()
            > cost::estimate(engine.vap(), &Sizes::PROMISED).per_evaluation()
    );
}
