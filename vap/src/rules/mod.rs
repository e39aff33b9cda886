//! The rules in CEL, one module per rule module of the policy crate, each `build` mirroring its
//! module's `check`; the equivalence tests in host-tests hold them to it. [`context`] builds the
//! variables every rule reads, as the policy crate's `Context`.

mod attic_credentials_from_secret;
mod dind_only_privilege;
mod namespaced_rbac;
mod no_host_access;
mod no_push_credentials;
mod public_registries;
mod runner_egress;
mod runner_namespace;
mod runner_token_secret;

mod context;
mod items;
mod object;

pub use no_push_credentials::auth_parts;

use policy::rule_name::RuleName;
use policy::settings::Settings;

use crate::cel::lit;
use crate::source::Private;
use crate::{Validation, Variable};

/// Builds one rule's variables and validations.
type Build = fn(&mut Builder<'_>);

/// Every rule in report order, as `policy::rules::RULES`.
const RULES: [(RuleName, Build); 9] = [
    (RuleName::DindOnlyPrivilege, dind_only_privilege::build),
    (RuleName::NoHostAccess, no_host_access::build),
    (RuleName::RunnerNamespace, runner_namespace::build),
    (RuleName::NoPushCredentials, no_push_credentials::build),
    (RuleName::NamespacedRbac, namespaced_rbac::build),
    (RuleName::RunnerTokenSecret, runner_token_secret::build),
    (
        RuleName::AtticCredentialsFromSecret,
        attic_credentials_from_secret::build,
    ),
    (RuleName::PublicRegistries, public_registries::build),
    (RuleName::RunnerEgress, runner_egress::build),
];

/// The variables and validations of the generated policy, in the order they are built.
pub struct Builder<'s> {
    settings: &'s Settings,
    private: &'s Private,
    pub variables: Vec<Variable>,
    pub validations: Vec<Validation>,
}

impl<'s> Builder<'s> {
    pub fn new(settings: &'s Settings, private: &'s Private) -> Self {
        Builder {
            settings,
            private,
            variables: Vec::new(),
            validations: Vec::new(),
        }
    }

    /// The request context, then every rule in report order.
    pub fn build_all(&mut self) {
        context::build(self);
        for (_, build) in RULES {
            build(self);
        }
    }

    fn variable(&mut self, name: &str, expression: String) {
        self.variables.push(Variable {
            name: name.to_owned(),
            expression,
        });
    }

    fn validation(&mut self, rule: RuleName, part: &str, ok: String, message: String) {
        self.validations.push(Validation {
            rule,
            part: part.to_owned(),
            expression: ok,
            message_expression: format!("{} + {message}", lit(&format!("{rule}: "))),
            message: format!(
                "{rule}: denied ({part}); the module (`runner-policy eval`) explains it in full"
            ),
        });
    }

    /// A validation that fails when `guard` holds and some item of `items` is bad; `message`
    /// reads the first bad item as `items`' variable.
    fn item_validation(
        &mut self,
        rule: RuleName,
        part: &str,
        guard: &str,
        items: &items::Items,
        message: &str,
    ) {
        self.validation(
            rule,
            part,
            format!("!{guard} || !{}", items.exist()),
            items.with_first(message),
        );
    }

    fn runners_ns(&self) -> String {
        lit(&self.settings.runners_namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_built_in_the_policy_crates_report_order() {
        let ours: Vec<RuleName> = RULES.iter().map(|(rule, _)| *rule).collect();
        let theirs: Vec<RuleName> = policy::rules::RULES.iter().map(|(rule, _)| *rule).collect();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn every_validation_belongs_to_the_rule_that_built_it() {
        let settings = crate::settings_from_json(&serde_json::json!({
            "org": "example",
            "runners": [{"type": "dind", "serviceAccount": "gitlab-runner-dind"}],
            "privilegedRunnerTypes": ["dind"],
            "atticNamespace": "attic",
            "registryCredentialSecrets": ["push"],
        }))
        .unwrap();
        let private = Private::read().unwrap();
        for (rule, build) in RULES {
            let mut b = Builder::new(&settings, &private);
            build(&mut b);
            assert!(!b.validations.is_empty(), "{rule}");
            assert!(b.validations.iter().all(|v| v.rule == rule), "{rule}");
        }
    }
}
