//! `policy/rego/constants.rego`: the constant lists the Rego twin shares with the Rust rules,
//! taken from the `policy` crate so there is one source of truth.
//!
//! Public items are read through the crate (`RuleName::ALL`, `RunnerType::ALL`). Constants the
//! crate keeps private to a rule module are read from the rule's source text by name, so they
//! still have a single definition; a renamed or reshaped constant fails the generator loudly.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use policy::decision::RuleName;
use policy::settings::RunnerType;

/// One Rego constant and where its value comes from.
struct Constant {
    /// The Rego name.
    rego: &'static str,
    /// A set (`{...}`), an array (`[...]`) or a string.
    shape: Shape,
    value: Vec<String>,
    /// Where the value is defined, for the generated comment.
    source: String,
}

#[derive(Clone, Copy)]
enum Shape {
    Set,
    Array,
    Str,
    /// An integer literal (`const NAME: usize = 255;`).
    Number,
}

/// `(rego name, shape, file under policy/src, Rust const name)` read from source.
const FROM_SOURCE: &[(&str, Shape, &str, &str)] = &[
    (
        "baseline_capabilities",
        Shape::Set,
        "rules/dind_only_privilege.rs",
        "BASELINE_CAPABILITIES",
    ),
    (
        "baseline_capabilities_in_order",
        Shape::Array,
        "rules/dind_only_privilege.rs",
        "BASELINE_CAPABILITIES",
    ),
    (
        "safe_sysctls",
        Shape::Set,
        "rules/dind_only_privilege.rs",
        "SAFE_SYSCTLS",
    ),
    (
        "selinux_types",
        Shape::Set,
        "rules/dind_only_privilege.rs",
        "SELINUX_TYPES",
    ),
    (
        "apparmor_annotation",
        Shape::Str,
        "rules/dind_only_privilege.rs",
        "APPARMOR_ANNOTATION",
    ),
    (
        "runner_own_containers",
        Shape::Set,
        "rules/dind_only_privilege.rs",
        "RUNNER_OWN_CONTAINERS",
    ),
    (
        "project_label",
        Shape::Str,
        "rules/no_push_credentials.rs",
        "PROJECT_LABEL",
    ),
    (
        "token_keys",
        Shape::Set,
        "rules/runner_token_secret.rs",
        "TOKEN_KEYS",
    ),
    (
        "token_secret_annotation",
        Shape::Str,
        "rules/runner_namespace.rs",
        "TOKEN_SECRET_ANNOTATION",
    ),
    (
        "token_env",
        Shape::Set,
        "rules/runner_token_secret.rs",
        "TOKEN_ENV",
    ),
    (
        "attic_credential_words",
        Shape::Set,
        "rules/attic_credentials_from_secret.rs",
        "CREDENTIAL_WORDS",
    ),
    (
        "escalating_verbs",
        Shape::Set,
        "rules/namespaced_rbac.rs",
        "ESCALATING_VERBS",
    ),
    (
        "bootstrap_discovery_roles",
        Shape::Set,
        "rules/namespaced_rbac.rs",
        "BOOTSTRAP_DISCOVERY_ROLES",
    ),
    (
        "bootstrap_service_account_roles",
        Shape::Set,
        "rules/namespaced_rbac.rs",
        "BOOTSTRAP_SERVICE_ACCOUNT_ROLES",
    ),
    (
        "namespace_name_label",
        Shape::Str,
        "rules/runner_egress.rs",
        "NAMESPACE_NAME_LABEL",
    ),
    (
        "dns_namespace",
        Shape::Str,
        "rules/runner_egress.rs",
        "DNS_NAMESPACE",
    ),
    (
        "dns_label",
        Shape::Array,
        "rules/runner_egress.rs",
        "DNS_LABEL",
    ),
    ("docker_hub", Shape::Str, "request/image.rs", "DOCKER_HUB"),
    (
        "docker_hub_aliases",
        Shape::Set,
        "request/image.rs",
        "DOCKER_HUB_ALIASES",
    ),
    (
        "image_name_max",
        Shape::Number,
        "request/image.rs",
        "NAME_MAX",
    ),
    (
        "image_tag_max",
        Shape::Number,
        "request/image.rs",
        "TAG_MAX",
    ),
];

/// The text of `policy/rego/constants.rego`.
pub fn render(root: &Path) -> Result<String> {
    let mut constants = vec![
        Constant {
            rego: "rule_names",
            shape: Shape::Array,
            value: RuleName::ALL
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            source: "policy::decision::RuleName::ALL".to_owned(),
        },
        Constant {
            rego: "runner_types",
            shape: Shape::Array,
            value: RunnerType::ALL
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            source: "policy::settings::RunnerType::ALL".to_owned(),
        },
    ];
    for &(rego, shape, file, name) in FROM_SOURCE {
        let path = root.join("policy/src").join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let value = match shape {
            Shape::Number => rust_number(&text, name).map(|n| vec![n]),
            _ => rust_const(&text, name),
        }
        .with_context(|| format!("{}: const {name}", path.display()))?;
        constants.push(Constant {
            rego,
            shape,
            value,
            source: format!("policy/src/{file} {name}"),
        });
    }
    let mut out = String::from(
        "# generated by `cargo xtask gatekeeper` from the policy crate; do not edit\n\
         package k8srunnersecurity\n",
    );
    for c in constants {
        let quoted: Vec<String> = c.value.iter().map(|v| quote(v)).collect();
        let value = match c.shape {
            Shape::Set => format!("{{{}}}", quoted.join(", ")),
            Shape::Array => format!("[{}]", quoted.join(", ")),
            Shape::Str => quoted.join(""),
            Shape::Number => c.value.join(""),
        };
        let _ = write!(out, "\n# {}\n{} := {}\n", c.source, c.rego, value);
    }
    Ok(out)
}

/// A Rego (= JSON) string literal.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The value of `const NAME: usize = 255;` in Rust source.
fn rust_number(text: &str, name: &str) -> Result<String> {
    let marker = format!("const {name}:");
    let Some(start) = text.find(&marker) else {
        bail!("not found (renamed? update xtask/src/rego_constants.rs)");
    };
    let rest = &text[start..];
    let (Some(eq), Some(end)) = (rest.find('='), rest.find(';')) else {
        bail!("not `const {name}: T = N;`");
    };
    let digits: String = rest
        .get(eq + 1..end)
        .unwrap_or("")
        .trim()
        .chars()
        .filter(|c| *c != '_')
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        bail!("`{digits}` is not an integer literal");
    }
    Ok(digits)
}

/// The string values of `const NAME: ... = "..."` or `= ["...", ...];` in Rust source.
fn rust_const(text: &str, name: &str) -> Result<Vec<String>> {
    let marker = format!("const {name}:");
    let Some(start) = text.find(&marker) else {
        bail!("not found (renamed? update xtask/src/rego_constants.rs)");
    };
    let rest = &text[start..];
    let Some(eq) = rest.find('=') else {
        bail!("no `=`")
    };
    let Some(end) = rest[eq..].find(';') else {
        bail!("no `;`")
    };
    let body = &rest[eq + 1..eq + end];
    // Read as the VAP generator reads its constants: one reader of Rust string literals.
    let values = policy_vap::source::literals(body)?;
    if values.is_empty() {
        bail!("no string values");
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::rust_const;

    #[test]
    fn reads_arrays_and_strings() {
        let src = "pub const A: [&str; 2] = [\n  \"x\",\n  \"y\",\n];\nconst B: &str = \"p/\";";
        assert_eq!(rust_const(src, "A").unwrap(), vec!["x", "y"]);
        assert_eq!(rust_const(src, "B").unwrap(), vec!["p/"]);
        assert!(rust_const(src, "C").is_err());
    }
}
