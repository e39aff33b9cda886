//! `runner-namespace`: runner identities act only inside the runners namespace, runner job pods
//! live only there, and a runner's job pods never borrow another runner's ServiceAccount.

use super::Context;
use crate::decision::{RuleName, Violation};

const RULE: RuleName = RuleName::RunnerNamespace;

/// Label keys the GitLab Runner sets and jobs cannot override (`*.runner.gitlab.com/*`).
fn is_runner_label(key: &str) -> bool {
    key.split_once('/')
        .is_some_and(|(prefix, _)| prefix == "runner.gitlab.com" || prefix.ends_with(".runner.gitlab.com"))
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let runners_ns = ctx.settings.runners_namespace.as_str();
    if let Some(runner) = ctx.requester
        && !ctx.in_runners_namespace() {
            let op = ctx.request.operation.as_str();
            let (path, place) = if ctx.namespace.is_empty() {
                ("request.kind", "a cluster-scoped object".to_owned())
            } else {
                ("request.namespace", format!("namespace {}", ctx.namespace))
            };
            out.push(Violation::new(
                RULE,
                path,
                format!(
                    "{} may act only in namespace {runners_ns}, but this {op} of {} is in {place}; give the {} runner no permissions outside {runners_ns}",
                    ctx.who(),
                    ctx.object_ref(),
                    runner.runner_type.as_str()
                ),
            ));
        }
    let Some(pod) = ctx.pod() else {
        return;
    };
    if !ctx.in_runners_namespace() {
        if let Some(key) = pod.meta.labels.keys().find(|k| is_runner_label(k)) {
            out.push(Violation::new(
                RULE,
                format!("{}metadata.labels[\"{key}\"]", pod.prefix),
                format!(
                    "{} (requested by {}) carries GitLab Runner job labels outside {runners_ns}; runner job pods run only in {runners_ns}",
                    ctx.object_ref(),
                    ctx.who()
                ),
            ));
        }
        return;
    }
    let (Some(requester), Some((field, sa))) = (ctx.requester, pod.spec.service_account()) else {
        return;
    };
    if let Some(owner) = ctx.settings.runner_with_service_account(sa)
        && owner.runner_type != requester.runner_type {
            out.push(Violation::new(
                RULE,
                format!("{}spec.{field}", pod.prefix),
                format!(
                    "{} (requested by {}) runs as ServiceAccount {sa} of the {} runner; a runner's job pods must not borrow another runner's identity, use the job ServiceAccount of the {} runner",
                    ctx.object_ref(),
                    ctx.who(),
                    owner.runner_type.as_str(),
                    requester.runner_type.as_str()
                ),
            ));
        }
}
