//! `runner-namespace`: runners act only in their namespace, with their own identity, and job
//! pods run only there.

use policy::rule_name::RuleName;
use policy::rules::runner_namespace;

use crate::cel::{get, lit, map, re};

use super::Builder;
use super::items::{SUBJECT, requested_by};
use super::object::written;

const RULE: RuleName = RuleName::RunnerNamespace;

pub fn build(b: &mut Builder<'_>) {
    let rns = &b.settings.runners_namespace;
    b.validation(
        RULE,
        "outside the runners namespace",
        "!(variables.runner != '' && !variables.inRunners)".to_owned(),
        format!(
            "variables.who + {} + request.operation + ' of ' + variables.subject + ' is in ' + (variables.ns == '' ? 'a cluster-scoped object' : 'namespace ' + variables.ns) + '; give the ' + variables.runner + {}",
            lit(&format!(" may act only in namespace {rns}, but this ")),
            lit(&format!(" runner no permissions outside {rns}"))
        ),
    );
    // A runner asking for a ServiceAccount token: a TokenRequest, or a token Secret.
    let annotation = lit(runner_namespace::TOKEN_SECRET_ANNOTATION);
    let annotations = get("variables.meta", "annotations", "{}");
    let token_request = "(request.operation == 'CREATE' && request.kind.group == 'authentication.k8s.io' && request.kind.kind == 'TokenRequest' && request.subResource == 'token')";
    let token_secret = format!(
        "({} && {} == 'kubernetes.io/service-account-token')",
        written("", "Secret"),
        get("object", "type", "''")
    );
    b.variable("tokenAsked", format!("{token_request} || {token_secret}"));
    b.variable(
        "tokenAccount",
        format!(
            "{token_request} ? request.name : {annotation} in {annotations} ? {annotations}[{annotation}] : ''"
        ),
    );
    b.validation(
        RULE,
        "borrowed token",
        "!(variables.runner != '' && variables.inRunners && variables.tokenAsked && variables.tokenAccount != variables.runnerServiceAccount)".to_owned(),
        format!(
            "variables.who + ({token_request} ? ' requests a token (serviceaccounts/token)' : ' writes a ServiceAccount token Secret') + ' for ServiceAccount ' + variables.tokenAccount + ', and would act with its identity; a runner may hold only its own ServiceAccount\\'s token (' + variables.runnerServiceAccount + '): job pods get theirs mounted, through automountServiceAccountToken or a projected serviceAccountToken volume'"
        ),
    );
    // GitLab Runner's own labels (`*.runner.gitlab.com/*`), which jobs cannot set.
    let runner_label = re("^([^/]*[.])?runner[.]gitlab[.]com/");
    b.validation(
        RULE,
        "job labels outside",
        format!(
            "!(variables.judgePod && !variables.inRunners && variables.labels.exists(k, k.matches({runner_label})))"
        ),
        format!(
            "{} + {}",
            requested_by(SUBJECT),
            lit(&format!(
                ") carries GitLab Runner job labels outside {rns}; runner job pods run only in {rns}"
            ))
        ),
    );
    let runners = &b.settings.runners;
    let owners = map(runners
        .iter()
        .enumerate()
        // The first runner with a ServiceAccount owns it, as `runner_with_service_account`.
        .filter(|(i, r)| {
            !runners[..*i]
                .iter()
                .any(|o| o.service_account == r.service_account)
        })
        .map(|(_, r)| (r.service_account.clone(), r.runner_type.as_str())));
    let sa = format!(
        "{name} != '' ? {name} : {legacy}",
        name = get("variables.spec", "serviceAccountName", "''"),
        legacy = get("variables.spec", "serviceAccount", "''")
    );
    b.variable("podAccount", sa);
    b.validation(
        RULE,
        "borrowed ServiceAccount",
        format!(
            "!(variables.runnersPod && variables.runner != '' && variables.podAccount in {owners} && {owners}[variables.podAccount] != variables.runner)"
        ),
        format!(
            "{} + ') runs as ServiceAccount ' + variables.podAccount + ' of the ' + {owners}[variables.podAccount] + ' runner; a runner\\'s job pods must not borrow another runner\\'s identity, use the job ServiceAccount of the ' + variables.runner + ' runner'",
            requested_by(SUBJECT)
        ),
    );
}
