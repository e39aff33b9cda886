//! The rules, one per file. Each reads the [`Context`] and pushes what it finds; none does I/O
//! or knows about dialects.

use alloc::vec::Vec;

pub mod attic_credentials_from_secret;
pub mod dind_only_privilege;
pub mod namespaced_rbac;
pub mod no_host_access;
pub mod no_push_credentials;
pub mod public_registries;
pub mod runner_egress;
pub mod runner_namespace;
pub mod runner_token_secret;

pub mod context;

pub use context::Context;

use crate::decision::{RuleName, Violation};

/// A rule: reads the context, appends violations.
pub type Check = fn(&Context<'_, '_>, &mut Vec<Violation>);

/// Every rule in report order. `valid-request` is not here: it is the evaluation's own verdict
/// on input it cannot judge.
pub const RULES: [(RuleName, Check); 9] = [
    (RuleName::DindOnlyPrivilege, dind_only_privilege::check),
    (RuleName::NoHostAccess, no_host_access::check),
    (RuleName::RunnerNamespace, runner_namespace::check),
    (RuleName::NoPushCredentials, no_push_credentials::check),
    (RuleName::NamespacedRbac, namespaced_rbac::check),
    (RuleName::RunnerTokenSecret, runner_token_secret::check),
    (
        RuleName::AtticCredentialsFromSecret,
        attic_credentials_from_secret::check,
    ),
    (RuleName::PublicRegistries, public_registries::check),
    (RuleName::RunnerEgress, runner_egress::check),
];

/// Runs every rule, in report order.
pub fn run_all(ctx: &Context<'_, '_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (_, check) in RULES {
        check(ctx, &mut out);
    }
    out
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::RULES;
    use crate::decision::RuleName;

    #[test]
    fn the_rules_run_are_every_rule_but_valid_request_in_report_order() {
        let run: Vec<RuleName> = RULES.iter().map(|(rule, _)| *rule).collect();
        let (valid_request, judged) = RuleName::ALL.split_last().unwrap();
        assert_eq!(run, judged);
        assert_eq!(*valid_request, RuleName::ValidRequest);
    }
}
