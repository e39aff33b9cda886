//! `attic-credentials-from-secret`: Attic cache credentials reach Nix runners only from a
//! Secret. In the runners namespace, an env var named `ATTIC_*` with TOKEN, KEY, PASSWORD or
//! SECRET in its name must use `valueFrom.secretKeyRef`: a literal value sits in the pod spec
//! (etcd, `get pod -o yaml`, the job log of `env`), and another `valueFrom` source (ConfigMap,
//! field or resource reference) is not a secret store either.

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::pod::EnvVar;

const RULE: RuleName = RuleName::AtticCredentialsFromSecret;

/// Words that make an `ATTIC_*` variable a credential.
pub const CREDENTIAL_WORDS: [&str; 4] = ["TOKEN", "KEY", "PASSWORD", "SECRET"];

/// `ATTIC_TOKEN`, `attic_server_key`, ...: compared in uppercase, since a shell or tool that
/// reads the lowercase spelling still gets the credential.
pub fn is_attic_credential(name: &str) -> bool {
    // The prefix test first: most variables are not Attic's, and need no uppercase copy.
    let attic = name
        .as_bytes()
        .first_chunk::<6>()
        .is_some_and(|p| p.eq_ignore_ascii_case(b"ATTIC_"));
    attic && {
        // A byte window search: `str::contains` would pull in the two-way string searcher.
        let upper = name.to_ascii_uppercase();
        CREDENTIAL_WORDS
            .iter()
            .any(|w| upper.as_bytes().windows(w.len()).any(|x| x == w.as_bytes()))
    }
}

/// Where an env var's value comes from, when that is not a Secret.
enum Source {
    Literal,
    OtherRef,
}

fn non_secret_source(env: &EnvVar<'_>) -> Option<Source> {
    match &env.value_from {
        Some(from) if from.secret_key_ref.is_some() => None,
        Some(_) => Some(Source::OtherRef),
        // An empty literal carries no credential.
        None => env
            .value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|_| Source::Literal),
    }
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    let subject = ctx.subject();
    for (at, c, env) in pod.env_vars() {
        if !is_attic_credential(&env.name) {
            continue;
        }
        let (field, what) = match non_secret_source(env) {
            None => continue,
            Some(Source::Literal) => ("value", "as a literal value"),
            Some(Source::OtherRef) => ("valueFrom", "from a valueFrom source that is not a Secret"),
        };
        out.push(
            Violation::new(
                RULE,
                format!("{at}.{field}"),
                format!(
                    "container \"{}\" of {subject} (requested by {}) sets the Attic credential {} {what}; Attic credentials must come from a Secret: use valueFrom.secretKeyRef {{name: <attic secret>, key: <key>}}",
                    c.name,
                    ctx.who(),
                    env.name
                ),
            )
            .in_container(&c.name),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::decision::RuleName::AtticCredentialsFromSecret as A;
    use rstest::rstest;
    use serde_json::{Value, json};

    fn env(env: Value) -> Value {
        pod(json!([container("build", json!({"env": env}))]))
    }

    #[rstest]
    #[case::token(env(json!([{"name": "ATTIC_TOKEN", "value": "eyJhbGciOi"}])), "spec.containers[0].env[0].value")]
    #[case::server_key(env(json!([{"name": "ATTIC_SERVER", "value": "http://attic"}, {"name": "ATTIC_SIGNING_KEY", "value": "k"}])), "spec.containers[0].env[1].value")]
    #[case::password(env(json!([{"name": "ATTIC_PASSWORD", "value": "p"}])), "spec.containers[0].env[0].value")]
    #[case::secret(env(json!([{"name": "ATTIC_CLIENT_SECRET", "value": "s"}])), "spec.containers[0].env[0].value")]
    #[case::lowercase(env(json!([{"name": "attic_token", "value": "t"}])), "spec.containers[0].env[0].value")]
    #[case::config_map(env(json!([{"name": "ATTIC_TOKEN", "valueFrom": {"configMapKeyRef": {"name": "attic", "key": "token"}}}])), "spec.containers[0].env[0].valueFrom")]
    fn attic_credentials_not_from_a_secret_are_denied(#[case] pod: Value, #[case] path: &str) {
        for user in [runner("nix"), ADMIN.to_owned()] {
            let d = decide(&create_pod(&user, pod.clone()));
            let got: Vec<_> = d
                .violations
                .iter()
                .map(|v| (v.rule, v.path.as_str()))
                .collect();
            assert_eq!(got, vec![(A, path)], "{user}");
            assert_eq!(d.violations[0].container.as_deref(), Some("build"));
        }
    }

    #[rstest]
    #[case::from_secret(env(json!([{"name": "ATTIC_TOKEN", "valueFrom": {"secretKeyRef": {"name": "attic", "key": "token"}}}])))]
    #[case::empty_literal(env(json!([{"name": "ATTIC_TOKEN", "value": ""}])))]
    #[case::not_a_credential(env(json!([{"name": "ATTIC_SERVER", "value": "http://attic.attic-cache-dev:8080"}, {"name": "ATTIC_CACHE", "value": "nix"}])))]
    #[case::not_attic(env(json!([{"name": "NIX_TOKEN_X", "value": "x"}, {"name": "MY_ATTIC_TOKEN", "value": "x"}])))]
    fn secrets_and_non_credentials_pass(#[case] pod: Value) {
        assert_eq!(rules(&create_pod(&runner("nix"), pod)), vec![]);
    }

    #[test]
    fn every_container_list_and_template_is_judged() {
        let literal = json!([{"name": "ATTIC_TOKEN", "value": "t"}]);
        let mut p = pod(json!([container("build", json!({}))]));
        p["spec"]["initContainers"] =
            json!([{"name": "init-permissions", "image": "alpine", "env": literal}]);
        p["spec"]["ephemeralContainers"] =
            json!([{"name": "debug", "image": "alpine", "env": literal}]);
        let got: Vec<String> = paths(&create_pod(&runner("nix"), p))
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(
            got,
            [
                "spec.initContainers[0].env[0].value",
                "spec.ephemeralContainers[0].env[0].value"
            ]
        );
        let template =
            json!({"spec": {"containers": [{"name": "c", "image": "alpine", "env": literal}]}});
        let input = request(
            "CREATE",
            ADMIN,
            NS,
            "apps",
            "StatefulSet",
            json!({"spec": {"template": template}}),
        );
        assert_eq!(
            paths(&input),
            vec![(
                A,
                "spec.template.spec.containers[0].env[0].value".to_owned()
            )]
        );
    }

    #[test]
    fn message_says_to_use_a_secret_key_ref() {
        let d = decide(&create_pod(
            &runner("nix"),
            env(json!([{"name": "ATTIC_TOKEN", "value": "t"}])),
        ));
        assert_eq!(
            d.violations[0].msg,
            "attic-credentials-from-secret: container \"build\" of Pod acme-runners/runner-abc-project-42-concurrent-0 (requested by system:serviceaccount:acme-runners:gitlab-runner-nix (the nix runner)) sets the Attic credential ATTIC_TOKEN as a literal value; Attic credentials must come from a Secret: use valueFrom.secretKeyRef {name: <attic secret>, key: <key>}"
        );
    }

    #[test]
    fn outside_the_runners_namespace_this_rule_is_silent() {
        let input = request(
            "CREATE",
            ADMIN,
            "attic-cache-dev",
            "",
            "Pod",
            env(json!([{"name": "ATTIC_TOKEN", "value": "t"}])),
        );
        assert!(!rules(&input).contains(&A));
    }
}
