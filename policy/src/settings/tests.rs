use super::*;
use serde_json::{Value, json};

impl Settings {
    /// The settings, or the text of each problem (as the module reports them).
    fn from_value(value: &Value, source: Source) -> Result<Settings, Vec<String>> {
        let text = serde_json::to_vec(value).unwrap();
        Settings::from_json(
            crate::request::json::Doc::parse(&text).unwrap().root(),
            source,
        )
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }
}

fn example() -> Value {
    json!({
        "org": "acme",
        "runners": [
            {"type": "dind", "serviceAccount": "gitlab-runner-dind"},
            {"type": "docker", "serviceAccount": "gitlab-runner-docker"},
        ]
    })
}

#[test]
fn defaults_fill_what_is_not_given() {
    let s = Settings::from_value(&example(), Source::Parameters).unwrap();
    assert_eq!(s.runners_namespace, "acme-runners");
    assert_eq!(s.privileged_runner_types, vec![RunnerType::Dind]);
    assert_eq!(s.dind_privileged_containers, DindPrivilegedContainers::All);
    assert_eq!(s.attic_namespace, "attic-cache-dev");
    assert_eq!(
        s.allowed_registries,
        vec!["docker.io", "registry.gitlab.com"]
    );
    assert!(s.exempt_users.is_empty());
}

/// Registries are kept as image references' registries are compared, so that the rule need
/// not normalise them on every evaluation.
#[test]
fn allowed_registries_are_kept_normalised() {
    let mut v = example();
    v["allowedRegistries"] = json!(["Quay.IO", "index.docker.io", "Localhost:5000"]);
    let s = Settings::from_value(&v, Source::Parameters).unwrap();
    assert_eq!(
        s.allowed_registries,
        vec!["quay.io", "docker.io", "localhost:5000"]
    );
}

#[test]
fn explicit_namespace_wins_over_org() {
    let mut v = example();
    v["runnersNamespace"] = json!("ci");
    assert_eq!(
        Settings::from_value(&v, Source::Parameters)
            .unwrap()
            .runners_namespace,
        "ci"
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let v = json!({
        "runners": [{"type": "rocky10", "serviceAccount": "Bad_Name"}, 7],
        "privilegedRunnerTypes": ["dind", "gpu"],
        "dindPrivilegedContainers": "some",
        "pushAllowedProjects": [4242],
        "atticNamespace": "Attic NS",
        "typo": true
    });
    let errors = Settings::from_value(&v, Source::Parameters).unwrap_err();
    let joined = errors.join("\n");
    for needle in [
        "settings.typo",
        "settings.org",
        "settings.runners[0].type",
        "settings.runners[0].serviceAccount",
        "settings.runners[1]",
        "settings.privilegedRunnerTypes[1]",
        "settings.dindPrivilegedContainers",
        "settings.pushAllowedProjects[0]",
        "settings.atticNamespace",
    ] {
        assert!(joined.contains(needle), "missing {needle} in:\n{joined}");
    }
    assert_eq!(errors.len(), 9, "{joined}");
}

#[test]
fn an_invalid_namespace_is_reported_under_the_key_that_gave_it() {
    let mut v = example();
    v["org"] = json!("Example_Org");
    let errors = Settings::from_value(&v, Source::Data).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("settings.org: the runners namespace `Example_Org-runners` "),
        "{errors:?}"
    );
    v["runnersNamespace"] = json!("Runners");
    let errors = Settings::from_value(&v, Source::Data).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("settings.runnersNamespace: "),
        "{errors:?}"
    );
}

#[test]
fn exempt_users_never_name_a_runner_manager() {
    let mut v = example();
    let ns = Settings::from_value(&v, Source::Data)
        .unwrap()
        .runners_namespace;
    v["exemptUsers"] = json!([
        format!("system:serviceaccount:{ns}:gitlab-runner-dind"),
        "alice"
    ]);
    let errors = Settings::from_value(&v, Source::Data).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("settings.exemptUsers[0]: "),
        "{errors:?}"
    );
    // The same ServiceAccount name in another namespace is another identity.
    v["exemptUsers"] = json!(["system:serviceaccount:ops:gitlab-runner-dind", "alice"]);
    assert!(Settings::from_value(&v, Source::Data).is_ok());
}

#[test]
fn engine_keys_are_tolerated_only_in_data() {
    let mut v = example();
    v["kubernetes"] = json!({});
    v["inventory"] = json!({});
    assert!(Settings::from_value(&v, Source::Data).is_ok());
    assert!(Settings::from_value(&v, Source::Parameters).is_err());
}

#[test]
fn runner_identity_is_exact() {
    let s = Settings::from_value(&example(), Source::Parameters).unwrap();
    let t = |u: &str| s.runner_for(u).map(|r| r.runner_type);
    assert_eq!(
        t("system:serviceaccount:acme-runners:gitlab-runner-dind"),
        Some(RunnerType::Dind)
    );
    assert_eq!(
        t("system:serviceaccount:acme-runners:gitlab-runner-dind2"),
        None
    );
    assert_eq!(t("system:serviceaccount:other:gitlab-runner-dind"), None);
    assert_eq!(
        t("system:serviceaccount:acme-runners-x:gitlab-runner-dind"),
        None
    );
    assert_eq!(t("gitlab-runner-dind"), None);
}

#[test]
fn duplicate_service_accounts_are_rejected() {
    let v = json!({"org": "a", "runners": [
        {"type": "dind", "serviceAccount": "x"}, {"type": "docker", "serviceAccount": "x"}]});
    assert!(Settings::from_value(&v, Source::Parameters).is_err());
}

#[test]
fn the_runners_list_is_required_and_must_be_a_list() {
    let required = "settings.runners: required, one entry per runner manager, e.g. [{type: dind, serviceAccount: gitlab-runner-dind}]";
    let cases = [
        (json!({"org": "acme"}), required),
        (json!({"org": "acme", "runners": null}), required),
        (json!({"org": "acme", "runners": []}), required),
        (
            json!({"org": "acme", "runners": "dind"}),
            "settings.runners: must be a list, got a string",
        ),
    ];
    for (settings, want) in cases {
        let errors = Settings::from_value(&settings, Source::Parameters).unwrap_err();
        assert_eq!(errors, vec![want.to_owned()], "{settings}");
    }
}
