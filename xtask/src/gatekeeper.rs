//! `cargo xtask gatekeeper [--check]`: the Gatekeeper bundle from the single Rego source.
//!
//! Writes, all generated (never edit them by hand):
//! - `policy/rego/constants.rego`: the constant lists of the `policy` crate, in Rego;
//! - `bundles/gatekeeper/template.yaml`: the ConstraintTemplate `K8sRunnerSecurity`, its
//!   parameters schema (the settings) and every `policy/rego/*.rego` file embedded as one Rego v1
//!   module (`code[].source.version: "v1"`, Gatekeeper 3.19+);
//! - `bundles/gatekeeper/constraint.yaml`: an example Constraint with the example settings.
//!
//! `--check` writes nothing and fails when a file is stale.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use policy::settings::RunnerType;
use serde_json::{Value, json};

/// The Rego package of the twin (Gatekeeper wants one package per template).
pub const PACKAGE: &str = "k8srunnersecurity";

/// The Constraint kind the template defines.
pub const KIND: &str = "K8sRunnerSecurity";

/// The directory of the Rego sources, relative to the workspace root.
pub const REGO_DIR: &str = "policy/rego";

pub fn run(args: &[&str]) -> Result<()> {
    let check = match args {
        [] => false,
        ["--check"] => true,
        _ => bail!("usage: cargo xtask gatekeeper [--check]"),
    };
    generate(&crate::project_root(), check)
}

/// Writes (or with `check`, verifies) the generated Gatekeeper files under `root`.
///
/// # Errors
/// A source cannot be read, or with `check`, a generated file is missing or stale.
pub fn generate(root: &Path, check: bool) -> Result<()> {
    let constants = crate::rego_constants::render(root)?;
    let constants_path = root.join(REGO_DIR).join("constants.rego");
    // The embedded module reads the constants as they are about to be written.
    let module = module(root, &constants)?;
    let settings = example_settings(root)?;
    let outputs = [
        (constants_path, constants),
        (
            root.join("bundles/gatekeeper/template.yaml"),
            template(&module)?,
        ),
        (
            root.join("bundles/gatekeeper/constraint.yaml"),
            constraint(&settings)?,
        ),
    ];
    let mut stale = Vec::new();
    for (path, text) in &outputs {
        let current = fs::read_to_string(path).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(
                path.strip_prefix(root)
                    .unwrap_or(path)
                    .display()
                    .to_string(),
            );
        } else {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {}",
                path.strip_prefix(root).unwrap_or(path).display()
            );
        }
    }
    if !stale.is_empty() {
        bail!(
            "stale generated files: {}; run `cargo xtask gatekeeper`",
            stale.join(", ")
        );
    }
    Ok(())
}

/// The Rego files of the twin, `runners.rego` (the entry) first, `constants.rego` last.
pub fn rego_files(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join(REGO_DIR);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rego"))
        .collect();
    let rank = |p: &PathBuf| match p.file_name().and_then(|n| n.to_str()) {
        Some("runners.rego") => 0,
        Some("constants.rego") => 2,
        _ => 1,
    };
    files.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    Ok(files)
}

/// Every Rego file of the twin as one module: one `package` line, each file after it.
fn module(root: &Path, constants: &str) -> Result<String> {
    let mut out = format!("package {PACKAGE}\n");
    for path in rego_files(root)? {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = if name == "constants.rego" {
            constants.to_owned()
        } else {
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?
        };
        let package_line = format!("package {PACKAGE}");
        if !text.lines().any(|l| l.trim() == package_line) {
            bail!("{}: must be in `package {PACKAGE}`", path.display());
        }
        out.push_str(&format!("\n# ---- {REGO_DIR}/{name}\n"));
        for line in text.lines().filter(|l| l.trim() != package_line) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

pub fn example_settings(root: &Path) -> Result<Value> {
    let path = root.join("bundles/settings.example.yaml");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_yaml::from_str(&text).with_context(|| format!("{} is not YAML", path.display()))
}

/// The `parameters` schema: the settings (docs/rules.md), camelCase.
fn parameters_schema() -> Value {
    let types: Vec<&str> = RunnerType::ALL.iter().map(|t| t.as_str()).collect();
    let strings = |description: &str| json!({"type": "array", "description": description, "items": {"type": "string"}});
    json!({
        "type": "object",
        "description": "runner-policy settings (the same object as the OPA bundle's data.json and the Kubewarden settings)",
        "required": ["runners"],
        "properties": {
            "org": {"type": "string", "description": "the runners namespace is `<org>-runners` unless runnersNamespace is given"},
            "runnersNamespace": {"type": "string", "description": "the namespace of the runner managers and their job pods"},
            "runners": {
                "type": "array",
                "minItems": 1,
                "description": "one entry per runner manager (Helm release)",
                "items": {
                    "type": "object",
                    "required": ["type", "serviceAccount"],
                    "properties": {
                        "type": {"type": "string", "enum": types},
                        "serviceAccount": {"type": "string", "description": "the runner manager's ServiceAccount in the runners namespace"}
                    }
                }
            },
            "privilegedRunnerTypes": {"type": "array", "description": "runner types whose job pods may run privileged (default [dind])", "items": {"type": "string", "enum": types}},
            "dindPrivilegedContainers": {"type": "string", "enum": ["all", "services"], "description": "all (the runner's privileged = true) or services (svc-*/aliases only); default all"},
            "atticNamespace": {"type": "string", "description": "the namespace of the Attic cache (default attic-cache-dev)"},
            "allowedRegistries": strings("registries job images may come from (default [docker.io, registry.gitlab.com])"),
            "registryCredentialSecrets": strings("names of Secrets known to hold registry credentials"),
            "pushAllowedProjects": strings("GitLab project ids (strings) whose job pods may mount registry credentials"),
            "exemptUsers": strings("usernames exempt from every rule (cluster operators)")
        }
    })
}

const TEMPLATE_HEADER: &str = "\
# generated by `cargo xtask gatekeeper` from policy/rego/*.rego; do not edit
# The Rego twin of the runner-policy wasm module, for Gatekeeper 3.19+ (Rego v1 source).
";

fn template(module: &str) -> Result<String> {
    let head = json!({
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": {
            "name": KIND.to_ascii_lowercase(),
            "annotations": {
                "description": "GitLab Runner fleet security: dind-only privilege, no host access, runner namespace isolation, no push credentials, namespaced RBAC, runner tokens and Attic credentials in Secrets, public registries, runner egress"
            }
        },
        "spec": {
            "crd": {"spec": {"names": {"kind": KIND}, "validation": {"openAPIV3Schema": parameters_schema()}}}
        }
    });
    let mut out = String::from(TEMPLATE_HEADER);
    out.push_str(&serde_yaml::to_string(&head)?);
    // The Rego as a literal block, indented under `rego: |`, so it reads as it is written.
    out.push_str("  targets:\n  - target: admission.k8s.gatekeeper.sh\n    code:\n    - engine: Rego\n      source:\n        version: v1\n        rego: |\n");
    for line in module.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str("          ");
            out.push_str(line);
            out.push('\n');
        }
    }
    // What is written must read back as the same Rego.
    let parsed: Value = serde_yaml::from_str(&out).context("the generated template is not YAML")?;
    let rego = &parsed["spec"]["targets"][0]["code"][0]["source"]["rego"];
    if rego.as_str() != Some(module) {
        bail!("the generated template does not read back as the Rego module");
    }
    Ok(out)
}

const CONSTRAINT_HEADER: &str = "\
# generated by `cargo xtask gatekeeper` from bundles/settings.example.yaml; do not edit
# An example Constraint of the K8sRunnerSecurity template.
#
# It matches every kind (apiGroups [\"*\"], kinds [\"*\"]), because `runner-namespace` judges
# ANY object a runner identity creates, changes or deletes outside the runners namespace (and
# any cluster-scoped one); the other rules read Pods, every workload kind (Deployment,
# ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController, PodTemplate), Roles,
# ClusterRoles, RoleBindings, ClusterRoleBindings, Secrets, ConfigMaps and NetworkPolicies, and
# let everything else through at once. A narrower list of kinds would let a runner identity act
# on the kinds left out. Gatekeeper sends only CREATE and UPDATE by default: install it with
# the Helm values enableDeleteOperations and enableConnectOperations so that runner-namespace
# also sees DELETE and CONNECT (pods/exec), and leave the runners namespace out of
# Gatekeeper's excludedNamespaces.
";

fn constraint(settings: &Value) -> Result<String> {
    let constraint = json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": KIND,
        "metadata": {"name": "runner-security"},
        "spec": {
            "enforcementAction": "deny",
            "match": {"kinds": [{"apiGroups": ["*"], "kinds": ["*"]}]},
            "parameters": settings
        }
    });
    Ok(format!(
        "{CONSTRAINT_HEADER}{}",
        serde_yaml::to_string(&constraint)?
    ))
}
