//! `runner-token-secret`: the runner token only in a Secret of the runners namespace, never
//! in a ConfigMap or a literal env value.

use policy::rule_name::RuleName;
use policy::rules::runner_token_secret as token;

use crate::cel::{get, list};

use super::Builder;
use super::items::{Items, item_of, requested_by};
use super::object::{data_keys, holds_key, written};

const RULE: RuleName = RuleName::RunnerTokenSecret;

pub fn build(b: &mut Builder<'_>) {
    let rns = &b.settings.runners_namespace;
    let keys: Vec<String> = token::TOKEN_KEYS
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .collect();
    let (has_key, which) = data_keys(&format!("x.lowerAscii() in {}", list(&keys)));
    b.validation(
        RULE,
        "Secret outside the runners namespace",
        format!(
            "!({} && !variables.inRunners && {has_key})",
            written("", "Secret")
        ),
        holds_key(
            "runner token key",
            &which,
            &format!(
                "; the runner token belongs only in a Secret in {rns}, where only the runner managers read it; move it there"
            ),
        ),
    );
    b.validation(
        RULE,
        "ConfigMap",
        format!("!({} && {has_key})", written("", "ConfigMap")),
        holds_key(
            "runner token key",
            &which,
            &format!(
                "; ConfigMaps are not for secrets (not encrypted at rest, readable by anyone who may read configuration); put the token in a Secret in {rns}"
            ),
        ),
    );
    let names: Vec<String> = token::TOKEN_ENV
        .iter()
        .map(|n| n.to_ascii_uppercase())
        .collect();
    let literals = Items::new(
        get("c", "env", "[]"),
        "e",
        format!(
            "({} != '' && {}.upperAscii() in {})",
            get("e", "value", "''"),
            get("e", "name", "''"),
            list(&names)
        ),
    );
    b.item_validation(
        RULE,
        "literal env",
        "variables.runnersPod",
        &Items::containers_with(&literals),
        &format!(
            "{} + ') sets the runner token ' + {}.name + ' as a literal value; read it from the runner Secret instead: valueFrom.secretKeyRef {{name: <runner secret>, key: runner-token}}'",
            requested_by(&item_of("container", "c")),
            literals.first()
        ),
    );
}
