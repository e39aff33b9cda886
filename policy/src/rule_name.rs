//! The stable names of the rules: what a violation's `rule` says, in every engine.

use alloc::{borrow::ToOwned, string::String};

/// One rule. A violation's `rule` is always one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleName {
    DindOnlyPrivilege,
    NoHostAccess,
    RunnerNamespace,
    NoPushCredentials,
    NamespacedRbac,
    RunnerTokenSecret,
    AtticCredentialsFromSecret,
    PublicRegistries,
    RunnerEgress,
    ValidRequest,
}

impl RuleName {
    /// Every rule, in the order violations are reported.
    pub const ALL: [RuleName; 10] = [
        RuleName::DindOnlyPrivilege,
        RuleName::NoHostAccess,
        RuleName::RunnerNamespace,
        RuleName::NoPushCredentials,
        RuleName::NamespacedRbac,
        RuleName::RunnerTokenSecret,
        RuleName::AtticCredentialsFromSecret,
        RuleName::PublicRegistries,
        RuleName::RunnerEgress,
        RuleName::ValidRequest,
    ];

    /// The rule's stable name, as it appears in violations.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleName::DindOnlyPrivilege => "dind-only-privilege",
            RuleName::NoHostAccess => "no-host-access",
            RuleName::RunnerNamespace => "runner-namespace",
            RuleName::NoPushCredentials => "no-push-credentials",
            RuleName::NamespacedRbac => "namespaced-rbac",
            RuleName::RunnerTokenSecret => "runner-token-secret",
            RuleName::AtticCredentialsFromSecret => "attic-credentials-from-secret",
            RuleName::PublicRegistries => "public-registries",
            RuleName::RunnerEgress => "runner-egress",
            RuleName::ValidRequest => "valid-request",
        }
    }
}

impl core::fmt::Display for RuleName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no rule's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRule(pub String);

impl core::fmt::Display for UnknownRule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "`{}` is not a rule; the rules are", self.0)?;
        for (i, rule) in RuleName::ALL.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            f.write_str(rule.as_str())?;
        }
        Ok(())
    }
}

impl core::error::Error for UnknownRule {}

impl core::str::FromStr for RuleName {
    type Err = UnknownRule;

    /// The rule with this stable name (`dind-only-privilege`...).
    fn from_str(name: &str) -> Result<Self, UnknownRule> {
        for rule in Self::ALL {
            if rule.as_str() == name {
                return Ok(rule);
            }
        }
        Err(UnknownRule(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_their_rules() {
        for rule in RuleName::ALL {
            assert_eq!(rule.as_str().parse::<RuleName>(), Ok(rule));
            assert_eq!(rule.to_string(), rule.as_str());
        }
        for name in ["", "valid_request", "Valid-Request", "no-host-access "] {
            let err = name.parse::<RuleName>().unwrap_err();
            assert_eq!(err, UnknownRule(name.to_owned()));
            assert!(
                err.to_string().ends_with("runner-egress, valid-request"),
                "{err}"
            );
        }
    }
}
