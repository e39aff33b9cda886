//! `attic-credentials-from-secret`: Attic credentials reach runner pods only from a Secret: not
//! from a ConfigMap of the runners namespace, a ConfigMap loaded with an `ATTIC_` prefix, or a
//! literal or non-Secret env value.

use policy::rule_name::RuleName;
use policy::rules::attic_credentials_from_secret as attic;

use crate::cel::{bind, get, lit, present};

use super::Builder;
use super::items::{Items, item_of, requested_by};
use super::object::{data_keys, holds_key, written};

const RULE: RuleName = RuleName::AtticCredentialsFromSecret;

const SECRET_ONLY: &str = "Attic credentials must come from a Secret";

pub fn build(b: &mut Builder<'_>) {
    let words: Vec<String> = attic::CREDENTIAL_WORDS
        .iter()
        .map(|w| format!("u.contains({})", lit(&w.to_ascii_uppercase())))
        .collect();
    let is_attic = |x: &str| {
        bind(
            "u",
            &format!("{x}.upperAscii()"),
            &format!("u.startsWith('ATTIC_') && ({})", words.join(" || ")),
        )
    };
    let (has_key, which) = data_keys(&is_attic("x"));
    b.validation(
        RULE,
        "ConfigMap",
        format!(
            "!({} && variables.inRunners && {has_key})",
            written("", "ConfigMap")
        ),
        holds_key(
            "Attic credential",
            &which,
            &format!(
                " in a ConfigMap; {SECRET_ONLY}: put it in a Secret and read it with valueFrom.secretKeyRef"
            ),
        ),
    );
    // A prefix that can start `ATTIC_` (ASCII case folded).
    let prefixed = Items::new(
        get("c", "envFrom", "[]"),
        "f",
        format!(
            "({} && {} != '' && {})",
            present("f", "configMapRef"),
            get("f", "prefix", "''"),
            bind(
                "u",
                "f.prefix.upperAscii()",
                "u.startsWith('ATTIC_') || 'ATTIC_'.startsWith(u)"
            )
        ),
    );
    b.item_validation(
        RULE,
        "envFrom prefix",
        "variables.runnersPod",
        &Items::containers_with(&prefixed),
        &prefixed.with_first(&format!(
            "{} + ') loads ConfigMap ' + {} + ' with prefix ' + f.prefix + {}",
            requested_by(&item_of("container", "c")),
            get("f.configMapRef", "name", "''"),
            lit(&format!(
                ", which can name an Attic credential that the pod spec does not show; {SECRET_ONLY}: load it from a Secret (envFrom.secretRef), or set Attic's other settings as env values"
            ))
        )),
    );
    let envs = Items::new(
        get("c", "env", "[]"),
        "e",
        format!(
            "({} && ({} ? !{} : {} != ''))",
            is_attic(&get("e", "name", "''")),
            present("e", "valueFrom"),
            present("e.valueFrom", "secretKeyRef"),
            get("e", "value", "''")
        ),
    );
    b.item_validation(
        RULE,
        "env",
        "variables.runnersPod",
        &Items::containers_with(&envs),
        &envs.with_first(&format!(
            "{} + ') sets the Attic credential ' + e.name + ({} ? ' from a valueFrom source that is not a Secret' : ' as a literal value') + {}",
            requested_by(&item_of("container", "c")),
            present("e", "valueFrom"),
            lit(&format!(
                "; {SECRET_ONLY}: use valueFrom.secretKeyRef {{name: <attic secret>, key: <key>}}"
            ))
        )),
    );
}
