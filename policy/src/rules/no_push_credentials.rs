//! `no-push-credentials`: pods in the runners namespace hold no registry push credentials
//! unless their project (the runner-set label, which jobs cannot override) is allowed to push.
//! A Secret or CSI volume mounted where registry clients read credentials, or a Secret named in
//! `registryCredentialSecrets` in any form, is such a credential.
//! `imagePullSecrets` are pull-only and stay allowed.

use super::Context;
use crate::decision::{RuleName, Violation};

const RULE: RuleName = RuleName::NoPushCredentials;

/// The project label the GitLab Runner sets (annotations can be overridden by jobs; labels under
/// `runner.gitlab.com` cannot).
pub const PROJECT_LABEL: &str = "project.runner.gitlab.com/id";

/// Where docker, kaniko, buildah, podman and skopeo look for registry credentials: a `.docker`
/// directory anywhere, a credential file by name, or the `containers` directory that holds
/// podman's `auth.json` (`/run/containers/<uid>`, `/run/user/<uid>/containers`,
/// `~/.config/containers`). Not the image storage under `lib/containers` or
/// `share/containers`, nor the CA certificates in `containers/certs.d`, which hold no login.
pub fn is_registry_auth_path(mount_path: &str, sub_path: Option<&str>) -> bool {
    let parts: Vec<&str> = mount_path
        .split('/')
        .chain(sub_path.unwrap_or("").split('/'))
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let (last, before) = match parts.as_slice() {
        [.., a, b] => (*b, Some(*a)),
        [b] => (*b, None),
        [] => ("", None),
    };
    let auth_dir = |dir: Option<&str>, at: usize| {
        dir == Some("containers")
            && !matches!(
                at.checked_sub(1).and_then(|i| parts.get(i)),
                Some(&"lib" | &"share")
            )
    };
    let n = parts.len();
    parts.contains(&".docker")
        || matches!(
            last,
            "auth.json" | "config.json" | ".dockercfg" | ".dockerconfigjson"
        )
        || auth_dir(Some(last), n.saturating_sub(1))
        || (!last.is_empty()
            && last.bytes().all(|b| b.is_ascii_digit())
            && auth_dir(before, n.saturating_sub(2)))
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
    let subject = ctx.subject();
    // Only a denial formats its advice and paths.
    let fix = || match project {
        Some(id) => format!(
            "project {id} is not in pushAllowedProjects; configure push per job through CI/CD credentials, or add the project to pushAllowedProjects"
        ),
        None => format!(
            "the pod has no {PROJECT_LABEL} label in pushAllowedProjects; configure push per job through CI/CD credentials"
        ),
    };
    let listed = |name: &str| {
        ctx.settings
            .registry_credential_secrets
            .iter()
            .any(|s| s == name)
    };
    for (i, volume) in pod.volumes().iter().enumerate() {
        if let Some(secret) = volume.secret_names().find(|s| listed(s)) {
            out.push(Violation::new(
                RULE,
                format!("{p}spec.volumes[{i}]"),
                format!(
                    "volume \"{}\" of {subject} mounts Secret {secret}, which holds registry credentials; {}",
                    volume.name,
                    fix()
                ),
            ));
        }
    }
    for (list, i, c) in pod.containers() {
        let at = || format!("{p}spec.{}[{i}]", list.field());
        for (j, mount) in c.volume_mounts.iter().enumerate() {
            let source = pod
                .spec
                .volumes
                .iter()
                // The cheap test first: most volumes of a job pod hold no Secret.
                .find_map(|v| v.credential_source().filter(|_| v.name == mount.name));
            if let Some(source) = source
                && is_registry_auth_path(&mount.mount_path, mount.sub_path.as_deref())
            {
                out.push(
                    Violation::new(
                        RULE,
                        format!("{}.volumeMounts[{j}].mountPath", at()),
                        format!(
                            "container \"{}\" of {subject} mounts {source} at {}, where registry clients read push credentials; {}",
                            c.name,
                            mount.mount_path,
                            fix()
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
                        format!("{}.env[{j}].valueFrom.secretKeyRef", at()),
                        format!(
                            "container \"{}\" of {subject} reads {} from Secret {secret}, which holds registry credentials; {}",
                            c.name,
                            env.name,
                            fix()
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
                        format!("{}.envFrom[{j}].secretRef", at()),
                        format!(
                            "container \"{}\" of {subject} loads every key of Secret {secret}, which holds registry credentials; {}",
                            c.name,
                            fix()
                        ),
                    )
                    .in_container(&c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::is_registry_auth_path;
    use crate::decision::RuleName::NoPushCredentials as P;
    use rstest::rstest;
    use serde_json::{Value, json};

    fn with(volumes: Value, container_extra: Value) -> Value {
        let mut p = pod(json!([container("build", container_extra)]));
        p["spec"]["volumes"] = volumes;
        p
    }

    #[rstest]
    #[case::listed_secret_volume(with(json!([{"name": "push", "secret": {"secretName": "registry-push"}}]), json!({})), vec!["spec.volumes[0]"])]
    #[case::listed_projected(with(json!([{"name": "p", "projected": {"sources": [{"configMap": {"name": "c"}}, {"secret": {"name": "registry-push"}}]}}]), json!({})), vec!["spec.volumes[0]"])]
    #[case::kaniko_path(with(json!([{"name": "cfg", "secret": {"secretName": "other"}}]), json!({"volumeMounts": [{"name": "cfg", "mountPath": "/kaniko/.docker"}]})), vec!["spec.containers[0].volumeMounts[0].mountPath"])]
    #[case::docker_config(with(json!([{"name": "cfg", "projected": {"sources": [{"secret": {"name": "x"}}]}}]), json!({"volumeMounts": [{"name": "cfg", "mountPath": "/root/.docker/config.json", "subPath": "config.json"}]})), vec!["spec.containers[0].volumeMounts[0].mountPath"])]
    #[case::podman_auth(with(json!([{"name": "cfg", "secret": {"secretName": "x"}}]), json!({"volumeMounts": [{"name": "cfg", "mountPath": "/run/containers/0"}]})), vec!["spec.containers[0].volumeMounts[0].mountPath"])]
    #[case::csi_at_kaniko_path(with(json!([{"name": "cfg", "csi": {"driver": "secrets-store.csi.k8s.io", "volumeAttributes": {"secretProviderClass": "registry-push"}}}]), json!({"volumeMounts": [{"name": "cfg", "mountPath": "/kaniko/.docker"}]})), vec!["spec.containers[0].volumeMounts[0].mountPath"])]
    #[case::env_from_listed(with(json!([]), json!({"env": [{"name": "CI", "value": "true"}, {"name": "REG_PASS", "valueFrom": {"secretKeyRef": {"name": "registry-push", "key": "p"}}}]})), vec!["spec.containers[0].env[1].valueFrom.secretKeyRef"])]
    #[case::env_from_all(with(json!([]), json!({"envFrom": [{"secretRef": {"name": "registry-push"}}]})), vec!["spec.containers[0].envFrom[0].secretRef"])]
    fn push_credentials_are_denied(#[case] pod: Value, #[case] expected: Vec<&str>) {
        let got = paths(&create_pod(&runner("docker"), pod));
        let want: Vec<_> = expected.into_iter().map(|p| (P, p.to_owned())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_project_label_allows_push_but_an_annotation_does_not() {
        let mut p = with(
            json!([{"name": "push", "secret": {"secretName": "registry-push"}}]),
            json!({"volumeMounts": [{"name": "push", "mountPath": "/kaniko/.docker"}]}),
        );
        p["metadata"]["annotations"] = json!({"project.runner.gitlab.com/id": "42"});
        assert_eq!(rules(&create_pod(&runner("docker"), p.clone())), vec![P]);
        p["metadata"]["labels"]["project.runner.gitlab.com/id"] = json!("42");
        assert!(rules(&create_pod(&runner("docker"), p)).is_empty());
    }

    #[rstest]
    #[case::image_pull_secret(json!({"imagePullSecrets": [{"name": "registry-push"}], "containers": [{"name": "build"}]}))]
    #[case::config_map_at_docker_path(json!({"volumes": [{"name": "c", "configMap": {"name": "c"}}], "containers": [{"name": "build", "volumeMounts": [{"name": "c", "mountPath": "/root/.docker"}]}]}))]
    #[case::csi_elsewhere(json!({"volumes": [{"name": "s", "csi": {"driver": "secrets-store.csi.k8s.io"}}], "containers": [{"name": "build", "volumeMounts": [{"name": "s", "mountPath": "/etc/attic"}]}]}))]
    #[case::other_secret_elsewhere(json!({"volumes": [{"name": "s", "secret": {"secretName": "attic"}}], "containers": [{"name": "build", "volumeMounts": [{"name": "s", "mountPath": "/etc/attic"}]}]}))]
    fn pull_only_and_unrelated_mounts_are_allowed(#[case] spec: Value) {
        let mut p = pod(json!([]));
        p["spec"] = spec;
        assert!(rules(&create_pod(&runner("docker"), p)).is_empty());
    }

    #[rstest]
    #[case("/kaniko/.docker", None, true)]
    #[case("/root/.docker/", None, true)]
    #[case("/home/user/.config/containers", None, true)]
    #[case("/run/user/1000/containers/auth.json", None, true)]
    #[case("/secrets", Some("config.json"), true)]
    #[case("/builds", None, false)]
    #[case("/etc/ssl/certs", None, false)]
    #[case("/docker", None, false)]
    #[case("/run/containers/0", None, true)]
    #[case("/run/user/1000/containers", None, true)]
    #[case("/run", Some("containers/0"), true)]
    // CA certificates and image storage hold no login.
    #[case("/etc/containers/certs.d/registry.example.com:5000", None, false)]
    #[case("/var/lib/containers", None, false)]
    #[case("/var/lib/containers/storage", None, false)]
    #[case("/home/user/.local/share/containers", None, false)]
    #[case("/containers", None, true)]
    fn auth_paths(#[case] path: &str, #[case] sub: Option<&str>, #[case] expected: bool) {
        assert_eq!(is_registry_auth_path(path, sub), expected);
    }
}
