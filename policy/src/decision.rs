//! The typed outcome of an evaluation: which rules were broken, where, and why.

/// The stable names of the rules. A violation's `rule` is always one of these.
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

    /// The rule with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for RuleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken rule: where in the object, and a message that says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: RuleName,
    pub msg: String,
    /// The field path in the object (`spec.containers[0].securityContext.privileged`), or the
    /// request field for request-level problems (`request.namespace`).
    pub path: String,
    pub container: Option<String>,
}

impl Violation {
    pub fn new(rule: RuleName, path: impl Into<String>, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        Violation {
            rule,
            msg: format!("{}: {msg}", rule.as_str()),
            path: path.into(),
            container: None,
        }
    }

    pub fn in_container(mut self, container: &str) -> Self {
        self.container = Some(container.to_owned());
        self
    }
}

/// The full decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The runner type of the requesting identity, when it is a runner manager.
    pub runner: Option<crate::settings::RunnerType>,
    pub violations: Vec<Violation>,
}

impl Decision {
    pub fn from_violations(
        runner: Option<crate::settings::RunnerType>,
        violations: Vec<Violation>,
    ) -> Self {
        Decision {
            allowed: violations.is_empty(),
            runner,
            violations,
        }
    }

    /// A denial for input that cannot be judged (malformed input, invalid settings).
    pub fn invalid(path: &str, msg: impl Into<String>) -> Self {
        Self::from_violations(
            None,
            vec![Violation::new(RuleName::ValidRequest, path, msg)],
        )
    }

    /// The decision's JSON text (the `runners/decision` result): `{"allowed", "runner",
    /// "violations": [{"rule", "msg", "path", "container"?}]}`.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(crate::dialect::text_len(&self.violations));
        out.push_str(if self.allowed {
            "{\"allowed\":true,\"runner\":"
        } else {
            "{\"allowed\":false,\"runner\":"
        });
        match self.runner {
            Some(runner) => crate::dialect::push_string(&mut out, runner.as_str()),
            None => out.push_str("null"),
        }
        out.push_str(",\"violations\":[");
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::dialect::push_violation(&mut out, violation);
        }
        out.push_str("]}");
        out
    }

    /// The distinct rule names of the violations, in report order.
    pub fn rules(&self) -> Vec<RuleName> {
        let mut rules: Vec<RuleName> = self.violations.iter().map(|v| v.rule).collect();
        rules.sort();
        rules.dedup();
        rules
    }
}
