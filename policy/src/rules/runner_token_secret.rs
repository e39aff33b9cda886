//! `runner-token-secret`: the runner token lives only in a Secret of the runners namespace.
//! Denied: a Secret holding a runner token key elsewhere, a ConfigMap holding one anywhere (a
//! ConfigMap is readable by far more identities than a Secret), and a runner token written as a
//! literal env value in a workload of the runners namespace (it would sit in the pod spec, in
//! etcd unencrypted and in every `get pod -o yaml`).

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::Object;
use crate::request::json::same_ignoring_case;
use crate::request::object::DataObject;
use alloc::{format, vec::Vec};

const RULE: RuleName = RuleName::RunnerTokenSecret;

/// The keys the GitLab Runner Helm chart reads the token from (`runners.secret`).
pub const TOKEN_KEYS: [&str; 2] = ["runner-registration-token", "runner-token"];

/// Env vars through which `gitlab-runner register`/`run` take a token.
pub const TOKEN_ENV: [&str; 4] = [
    "RUNNER_TOKEN",
    "REGISTRATION_TOKEN",
    "RUNNER_REGISTRATION_TOKEN",
    "CI_SERVER_TOKEN",
];

/// The letter every name of [`TOKEN_ENV`] ends with, lowercase (a compile error if one does
/// not): tested first, it settles nearly every env var of a job pod without a compare.
#[allow(clippy::indexing_slicing)] // evaluated at compile time
const TOKEN_ENV_LAST: u8 = {
    let mut i = 0;
    while i < TOKEN_ENV.len() {
        let name = TOKEN_ENV[i].as_bytes();
        assert!(!name.is_empty() && name[name.len() - 1] | 0x20 == b'n');
        i += 1;
    }
    b'n'
};

/// Keys and names are compared case-insensitively: `Runner-Token` holds the same secret, and a
/// false match only asks for the token to move where it belongs.
fn is_token_key(key: &str) -> bool {
    TOKEN_KEYS
        .iter()
        .any(|k| same_ignoring_case(k.as_bytes(), key.as_bytes()))
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let runners_ns = ctx.settings.runners_namespace.as_str();
    match ctx.written() {
        Some(Object::Secret(secret)) if !ctx.in_runners_namespace() => data_keys(
            ctx,
            secret,
            &format!(
                "the runner token belongs only in a Secret in {runners_ns}, where only the runner managers read it; move it there"
            ),
            out,
        ),
        Some(Object::ConfigMap(map)) => data_keys(
            ctx,
            map,
            &format!(
                "ConfigMaps are not for secrets (not encrypted at rest, readable by anyone who may read configuration); put the token in a Secret in {runners_ns}"
            ),
            out,
        ),
        _ => {}
    }
    literal_env(ctx, out);
}

fn data_keys(ctx: &Context<'_, '_>, object: &DataObject<'_>, fix: &str, out: &mut Vec<Violation>) {
    for (field, key) in object.keys_where(is_token_key) {
        out.push(Violation::new(
            RULE,
            format!("{field}[\"{key}\"]"),
            format!(
                "{} (requested by {}) holds the runner token key `{key}` in {field}; {fix}",
                ctx.object_ref(),
                ctx.who()
            ),
        ));
    }
}

/// Runner tokens as literal env values in the runners namespace. An empty literal carries no
/// token and is allowed (the API server also treats `value: ""` as unset beside `valueFrom`);
/// `valueFrom` (a Secret reference) is the way to pass it.
fn literal_env(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    let subject = ctx.subject();
    for (at, c, env) in pod.env_vars() {
        let literal = env.value.as_ref().is_some_and(|v| !v.is_empty());
        let last = env.name.as_bytes().last().map(|&b| b | 0x20);
        if !literal
            || last != Some(TOKEN_ENV_LAST)
            || !TOKEN_ENV
                .iter()
                .any(|n| same_ignoring_case(n.as_bytes(), env.name.as_bytes()))
        {
            continue;
        }
        out.push(
            Violation::new(
                RULE,
                format!("{at}.value"),
                format!(
                    "container \"{}\" of {subject} (requested by {}) sets the runner token {} as a literal value; read it from the runner Secret instead: valueFrom.secretKeyRef {{name: <runner secret>, key: runner-token}}",
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
    use crate::decision::RuleName::RunnerTokenSecret as T;
    use crate::testing::{ADMIN, NS, Req, container, create_pod, decide, paths, pod, rules};
    use rstest::rstest;
    use serde_json::{Value, json};

    fn secret(data: Value) -> Value {
        let mut s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gitlab-runner"}, "type": "Opaque"});
        s.as_object_mut()
            .unwrap()
            .extend(data.as_object().unwrap().clone());
        s
    }

    fn config_map(data: Value) -> Value {
        let mut s =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gitlab-runner"}});
        s.as_object_mut()
            .unwrap()
            .extend(data.as_object().unwrap().clone());
        s
    }

    fn env(env: Value) -> Value {
        pod(json!([container("build", json!({"env": env}))]))
    }

    #[rstest]
    #[case::secret_elsewhere("default", "Secret", secret(json!({"data": {"runner-token": "Z2xydC14eHg="}})), "data[\"runner-token\"]")]
    #[case::registration_token_elsewhere("gitlab", "Secret", secret(json!({"data": {"runner-registration-token": "eA=="}})), "data[\"runner-registration-token\"]")]
    #[case::string_data_elsewhere("default", "Secret", secret(json!({"stringData": {"runner-token": "glrt-xxx"}})), "stringData[\"runner-token\"]")]
    #[case::case_variant("default", "Secret", secret(json!({"data": {"other": "eA==", "Runner-Token": "eA=="}})), "data[\"Runner-Token\"]")]
    #[case::config_map_elsewhere("default", "ConfigMap", config_map(json!({"data": {"runner-token": "glrt-xxx"}})), "data[\"runner-token\"]")]
    #[case::config_map_in_runners_ns(NS, "ConfigMap", config_map(json!({"data": {"runner-registration-token": "x"}})), "data[\"runner-registration-token\"]")]
    #[case::config_map_binary(NS, "ConfigMap", config_map(json!({"binaryData": {"runner-token": "eA=="}})), "binaryData[\"runner-token\"]")]
    fn token_keys_outside_a_runners_secret_are_denied(
        #[case] ns: &str,
        #[case] kind: &str,
        #[case] object: Value,
        #[case] path: &str,
    ) {
        for op in ["CREATE", "UPDATE"] {
            let input = Req::op(op, object.clone()).ns(ns).kind(kind);
            assert_eq!(paths(&input), vec![(T, path.to_owned())], "{op}");
        }
    }

    #[rstest]
    #[case::runners_secret(NS, "Secret", secret(json!({"data": {"runner-token": "eA==", "runner-registration-token": ""}})))]
    #[case::other_keys_elsewhere("default", "Secret", secret(json!({"data": {"token": "eA==", "runner-tokens": "eA=="}})))]
    #[case::config_map_other_keys(NS, "ConfigMap", config_map(json!({"data": {"config.toml": "concurrent = 4"}})))]
    fn token_keys_in_the_runners_secret_and_other_keys_pass(
        #[case] ns: &str,
        #[case] kind: &str,
        #[case] object: Value,
    ) {
        assert_eq!(rules(&Req::create(object).ns(ns).kind(kind)), vec![]);
    }

    #[test]
    fn deleting_a_secret_elsewhere_is_not_judged() {
        let input = Req::delete().ns("default").kind("Secret");
        assert!(!rules(&input).contains(&T));
    }

    #[rstest]
    #[case::runner_token(env(json!([{"name": "RUNNER_TOKEN", "value": "glrt-xxx"}])), "spec.containers[0].env[0].value")]
    #[case::registration(env(json!([{"name": "A", "value": "b"}, {"name": "REGISTRATION_TOKEN", "value": "x"}])), "spec.containers[0].env[1].value")]
    #[case::runner_registration(env(json!([{"name": "RUNNER_REGISTRATION_TOKEN", "value": "x"}])), "spec.containers[0].env[0].value")]
    #[case::ci_server_token(env(json!([{"name": "CI_SERVER_TOKEN", "value": "x"}])), "spec.containers[0].env[0].value")]
    #[case::lowercase(env(json!([{"name": "runner_token", "value": "x"}])), "spec.containers[0].env[0].value")]
    #[case::mixed_case(env(json!([{"name": "Ci_Server_ToKeN", "value": "x"}])), "spec.containers[0].env[0].value")]
    fn literal_tokens_in_env_are_denied(#[case] pod: Value, #[case] path: &str) {
        let d = decide(&create_pod(ADMIN, pod));
        assert_eq!(
            d.violations
                .iter()
                .map(|v| (v.rule, v.path.as_str()))
                .collect::<Vec<_>>(),
            vec![(T, path)]
        );
        assert_eq!(d.violations[0].container.as_deref(), Some("build"));
    }

    #[rstest]
    #[case::from_secret(env(json!([{"name": "RUNNER_TOKEN", "valueFrom": {"secretKeyRef": {"name": "gitlab-runner", "key": "runner-token"}}}])))]
    #[case::empty_literal(env(json!([{"name": "RUNNER_TOKEN", "value": ""}])))]
    #[case::other_names(env(json!([{"name": "CI_JOB_TOKEN", "value": "x"}, {"name": "RUNNER_TOKEN_FILE", "value": "/secrets/token"}])))]
    fn tokens_from_secrets_pass(#[case] pod: Value) {
        assert_eq!(rules(&create_pod(ADMIN, pod)), vec![]);
    }

    #[test]
    fn every_container_list_and_template_is_judged() {
        let literal = json!([{"name": "RUNNER_TOKEN", "value": "x"}]);
        let template = json!({"spec": {"initContainers": [{"name": "register", "image": "alpine", "env": literal}], "containers": [{"name": "runner", "image": "alpine"}]}});
        let input = Req::create(
            json!({"metadata": {"name": "gitlab-runner"}, "spec": {"template": template}}),
        )
        .group("apps")
        .kind("Deployment");
        assert_eq!(
            paths(&input),
            vec![(
                T,
                "spec.template.spec.initContainers[0].env[0].value".to_owned()
            )]
        );
        let msg = &decide(&input).violations[0].msg;
        assert_eq!(
            msg,
            "runner-token-secret: container \"register\" of Deployment acme-runners/gitlab-runner (requested by kubernetes-admin) sets the runner token RUNNER_TOKEN as a literal value; read it from the runner Secret instead: valueFrom.secretKeyRef {name: <runner secret>, key: runner-token}"
        );
    }

    #[test]
    fn secret_message_names_object_key_and_fix() {
        let input = Req::create(secret(json!({"data": {"runner-token": "eA=="}})))
            .ns("default")
            .kind("Secret");
        assert_eq!(
            decide(&input).violations[0].msg,
            "runner-token-secret: Secret default/gitlab-runner (requested by kubernetes-admin) holds the runner token key `runner-token` in data; the runner token belongs only in a Secret in acme-runners, where only the runner managers read it; move it there"
        );
    }
}
