//! Constants the rule modules keep private, read from their source text (embedded at build
//! time), so the policy has one definition of each: a renamed or reshaped constant fails the
//! generator, and its tests, loudly. Public constants are used through the crate instead.

use anyhow::{Context, Result, bail};

const DIND: &str = include_str!("../../policy/src/rules/dind_only_privilege.rs");
const RBAC: &str = include_str!("../../policy/src/rules/namespaced_rbac.rs");
const EGRESS: &str = include_str!("../../policy/src/rules/runner_egress.rs");
const IMAGE: &str = include_str!("../../policy/src/request/image.rs");
const PUSH: &str = include_str!("../../policy/src/rules/no_push_credentials.rs");

/// The private constants the generated policy needs.
#[derive(Debug, Clone)]
pub struct Private {
    pub apparmor_annotation: String,
    pub runner_own_containers: Vec<String>,
    pub bootstrap_discovery_roles: Vec<String>,
    pub bootstrap_service_account_roles: Vec<String>,
    pub dns_namespace: String,
    pub dns_label: (String, String),
    pub docker_hub_aliases: Vec<String>,
    pub image_name_max: usize,
    pub image_tag_max: usize,
    /// File names that are registry auth paths wherever they sit (`auth.json`, ...): the
    /// string patterns matched against the last path component in `is_registry_auth_path`.
    pub auth_files: Vec<String>,
    /// The directories under which a `containers` directory is image storage, not auth.
    pub storage_parents: Vec<String>,
    /// `(variable, location under its value)`: env vars that name where registry clients
    /// read credentials.
    pub auth_vars: Vec<(String, String)>,
}

impl Private {
    /// Reads every constant.
    ///
    /// # Errors
    /// When a constant is not found where it was, or not in the shape expected.
    pub fn read() -> Result<Private> {
        let one = |text: &str, name: &str| -> Result<String> {
            let mut v = strings_of_const(text, name)?;
            match (v.pop(), v.is_empty()) {
                (Some(s), true) => Ok(s),
                _ => bail!("const {name} is not one string"),
            }
        };
        let dns_label = strings_of_const(EGRESS, "DNS_LABEL")?;
        let [key, value] = dns_label.as_slice() else {
            bail!("const DNS_LABEL is not a (key, value) pair");
        };
        // A rule without such variables has no such constant.
        let auth_vars = if PUSH.contains("const AUTH_VARS:") {
            strings_of_const(PUSH, "AUTH_VARS")?
        } else {
            Vec::new()
        };
        if auth_vars.len() % 2 != 0 {
            bail!("const AUTH_VARS is not a list of (variable, location) pairs");
        }
        Ok(Private {
            auth_vars: auth_vars
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect(),
            apparmor_annotation: one(DIND, "APPARMOR_ANNOTATION")?,
            runner_own_containers: strings_of_const(DIND, "RUNNER_OWN_CONTAINERS")?,
            bootstrap_discovery_roles: strings_of_const(RBAC, "BOOTSTRAP_DISCOVERY_ROLES")?,
            bootstrap_service_account_roles: strings_of_const(
                RBAC,
                "BOOTSTRAP_SERVICE_ACCOUNT_ROLES",
            )?,
            dns_namespace: one(EGRESS, "DNS_NAMESPACE")?,
            dns_label: (key.clone(), value.clone()),
            docker_hub_aliases: strings_of_const(IMAGE, "DOCKER_HUB_ALIASES")?,
            image_name_max: number_of_const(IMAGE, "NAME_MAX")?,
            image_tag_max: number_of_const(IMAGE, "TAG_MAX")?,
            auth_files: strings_after(PUSH, "|| matches!(", ')')
                .context("the file names matched against `last` in is_registry_auth_path")?,
            storage_parents: strings_after(PUSH, "== \"containers\" && !matches!(", ')')
                .or_else(|_| strings_after(PUSH, "Some(&", ')'))
                .context(
                    "the storage directories (`\"lib\" | \"share\"`) in is_registry_auth_path",
                )?,
        })
    }
}

/// The value of `const NAME: ... = <value>;`, the text between `=` and `;`.
fn const_value<'t>(text: &'t str, name: &str) -> Result<&'t str> {
    let marker = format!("const {name}:");
    let start = text
        .find(&marker)
        .with_context(|| format!("const {name} not found in the policy crate's source"))?;
    let rest = text.get(start..).unwrap_or_default();
    let eq = rest
        .find('=')
        .with_context(|| format!("const {name}: no `=`"))?;
    let value = rest.get(eq + 1..).unwrap_or_default();
    let end = value
        .find(';')
        .with_context(|| format!("const {name}: no `;`"))?;
    Ok(value.get(..end).unwrap_or_default())
}

/// The string literals of `const NAME: ... = ...;`.
fn strings_of_const(text: &str, name: &str) -> Result<Vec<String>> {
    let values = literals(const_value(text, name)?)?;
    if values.is_empty() {
        bail!("const {name} holds no string");
    }
    Ok(values)
}

/// The value of `const NAME: usize = 255;`.
fn number_of_const(text: &str, name: &str) -> Result<usize> {
    let digits: String = const_value(text, name)?
        .trim()
        .chars()
        .filter(|c| *c != '_')
        .collect();
    digits
        .parse()
        .with_context(|| format!("const {name}: `{digits}` is not an integer"))
}

/// The string literals from the first `marker` up to the next `end` character (past the first
/// argument, up to its comma, when the marker ends in `matches!(`: `matches!(x, "a" | "b")`).
fn strings_after(text: &str, marker: &str, end: char) -> Result<Vec<String>> {
    let start = text
        .find(marker)
        .with_context(|| format!("`{marker}` not found"))?;
    let mut rest = text.get(start + marker.len()..).unwrap_or_default();
    if marker.ends_with("matches!(") {
        let comma = rest
            .find(',')
            .with_context(|| format!("no `,` after `{marker}`"))?;
        rest = rest.get(comma + 1..).unwrap_or_default();
    }
    let stop = rest
        .find(end)
        .with_context(|| format!("no `{end}` after `{marker}`"))?;
    let values = literals(rest.get(..stop).unwrap_or_default())?;
    if values.is_empty() {
        bail!("no string after `{marker}`");
    }
    Ok(values)
}

/// Every `"..."` literal of a piece of Rust source.
///
/// # Errors
/// An unterminated string or escape.
pub fn literals(body: &str) -> Result<Vec<String>> {
    let mut values = Vec::new();
    let mut chars = body.chars();
    while let Some(ch) = chars.next() {
        if ch != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next() {
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some(c) => s.push(c),
                    None => bail!("unterminated escape"),
                },
                Some(c) => s.push(c),
                None => bail!("unterminated string"),
            }
        }
        values.push(s);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_private_constant() {
        let p = Private::read().unwrap();
        assert_eq!(p.dns_label.0, "k8s-app");
        assert!(p.auth_files.iter().any(|f| f == "auth.json"), "{p:?}");
        assert!(p.storage_parents.iter().any(|f| f == "lib"), "{p:?}");
        assert!(p.image_name_max > p.image_tag_max);
    }

    #[test]
    fn a_missing_constant_is_an_error() {
        assert!(strings_of_const("const A: &str = \"x\";", "B").is_err());
        assert_eq!(
            strings_of_const("pub const A: [&str; 2] = [\"x\", \"y\"];", "A").unwrap(),
            ["x", "y"]
        );
        assert_eq!(
            number_of_const("pub const N: usize = 1_024;", "N").unwrap(),
            1024
        );
        assert!(number_of_const("const N: usize = x;", "N").is_err());
    }
}
