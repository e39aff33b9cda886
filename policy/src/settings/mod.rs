//! Settings: the same camelCase object in every engine, validated with every problem reported
//! at once.

use alloc::{borrow::ToOwned, format, string::String, vec, vec::Vec};
use core::fmt;

use crate::request::json::{Json, Kind, same_bytes, strip_prefix};

mod allowed_images;
pub use allowed_images::AllowedImages;

/// One problem with the settings: the setting it is about, and what a valid value looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// The setting as the settings spell it (`settings.runners[0].type`); `settings` for the
    /// settings object itself.
    pub path: String,
    /// What is wrong with it and what a valid value looks like.
    pub message: String,
}

impl fmt::Display for SettingsError {
    /// `settings.org: required ...`; a problem of the whole object reads as one sentence:
    /// `settings must be an object ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if self.path == "settings" { " " } else { ": " };
        write!(f, "{}{separator}{}", self.path, self.message)
    }
}

impl core::error::Error for SettingsError {}

/// Records a problem. One function that formats both parts keeps every call site small.
#[inline(never)]
fn problem(errors: &mut Vec<SettingsError>, path: fmt::Arguments<'_>, message: fmt::Arguments<'_>) {
    errors.push(SettingsError {
        path: alloc::fmt::format(path),
        message: alloc::fmt::format(message),
    });
}

/// The five runner types of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunnerType {
    Dind,
    Docker,
    Rocky8,
    Rocky9,
    Nix,
}

impl RunnerType {
    pub const ALL: [RunnerType; 5] = [
        RunnerType::Dind,
        RunnerType::Docker,
        RunnerType::Rocky8,
        RunnerType::Rocky9,
        RunnerType::Nix,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RunnerType::Dind => "dind",
            RunnerType::Docker => "docker",
            RunnerType::Rocky8 => "rocky8",
            RunnerType::Rocky9 => "rocky9",
            RunnerType::Nix => "nix",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Which containers of a privileged runner's job pod may be privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DindPrivilegedContainers {
    /// Every container (the runner's `privileged = true`).
    All,
    /// Service containers only (`svc-N` or a service alias); build, helper and
    /// init-permissions must not be.
    Services,
}

/// One runner manager (a Helm release) and the ServiceAccount it runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runner {
    pub runner_type: RunnerType,
    pub service_account: String,
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub runners_namespace: String,
    pub runners: Vec<Runner>,
    pub privileged_runner_types: Vec<RunnerType>,
    pub dind_privileged_containers: DindPrivilegedContainers,
    pub attic_namespace: String,
    pub allowed_registries: Vec<String>,
    pub registry_credential_secrets: Vec<String>,
    pub push_allowed_projects: Vec<String>,
    pub exempt_users: Vec<String>,
    /// Image references found to come from an allowed registry under these settings.
    pub allowed_images: AllowedImages,
}

/// Keys that engines add to the data document beside the settings.
pub const ENGINE_KEYS: [&str; 2] = ["kubernetes", "inventory"];

/// What a setting that must name a namespace is told when it does not (said once, for both).
const NOT_A_NAMESPACE: &str =
    "is not a valid namespace name (lowercase letters, digits and `-`, at most 63 characters)";

const KNOWN_KEYS: [&str; 10] = [
    "org",
    "runnersNamespace",
    "runners",
    "privilegedRunnerTypes",
    "dindPrivilegedContainers",
    "atticNamespace",
    "allowedRegistries",
    "registryCredentialSecrets",
    "pushAllowedProjects",
    "exemptUsers",
];

/// Where the settings object came from: decides which extra keys are tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Gatekeeper `parameters`.
    Parameters,
    /// The data document (OPA, Kubewarden `opa` mode): engines add `kubernetes`/`inventory`.
    Data,
}

impl Settings {
    /// Validates a settings object, reporting every problem at once.
    ///
    /// # Errors
    /// Every problem found, each naming the setting and saying what a valid value looks like.
    pub fn from_json(obj: Json<'_>, source: Source) -> Result<Settings, Vec<SettingsError>> {
        if obj.kind() != Kind::Object {
            return Err(vec![SettingsError {
                path: "settings".to_owned(),
                message: format!(
                    "must be an object with at least `org` (or `runnersNamespace`) and `runners`, got {}",
                    type_name(obj)
                ),
            }]);
        }
        // Entries are decoded once; every setting is then looked up in this small list.
        let obj = &Fields::of(obj);
        let mut errors = Vec::new();
        for key in obj.keys() {
            let tolerated = source == Source::Data && ENGINE_KEYS.contains(&key);
            if !tolerated && !KNOWN_KEYS.contains(&key) {
                problem(
                    &mut errors,
                    format_args!("settings.{key}"),
                    format_args!(
                        "unknown setting (known: {})",
                        crate::join::join(&KNOWN_KEYS, ", ")
                    ),
                );
            }
        }
        let org = opt_string(obj, "org", &mut errors);
        let explicit_ns = opt_string(obj, "runnersNamespace", &mut errors);
        let from_org = explicit_ns.is_none();
        let runners_namespace = match (explicit_ns, org) {
            (Some(ns), _) => ns,
            (None, Some(org)) => format!("{org}-runners"),
            (None, None) => {
                problem(
                    &mut errors,
                    format_args!("settings.org"),
                    format_args!(
                        "required (the runners namespace is `<org>-runners`), unless settings.runnersNamespace is given"
                    ),
                );
                String::new()
            }
        };
        if !runners_namespace.is_empty() && !is_dns_label(&runners_namespace) {
            // Reported where the user wrote the value: an org gives `<org>-runners`.
            let key = if from_org { "org" } else { "runnersNamespace" };
            problem(
                &mut errors,
                format_args!("settings.{key}"),
                format_args!("the runners namespace `{runners_namespace}` {NOT_A_NAMESPACE}"),
            );
        }
        let runners = runners(obj, &mut errors);
        let privileged_runner_types = match obj
            .get("privilegedRunnerTypes")
            .filter(|v| !v.is_null())
        {
            None => vec![RunnerType::Dind],
            Some(v) => {
                // A plain loop: iterator adapters are not inlined at opt-level "z".
                let mut types = Vec::new();
                for (i, name) in string_list(v, "privilegedRunnerTypes", &mut errors)
                    .iter()
                    .enumerate()
                {
                    match RunnerType::from_name(name) {
                        Some(t) => types.push(t),
                        None => problem(
                            &mut errors,
                            format_args!("settings.privilegedRunnerTypes[{i}]"),
                            format_args!("`{name}` is not a runner type ({})", runner_type_names()),
                        ),
                    }
                }
                types
            }
        };
        let dind_privileged_containers =
            match opt_string(obj, "dindPrivilegedContainers", &mut errors).as_deref() {
                None | Some("all") => DindPrivilegedContainers::All,
                Some("services") => DindPrivilegedContainers::Services,
                Some(other) => {
                    problem(
                        &mut errors,
                        format_args!("settings.dindPrivilegedContainers"),
                        format_args!("`{other}` is not one of `all`, `services`"),
                    );
                    DindPrivilegedContainers::All
                }
            };
        let attic_namespace = opt_string(obj, "atticNamespace", &mut errors)
            .unwrap_or_else(|| "attic-cache-dev".to_owned());
        if !is_dns_label(&attic_namespace) {
            problem(
                &mut errors,
                format_args!("settings.atticNamespace"),
                format_args!("`{attic_namespace}` {NOT_A_NAMESPACE}"),
            );
        }
        let allowed_registries = match obj.get("allowedRegistries").filter(|v| !v.is_null()) {
            None => vec!["docker.io".to_owned(), "registry.gitlab.com".to_owned()],
            Some(v) => {
                let mut registries = string_list(v, "allowedRegistries", &mut errors);
                // Normalised as image references' registries are, once (settings are kept
                // between evaluations): lowercase, Docker Hub under one name.
                for r in &mut registries {
                    *r = crate::request::image::normalise_registry(r).into_owned();
                }
                registries
            }
        };
        let list = |key: &str, errors: &mut Vec<SettingsError>| match obj
            .get(key)
            .filter(|v| !v.is_null())
        {
            None => Vec::new(),
            Some(v) => string_list(v, key, errors),
        };
        let registry_credential_secrets = list("registryCredentialSecrets", &mut errors);
        let push_allowed_projects = list("pushAllowedProjects", &mut errors);
        let exempt_users = list("exemptUsers", &mut errors);
        // Exempting a runner manager would lift every rule from its runner.
        for (i, user) in exempt_users.iter().enumerate() {
            if runner_of(&runners, &runners_namespace, user).is_some() {
                problem(
                    &mut errors,
                    format_args!("settings.exemptUsers[{i}]"),
                    format_args!(
                        "`{user}` is a runner manager, which every rule is for; exempt only cluster operators"
                    ),
                );
            }
        }
        if errors.is_empty() {
            Ok(Settings {
                runners_namespace,
                runners,
                privileged_runner_types,
                dind_privileged_containers,
                attic_namespace,
                allowed_registries,
                registry_credential_secrets,
                push_allowed_projects,
                exempt_users,
                allowed_images: AllowedImages::new(),
            })
        } else {
            Err(errors)
        }
    }

    /// The runner whose manager authenticates as `username`, if any.
    pub fn runner_for(&self, username: &str) -> Option<&Runner> {
        runner_of(&self.runners, &self.runners_namespace, username)
    }

    /// The runner that owns this ServiceAccount (in the runners namespace), if any.
    pub fn runner_with_service_account(&self, sa: &str) -> Option<&Runner> {
        self.runners
            .iter()
            .find(|r| same_bytes(r.service_account.as_bytes(), sa.as_bytes()))
    }

    pub fn is_privileged(&self, runner_type: RunnerType) -> bool {
        self.privileged_runner_types.contains(&runner_type)
    }

    pub fn privileged_type_names(&self) -> String {
        let names: Vec<&str> = self
            .privileged_runner_types
            .iter()
            .map(|t| t.as_str())
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            crate::join::join(&names, ", ")
        }
    }
}

fn runners(obj: &Fields<'_>, errors: &mut Vec<SettingsError>) -> Vec<Runner> {
    let items = match obj.get("runners").filter(|v| !v.is_null()) {
        Some(v) if v.kind() == Kind::Array && v.items().next().is_some() => v,
        Some(other) if other.kind() != Kind::Array => {
            problem(
                errors,
                format_args!("settings.runners"),
                format_args!("must be a list, got {}", type_name(other)),
            );
            return Vec::new();
        }
        // Missing, null or an empty list.
        _ => {
            problem(
                errors,
                format_args!("settings.runners"),
                format_args!(
                    "required, one entry per runner manager, e.g. [{{type: dind, serviceAccount: gitlab-runner-dind}}]"
                ),
            );
            return Vec::new();
        }
    };
    let mut runners: Vec<Runner> = Vec::new();
    for (i, entry) in items.items().enumerate() {
        if entry.kind() != Kind::Object {
            problem(
                errors,
                format_args!("settings.runners[{i}]"),
                format_args!(
                    "must be an object {{type, serviceAccount}}, got {}",
                    type_name(entry)
                ),
            );
            continue;
        }
        let entry = &Fields::of(entry);
        for key in entry.keys() {
            if key != "type" && key != "serviceAccount" {
                problem(
                    errors,
                    format_args!("settings.runners[{i}].{key}"),
                    format_args!("unknown field (known: type, serviceAccount)"),
                );
            }
        }
        let runner_type = match entry.get("type").and_then(|v| v.as_str().map(|s| (v, s))) {
            Some((_, name)) => {
                let t = RunnerType::from_name(&name);
                if t.is_none() {
                    problem(
                        errors,
                        format_args!("settings.runners[{i}].type"),
                        format_args!("`{name}` is not a runner type ({})", runner_type_names()),
                    );
                }
                t
            }
            None => {
                problem(
                    errors,
                    format_args!("settings.runners[{i}].type"),
                    format_args!(
                        "required string ({}), got {}",
                        runner_type_names(),
                        entry.get("type").map_or("nothing", type_name)
                    ),
                );
                None
            }
        };
        let service_account = match entry.get("serviceAccount").and_then(|v| v.as_str()) {
            Some(sa) if is_dns_subdomain(&sa) => Some(sa.into_owned()),
            Some(sa) => {
                problem(
                    errors,
                    format_args!("settings.runners[{i}].serviceAccount"),
                    format_args!("`{sa}` is not a valid ServiceAccount name"),
                );
                None
            }
            None => {
                problem(
                    errors,
                    format_args!("settings.runners[{i}].serviceAccount"),
                    format_args!(
                        "required string (the runner manager's ServiceAccount), got {}",
                        entry.get("serviceAccount").map_or("nothing", type_name)
                    ),
                );
                None
            }
        };
        if let (Some(runner_type), Some(service_account)) = (runner_type, service_account) {
            if runners.iter().any(|r| r.service_account == service_account) {
                problem(
                    errors,
                    format_args!("settings.runners[{i}].serviceAccount"),
                    format_args!(
                        "`{service_account}` is used by two runners; each runner manager needs its own ServiceAccount"
                    ),
                );
            }
            runners.push(Runner {
                runner_type,
                service_account,
            });
        }
    }
    runners
}

fn opt_string(obj: &Fields<'_>, key: &str, errors: &mut Vec<SettingsError>) -> Option<String> {
    let value = obj.get(key).filter(|v| !v.is_null())?;
    match value.as_str() {
        Some(s) if !s.is_empty() => Some(s.into_owned()),
        _ => {
            let other = value;
            problem(
                errors,
                format_args!("settings.{key}"),
                format_args!("must be a non-empty string, got {}", type_name(other)),
            );
            None
        }
    }
}

fn string_list(value: Json<'_>, key: &str, errors: &mut Vec<SettingsError>) -> Vec<String> {
    if value.kind() != Kind::Array {
        problem(
            errors,
            format_args!("settings.{key}"),
            format_args!("must be a list of strings, got {}", type_name(value)),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, item) in value.items().enumerate() {
        match item.as_str() {
            Some(s) if !s.is_empty() => out.push(s.into_owned()),
            _ => problem(
                errors,
                format_args!("settings.{key}[{i}]"),
                format_args!(
                    "must be a non-empty string, got {}{}",
                    type_name(item),
                    if item.kind() == Kind::Number {
                        " (quote it: \"4242\")"
                    } else {
                        ""
                    }
                ),
            ),
        }
    }
    out
}

fn type_name(value: Json<'_>) -> &'static str {
    match value.kind() {
        Kind::String if value.raw() == "\"\"" => "an empty string",
        Kind::Array => "a list",
        other => other.article_name(),
    }
}

fn runner_type_names() -> String {
    let names: Vec<&str> = RunnerType::ALL.iter().map(|t| t.as_str()).collect();
    crate::join::join(&names, ", ")
}

/// The entries of a settings object, decoded once (later keys win, as in Go and serde_json).
struct Fields<'a>(Vec<(crate::request::de::Str<'a>, Json<'a>)>);

impl<'a> Fields<'a> {
    fn of(obj: Json<'a>) -> Self {
        Fields(obj.entries().collect())
    }

    fn get(&self, key: &str) -> Option<Json<'a>> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
}

/// The runner of `runners` whose manager authenticates as `username` in `namespace`, if any.
fn runner_of<'r>(runners: &'r [Runner], namespace: &str, username: &str) -> Option<&'r Runner> {
    let sa = strip_prefix(username, "system:serviceaccount:")?;
    let sa = strip_prefix(strip_prefix(sa, namespace)?, ":")?;
    runners
        .iter()
        .find(|r| same_bytes(r.service_account.as_bytes(), sa.as_bytes()))
}

/// RFC 1123 label: what Kubernetes accepts as a namespace name.
fn is_dns_label(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: what Kubernetes accepts as a ServiceAccount name.
fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(|l| !l.is_empty() && is_dns_label(l))
}

#[cfg(test)]
mod tests;
