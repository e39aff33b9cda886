//! `no-push-credentials`: pods in the runners namespace hold no registry push credentials
//! unless their project (the runner-set label, which jobs cannot override) is allowed to push.
//! `imagePullSecrets` are pull-only and stay allowed.

use super::Context;
use crate::decision::{RuleName, Violation};

const RULE: RuleName = RuleName::NoPushCredentials;

/// The project label the GitLab Runner sets (annotations can be overridden by jobs; labels under
/// `runner.gitlab.com` cannot).
pub const PROJECT_LABEL: &str = "project.runner.gitlab.com/id";

/// Where docker, kaniko, buildah, podman and skopeo look for registry credentials.
pub fn is_registry_auth_path(mount_path: &str, sub_path: Option<&str>) -> bool {
    let parts: Vec<&str> = mount_path
        .split('/')
        .chain(sub_path.unwrap_or("").split('/'))
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let last = parts.last().copied().unwrap_or("");
    parts.iter().any(|c| *c == ".docker" || *c == "containers")
        || matches!(last, "auth.json" | "config.json" | ".dockercfg" | ".dockerconfigjson")
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    let project = pod.meta.labels.get(PROJECT_LABEL);
    if project.is_some_and(|id| ctx.settings.push_allowed_projects.iter().any(|p| p == id)) {
        return;
    }
    let p = pod.prefix;
    let subject = ctx.object_ref();
    let fix = match project {
        Some(id) => format!(
            "project {id} is not in pushAllowedProjects; configure push per job through CI/CD credentials, or add the project to pushAllowedProjects"
        ),
        None => format!(
            "the pod has no {PROJECT_LABEL} label in pushAllowedProjects; configure push per job through CI/CD credentials"
        ),
    };
    let listed = |name: &str| ctx.settings.registry_credential_secrets.iter().any(|s| s == name);
    for (i, volume) in pod.spec.volumes.iter().enumerate() {
        if let Some(secret) = volume.secret_names().find(|s| listed(s)) {
            out.push(Violation::new(
                RULE,
                format!("{p}spec.volumes[{i}]"),
                format!(
                    "volume \"{}\" of {subject} mounts Secret {secret}, which holds registry credentials; {fix}",
                    volume.name
                ),
            ));
        }
    }
    for (list, i, c) in pod.spec.all_containers() {
        let at = format!("{p}spec.{}[{i}]", list.field());
        for (j, mount) in c.volume_mounts.iter().enumerate() {
            let carries_secret = pod
                .spec
                .volumes
                .iter()
                .any(|v| v.name == mount.name && v.carries_secret());
            if carries_secret && is_registry_auth_path(&mount.mount_path, mount.sub_path.as_deref()) {
                out.push(
                    Violation::new(
                        RULE,
                        format!("{at}.volumeMounts[{j}].mountPath"),
                        format!(
                            "container \"{}\" of {subject} mounts a Secret at {}, where registry clients read push credentials; {fix}",
                            c.name, mount.mount_path
                        ),
                    )
                    .in_container(&c.name),
                );
            }
        }
        for (j, env) in c.env.iter().enumerate() {
            let secret = env
                .value_from
                .as_ref()
                .and_then(|f| f.secret_key_ref.as_ref())
                .and_then(|r| r.name.as_deref());
            if let Some(secret) = secret.filter(|s| listed(s)) {
                out.push(
                    Violation::new(
                        RULE,
                        format!("{at}.env[{j}].valueFrom.secretKeyRef"),
                        format!(
                            "container \"{}\" of {subject} reads {} from Secret {secret}, which holds registry credentials; {fix}",
                            c.name, env.name
                        ),
                    )
                    .in_container(&c.name),
                );
            }
        }
        for (j, from) in c.env_from.iter().enumerate() {
            let secret = from.secret_ref.as_ref().and_then(|r| r.name.as_deref());
            if let Some(secret) = secret.filter(|s| listed(s)) {
                out.push(
                    Violation::new(
                        RULE,
                        format!("{at}.envFrom[{j}].secretRef"),
                        format!(
                            "container \"{}\" of {subject} loads every key of Secret {secret}, which holds registry credentials; {fix}",
                            c.name
                        ),
                    )
                    .in_container(&c.name),
                );
            }
        }
    }
}
