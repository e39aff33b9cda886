//! `attic-credentials-from-secret`: Attic cache credentials reach Nix runners only from a
//! Secret. In the runners namespace, an env var named `ATTIC_*` with TOKEN, KEY, PASSWORD or
//! SECRET in its name must use `valueFrom.secretKeyRef`: a literal value sits in the pod spec
//! (etcd, `get pod -o yaml`, the job log of `env`), and another `valueFrom` source (ConfigMap,
//! field or resource reference) is not a secret store either. For the same reason a ConfigMap
//! of the runners namespace may not hold such a key, and a ConfigMap loaded whole (`envFrom`)
//! may not be given a prefix that makes its keys `ATTIC_*` variables the pod spec does not show.

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::Object;
use crate::request::pod::EnvVar;
use alloc::{format, string::String, vec::Vec};

const RULE: RuleName = RuleName::AtticCredentialsFromSecret;

/// Words that make an `ATTIC_*` variable a credential.
pub const CREDENTIAL_WORDS: [&str; 4] = ["TOKEN", "KEY", "PASSWORD", "SECRET"];

/// `ATTIC_TOKEN`, `attic_server_key`, ...: compared in uppercase, since a shell or tool that
/// reads the lowercase spelling still gets the credential.
#[inline(always)]
pub fn is_attic_credential(name: &str) -> bool {
    // The first letter settles nearly every name (a job pod's env is `CI_*`, `FF_*`, `HOME`):
    // tested in place, it saves two calls per env var.
    name.as_bytes().first().is_some_and(|&b| b | 0x20 == b'a') && attic_credential(name)
}

/// [`is_attic_credential`] for a name that starts with an `a` in either case.
fn attic_credential(name: &str) -> bool {
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

/// Whether a prefix can start an Attic variable's name (`ATTIC_`, `ATTIC_CACHE_`, `ATT`).
fn could_start_attic_name(prefix: &str) -> bool {
    let n = prefix.len().min(6);
    match (prefix.as_bytes().get(..n), b"ATTIC_".get(..n)) {
        (Some(p), Some(a)) => n > 0 && p.eq_ignore_ascii_case(a),
        _ => false,
    }
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    if let Some(Object::ConfigMap(map)) = ctx.written().filter(|_| ctx.in_runners_namespace()) {
        for (field, key) in map.keys_where(is_attic_credential) {
            deny(
                ctx,
                out,
                format!("{field}[\"{key}\"]"),
                None,
                format_args!(
                    "holds the Attic credential {key} in a ConfigMap; {SECRET_ONLY}: put it in a Secret and read it with valueFrom.secretKeyRef"
                ),
            );
        }
    }
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    for (list, i, c) in pod.containers() {
        for (j, from) in c.env_from.iter().enumerate() {
            if let (Some(map), Some(prefix)) = (&from.config_map_ref, from.prefix.as_deref())
                && could_start_attic_name(prefix)
            {
                deny(
                    ctx,
                    out,
                    format!(
                        "{}spec.{}[{i}].envFrom[{j}].prefix",
                        pod.prefix,
                        list.field()
                    ),
                    Some(&c.name),
                    format_args!(
                        "loads ConfigMap {} with prefix {prefix}, which can name an Attic credential that the pod spec does not show; {SECRET_ONLY}: load it from a Secret (envFrom.secretRef), or set Attic's other settings as env values",
                        map.name.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
    for (at, c, env) in pod.env_vars() {
        if !is_attic_credential(&env.name) {
            continue;
        }
        let (field, what) = match non_secret_source(env) {
            None => continue,
            Some(Source::Literal) => ("value", "as a literal value"),
            Some(Source::OtherRef) => ("valueFrom", "from a valueFrom source that is not a Secret"),
        };
        deny(
            ctx,
            out,
            format!("{at}.{field}"),
            Some(&c.name),
            format_args!(
                "sets the Attic credential {} {what}; {SECRET_ONLY}: use valueFrom.secretKeyRef {{name: <attic secret>, key: <key>}}",
                env.name
            ),
        );
    }
}

const SECRET_ONLY: &str = "Attic credentials must come from a Secret";

/// Every denial of this rule names the object (and container), the requester, what was found
/// and what to do instead.
fn deny(
    ctx: &Context<'_, '_>,
    out: &mut Vec<Violation>,
    path: String,
    container: Option<&str>,
    what: core::fmt::Arguments<'_>,
) {
    let subject = ctx.object_ref();
    let who = ctx.who();
    let v = match container {
        Some(c) => Violation::new(
            RULE,
            path,
            format!("container \"{c}\" of {subject} (requested by {who}) {what}"),
        )
        .in_container(c),
        None => Violation::new(RULE, path, format!("{subject} (requested by {who}) {what}")),
    };
    out.push(v);
}

#[cfg(test)]
mod tests {
    use crate::decision::RuleName::AtticCredentialsFromSecret as A;
    use crate::testing::{ADMIN, Req, container, create_pod, decide, paths, pod, rules, runner};
    use rstest::rstest;
    use serde_json::{Value, json};

    /// The prefix test is `eq_ignore_ascii_case` on `ATTIC_`: every ASCII byte in each of its
    /// six places, and a name too short to have it.
    #[test]
    fn the_prefix_ignores_case_and_nothing_else() {
        let oracle = |name: &str| {
            name.as_bytes()
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"ATTIC_"))
                && name.to_ascii_uppercase().contains("TOKEN")
        };
        for at in 0..6 {
            for byte in 0..0x80u8 {
                let mut name = b"ATTIC_TOKEN".to_vec();
                name[at] = byte;
                let name = String::from_utf8(name).unwrap();
                assert_eq!(super::is_attic_credential(&name), oracle(&name), "{name:?}");
            }
        }
        assert!(super::is_attic_credential("attic_token"));
        assert!(!super::is_attic_credential("ÄTTIC_TOKEN"));
        assert!(!super::is_attic_credential("ATTIC"));
    }

    fn env(env: Value) -> Value {
        pod(json!([container("build", json!({"env": env}))]))
    }

    fn env_from(source: Value) -> Value {
        pod(json!([container("build", json!({"envFrom": [source]}))]))
    }

    #[rstest]
    #[case::token(env(json!([{"name": "ATTIC_TOKEN", "value": "eyJhbGciOi"}])), "spec.containers[0].env[0].value")]
    #[case::server_key(env(json!([{"name": "ATTIC_SERVER", "value": "http://attic"}, {"name": "ATTIC_SIGNING_KEY", "value": "k"}])), "spec.containers[0].env[1].value")]
    #[case::password(env(json!([{"name": "ATTIC_PASSWORD", "value": "p"}])), "spec.containers[0].env[0].value")]
    #[case::secret(env(json!([{"name": "ATTIC_CLIENT_SECRET", "value": "s"}])), "spec.containers[0].env[0].value")]
    #[case::lowercase(env(json!([{"name": "attic_token", "value": "t"}])), "spec.containers[0].env[0].value")]
    #[case::config_map(env(json!([{"name": "ATTIC_TOKEN", "valueFrom": {"configMapKeyRef": {"name": "attic", "key": "token"}}}])), "spec.containers[0].env[0].valueFrom")]
    #[case::config_map_with_attic_prefix(env_from(json!({"configMapRef": {"name": "attic"}, "prefix": "ATTIC_"})), "spec.containers[0].envFrom[0].prefix")]
    #[case::config_map_with_part_of_it(env_from(json!({"configMapRef": {"name": "attic"}, "prefix": "att"})), "spec.containers[0].envFrom[0].prefix")]
    #[case::config_map_with_longer_prefix(env_from(json!({"configMapRef": {"name": "attic"}, "prefix": "ATTIC_CACHE_"})), "spec.containers[0].envFrom[0].prefix")]
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
    #[case::secret_with_attic_prefix(env_from(json!({"secretRef": {"name": "attic"}, "prefix": "ATTIC_"})))]
    #[case::config_map_without_prefix(env_from(json!({"configMapRef": {"name": "ci"}})))]
    #[case::config_map_other_prefix(env_from(json!({"configMapRef": {"name": "ci"}, "prefix": "NIX_"})))]
    fn secrets_and_non_credentials_pass(#[case] pod: Value) {
        assert_eq!(rules(&create_pod(&runner("nix"), pod)), vec![]);
    }

    /// Without a prefix a ConfigMap's keys are the variables' names: one of the runners
    /// namespace may not hold an Attic credential. Elsewhere it is not this rule's business.
    #[rstest]
    #[case::in_data("data", "ATTIC_TOKEN", Some("data[\"ATTIC_TOKEN\"]"))]
    #[case::lowercase(
        "binaryData",
        "attic_signing_key",
        Some("binaryData[\"attic_signing_key\"]")
    )]
    #[case::settings_only("data", "ATTIC_SERVER", None)]
    fn attic_credentials_in_config_maps_are_denied(
        #[case] field: &str,
        #[case] key: &str,
        #[case] path: Option<&str>,
    ) {
        let map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "attic"}, field: {key: "x"}});
        let want: Vec<_> = path.map(|p| (A, p.to_owned())).into_iter().collect();
        let here = Req::create(map.clone())
            .by(&runner("nix"))
            .kind("ConfigMap");
        assert_eq!(paths(&here), want);
        let elsewhere = Req::create(map).ns("attic-cache-dev").kind("ConfigMap");
        assert!(rules(&elsewhere).is_empty());
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
        let input = Req::create(json!({"spec": {"template": template}}))
            .group("apps")
            .kind("StatefulSet");
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
}
