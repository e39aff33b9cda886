//! `no-push-credentials`: pods in the runners namespace hold no registry push credentials
//! unless their project (the runner-set label, which jobs cannot override) is allowed to push.
//! A Secret or CSI volume mounted where registry clients read credentials, or a Secret named in
//! `registryCredentialSecrets` in any form, is such a credential.
//! `imagePullSecrets` are pull-only and stay allowed.

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::json::same_bytes;
use crate::request::pod::{Container, Volume, VolumeMount};
use alloc::{format, string::String, vec, vec::Vec};

const RULE: RuleName = RuleName::NoPushCredentials;

/// The project label the GitLab Runner sets (annotations can be overridden by jobs; labels under
/// `runner.gitlab.com` cannot).
pub const PROJECT_LABEL: &str = "project.runner.gitlab.com/id";

/// Where docker, kaniko, buildah, podman, skopeo and helm look for registry credentials, as path
/// parts: a `.docker` directory anywhere, a credential file by name, the `containers` directory
/// that holds podman's `auth.json` (`/run/containers/<uid>`, `/run/user/<uid>/containers`,
/// `~/.config/containers`) and helm's `registry` directory. Also the directories above them that
/// a Secret's keys (`~/.dockercfg`) or a CSI driver's files can fill: a home directory, `.config`,
/// `/run/user/<uid>`. Not the image storage under `lib/containers` or `share/containers`, nor the
/// CA certificates in `containers/certs.d`, which hold no login. A `..` cannot be judged by its
/// text, so it counts.
pub fn is_registry_auth_path(parts: &[&str]) -> bool {
    // The part `i` places from the end (1: the last), or "" before the first.
    let at = |i: usize| {
        let n = parts.len().checked_sub(i);
        n.and_then(|n| parts.get(n)).copied().unwrap_or("")
    };
    let auth_dir =
        |i: usize| at(i) == "containers" && !matches!(at(i.saturating_add(1)), "lib" | "share");
    let last = at(1);
    parts.iter().any(|p| matches!(*p, ".docker" | ".."))
        || matches!(
            last,
            "auth.json" | "config.json" | ".dockercfg" | ".dockerconfigjson" | ".config"
        )
        || auth_dir(1)
        || (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) && auth_dir(2))
        || (last == "registry" && at(2) == "helm")
        || matches!(parts, ["root"] | ["home", _] | ["run", "user", _])
}

/// The parts of a path as the kubelet and the runtime resolve them: no empty or `.` parts.
pub fn path_parts(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// [`path_parts`] added to `out`, by one plain loop shared by every caller (a `collect` per
/// call site is larger in the module).
fn push_parts<'p>(out: &mut Vec<&'p str>, path: &'p str) {
    for c in path.split('/') {
        if !c.is_empty() && c != "." {
            out.push(c);
        }
    }
}

fn parts_of(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    push_parts(&mut out, path);
    out
}

/// Variables that name where registry clients read credentials, each with the location under
/// its value: `DOCKER_CONFIG` (docker, buildx, kaniko, crane, oras, helm; kaniko also reads it as
/// the file itself), `REGISTRY_AUTH_FILE` (podman, buildah, skopeo), `HELM_REGISTRY_CONFIG`, and
/// the directories those tools start from.
const AUTH_VARS: [(&str, &str); 11] = [
    ("DOCKER_CONFIG", ""),
    ("REGISTRY_AUTH_FILE", ""),
    ("HELM_REGISTRY_CONFIG", ""),
    ("HELM_CONFIG_HOME", "registry"),
    ("XDG_RUNTIME_DIR", "containers"),
    ("XDG_CONFIG_HOME", "containers"),
    ("XDG_CONFIG_HOME", "helm/registry"),
    ("HOME", ".docker"),
    ("HOME", ".dockercfg"),
    ("HOME", ".config/containers"),
    ("HOME", ".config/helm/registry"),
];

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    let project = pod.meta.labels.get(PROJECT_LABEL);
    if project.is_some_and(|id| {
        ctx.settings
            .push_allowed_projects
            .iter()
            .any(|p| same_bytes(p.as_bytes(), id.as_bytes()))
    }) {
        return;
    }
    let p = pod.prefix;
    let subject = ctx.subject();
    // Only a denial formats its advice (once) and paths.
    let advice = || match project {
        Some(id) => format!(
            "project {id} is not in pushAllowedProjects; configure push per job through CI/CD credentials, or add the project to pushAllowedProjects"
        ),
        None => format!(
            "the pod has no {PROJECT_LABEL} label in pushAllowedProjects; configure push per job through CI/CD credentials"
        ),
    };
    let mut fix = None;
    let listed = |name: &str| {
        ctx.settings
            .registry_credential_secrets
            .iter()
            .any(|s| s == name)
    };
    // Most job pods have no Secret or CSI volume: then no volume names a Secret, and no mount
    // can place credentials, so neither is looked at.
    let credential_volumes = pod
        .spec
        .volumes
        .iter()
        .any(|v| v.credential_source().is_some());
    let volumes = if credential_volumes {
        pod.volumes()
    } else {
        &[]
    };
    for (i, volume) in volumes.iter().enumerate() {
        if let Some(secret) = volume.secret_names().into_iter().find(|s| listed(s)) {
            out.push(Violation::from_parts(
                RULE,
                format!("{p}spec.volumes[{i}]"),
                &[
                    "volume \"",
                    &volume.name,
                    "\" of ",
                    subject.as_str(),
                    " mounts Secret ",
                    secret,
                    ", which holds registry credentials; ",
                    fix.get_or_insert_with(advice),
                ],
            ));
        }
    }
    for (list, i, c) in pod.containers() {
        let at = || format!("{p}spec.{}[{i}]", list.field());
        let mounts: &[VolumeMount<'_>] = if credential_volumes {
            &c.volume_mounts
        } else {
            &[]
        };
        for (j, mount) in mounts.iter().enumerate() {
            let Some((volume, source)) = pod.spec.volumes.iter().find_map(|v| {
                // The cheap test first: most volumes of a job pod hold no Secret.
                v.credential_source()
                    .filter(|_| v.name == mount.name)
                    .map(|s| (v, s))
            }) else {
                continue;
            };
            let Some(note) = auth_note(c, mount, volume) else {
                continue;
            };
            out.push(
                Violation::from_parts(
                    RULE,
                    format!("{}.volumeMounts[{j}].mountPath", at()),
                    &[
                        "container \"",
                        &c.name,
                        "\" of ",
                        subject.as_str(),
                        " mounts ",
                        source,
                        " at ",
                        &mount.mount_path,
                        ", where registry clients read push credentials",
                        &note,
                        "; ",
                        fix.get_or_insert_with(advice),
                    ],
                )
                .in_container(&c.name),
            );
        }
        for (j, env) in c.env.iter().enumerate() {
            let secret = env
                .value_from
                .as_ref()
                .and_then(|f| f.secret_key_ref.as_ref())
                .and_then(|r| r.name.as_deref());
            if let Some(secret) = secret.filter(|s| listed(s)) {
                out.push(
                    Violation::from_parts(
                        RULE,
                        format!("{}.env[{j}].valueFrom.secretKeyRef", at()),
                        &[
                            "container \"",
                            &c.name,
                            "\" of ",
                            subject.as_str(),
                            " reads ",
                            &env.name,
                            " from Secret ",
                            secret,
                            ", which holds registry credentials; ",
                            fix.get_or_insert_with(advice),
                        ],
                    )
                    .in_container(&c.name),
                );
            }
        }
        for (j, from) in c.env_from.iter().enumerate() {
            let secret = from.secret_ref.as_ref().and_then(|r| r.name.as_deref());
            if let Some(secret) = secret.filter(|s| listed(s)) {
                out.push(
                    Violation::from_parts(
                        RULE,
                        format!("{}.envFrom[{j}].secretRef", at()),
                        &[
                            "container \"",
                            &c.name,
                            "\" of ",
                            subject.as_str(),
                            " loads every key of Secret ",
                            secret,
                            ", which holds registry credentials; ",
                            fix.get_or_insert_with(advice),
                        ],
                    )
                    .in_container(&c.name),
                );
            }
        }
    }
}

/// Why a mount of a credential `volume` in `c` places files where registry clients read push
/// credentials, as the message's note: "" (the mount path), the first Secret item at an auth
/// path, else the first variable of the container's env whose location holds a place or lies in
/// one; `None` when the mount places nothing there. One plain function (no closures or
/// iterator chains) keeps the module small, and the env is read only for such mounts.
fn auth_note(c: &Container<'_>, mount: &VolumeMount<'_>, volume: &Volume<'_>) -> Option<String> {
    // Where the mount puts files: at the mount path (whatever its subPath selects, and with any
    // backstep of the subPath, which counts), and each Secret item the subPath selects, below it.
    let m = parts_of(&mount.mount_path);
    let sub = parts_of(mount.sub_path.as_deref().unwrap_or(""));
    let mut at_mount = m.clone();
    for part in &sub {
        if *part == ".." {
            at_mount.push(part);
        }
    }
    let mut placed: Vec<(Option<&str>, Vec<&str>)> = vec![(None, at_mount)];
    for item in volume.secret_items() {
        let r = parts_of(&item.path);
        let rest = if r.starts_with(&sub) {
            r.get(sub.len()..).unwrap_or_default()
        } else if r.contains(&"..") {
            &r[..]
        } else {
            continue;
        };
        let mut f = m.clone();
        f.extend_from_slice(rest);
        placed.push((Some(item.path.as_ref()), f));
    }
    let mut note = String::new();
    for (item, f) in &placed {
        if is_registry_auth_path(f) {
            if let Some(item) = item {
                note.push_str(" (item ");
                note.push_str(item);
                note.push(')');
            }
            return Some(note);
        }
    }
    // The auth locations the env gives: its literal absolute value, or none (no parts:
    // anywhere) when the pod spec does not show one (`valueFrom`, `$(VAR)`, relative).
    for env in c.env.iter() {
        for (var, under) in AUTH_VARS {
            if env.name != var {
                continue;
            }
            let mut value = None;
            let mut loc: Vec<&str> = Vec::new();
            match env.value.as_deref().filter(|v| !v.is_empty()) {
                Some(v) => {
                    let mut parts = parts_of(v);
                    push_parts(&mut parts, under);
                    if v.starts_with('/') && !v.contains('$') && !parts.contains(&"..") {
                        value = Some(v);
                        loc = parts;
                    }
                }
                None if env.value_from.is_some() => {}
                None => continue,
            }
            let mut hit = false;
            for (_, f) in &placed {
                hit |= f.starts_with(&loc) || loc.starts_with(f);
            }
            if !hit {
                continue;
            }
            note.push_str(" (");
            note.push_str(var);
            match value {
                Some(v) => {
                    note.push('=');
                    note.push_str(v);
                    note.push(')');
                }
                None => note.push_str(
                    " has no literal absolute value, so it may name any mount: give it one)",
                ),
            }
            return Some(note);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_registry_auth_path;
    use crate::decision::RuleName::NoPushCredentials as P;
    use crate::testing::{container, create_pod, decide, paths, pod, rules, runner};
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

    /// A Secret volume placing `items` (`[key, path]`), mounted by a `build` container with
    /// this env at `mount_path` (and `subPath`).
    fn items_pod(items: Value, mount_path: &str, sub: Option<&str>, env: Value) -> Value {
        let items: Vec<Value> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| json!({"key": i[0], "path": i[1]}))
            .collect();
        let mut mount = json!({"name": "s", "mountPath": mount_path});
        if let Some(sub) = sub {
            mount["subPath"] = json!(sub);
        }
        with(
            json!([{"name": "s", "secret": {"secretName": "ci-files", "items": items}}]),
            json!({"volumeMounts": [mount], "env": env}),
        )
    }

    /// The message of the one violation of `pod`, if any.
    fn message(pod: Value) -> Option<String> {
        let d = decide(&create_pod(&runner("docker"), pod));
        assert!(d.violations.len() <= 1, "{:?}", d.violations);
        d.violations.into_iter().next().map(|v| v.msg)
    }

    #[rstest]
    // The files the items place, wherever the mount path is.
    #[case::docker_config_in_root_home(json!([[".dockerconfigjson", ".docker/config.json"]]), "/root", None, Some(""))]
    #[case::docker_config_under_a_mount(json!([[".dockerconfigjson", ".docker/config.json"]]), "/opt/ci", None, Some(" (item .docker/config.json)"))]
    #[case::legacy_dockercfg(json!([[".dockercfg", ".dockercfg"]]), "/home/user", None, Some(""))]
    #[case::podman_user_auth(json!([[".dockerconfigjson", "containers/auth.json"]]), "/run/user/1000", None, Some(""))]
    #[case::spelled_with_dots(json!([["ca.crt", "ca.crt"], ["c", "./.docker//config.json"]]), "/kaniko/", None, Some(" (item ./.docker//config.json)"))]
    #[case::second_item(json!([["ca.crt", "certs/ca.crt"], ["c", "cfg/auth.json"]]), "/etc/job", None, Some(" (item cfg/auth.json)"))]
    #[case::backstep_fails_closed(json!([["c", "x/../y"]]), "/etc/job", None, Some(" (item x/../y)"))]
    #[case::backstep_outside_the_sub_path(json!([["c", "../y"]]), "/etc/job", Some("certs"), Some(" (item ../y)"))]
    // The subPath selects what the mount shows: a directory of items, or one item.
    #[case::sub_path_directory(json!([["c", "cfg/.docker/config.json"]]), "/opt/ci", Some("cfg"), Some(" (item cfg/.docker/config.json)"))]
    #[case::sub_path_file_at_auth_path(json!([["c", "cfg"]]), "/root/.docker/config.json", Some("cfg"), Some(""))]
    // Certificates and other files in their own places hold no login.
    #[case::buildah_ca(json!([["ca.crt", "ca.crt"]]), "/etc/containers/certs.d/registry.example.com:5000", None, None)]
    #[case::sub_path_selects_a_certificate(json!([["ca.crt", "certs/ca.crt"], ["c", "docker/config.json"]]), "/etc/ssl/job", Some("certs"), None)]
    #[case::sub_path_file_elsewhere(json!([["c", "config.json"]]), "/etc/job/settings", Some("config.json"), None)]
    #[case::signature_policy(json!([["c", "default.yaml"]]), "/etc/containers/registries.d", None, None)]
    #[case::sub_path_backstep(json!([["c", "config"]]), "/etc/job", Some("../x"), Some(""))]
    fn items_are_judged_where_they_land(
        #[case] items: Value,
        #[case] mount_path: &str,
        #[case] sub: Option<&str>,
        #[case] note: Option<&str>,
    ) {
        let got = message(items_pod(items, mount_path, sub, json!([])));
        let want = note.map(|n| format!("where registry clients read push credentials{n};"));
        match (got, want) {
            (Some(got), Some(want)) => assert!(got.contains(&want), "{got}"),
            (got, want) => assert_eq!(got, want),
        }
    }

    #[test]
    fn projected_secret_items_are_judged_but_config_map_items_are_not() {
        let volumes = |source: &str| {
            json!([{"name": "s", "projected": {"sources": [
                {"configMap": {"name": "c", "items": [{"key": "a", "path": "ca.crt"}]}},
                {source: {"name": "x", "items": [{"key": "k", "path": "containers/auth.json"}]}},
            ]}}])
        };
        let mount = json!({"volumeMounts": [{"name": "s", "mountPath": "/opt/run"}]});
        let denied = paths(&create_pod(
            &runner("docker"),
            with(volumes("secret"), mount.clone()),
        ));
        assert_eq!(
            denied,
            vec![(P, "spec.containers[0].volumeMounts[0].mountPath".to_owned())]
        );
        let allowed = rules(&create_pod(
            &runner("docker"),
            with(volumes("configMap"), mount),
        ));
        assert!(allowed.is_empty());
    }

    #[rstest]
    // Each variable that names an auth location, at its own value or under it.
    #[case::docker_config("DOCKER_CONFIG", "/creds/docker", "/creds/docker", true)]
    #[case::docker_config_file("DOCKER_CONFIG", "/creds/docker", "/creds", true)]
    #[case::docker_config_trailing("DOCKER_CONFIG", "/creds/docker/", "/creds/docker/sub", true)]
    #[case::registry_auth_file("REGISTRY_AUTH_FILE", "/creds/podman.json", "/creds", true)]
    #[case::helm_registry_config("HELM_REGISTRY_CONFIG", "/opt/helm/creds.json", "/opt/helm", true)]
    #[case::helm_config_home("HELM_CONFIG_HOME", "/opt/helm", "/opt/helm", true)]
    // `lib/containers` is image storage, unless the variable says otherwise.
    #[case::xdg_runtime_dir("XDG_RUNTIME_DIR", "/var/lib", "/var/lib/containers", true)]
    #[case::xdg_config_home("XDG_CONFIG_HOME", "/opt/cfg", "/opt/cfg", true)]
    #[case::xdg_config_home_helm("XDG_CONFIG_HOME", "/opt/cfg", "/opt/cfg/helm", true)]
    #[case::home("HOME", "/builds/home", "/builds/home", true)]
    #[case::home_config("HOME", "/builds/home", "/builds/home/.config/helm", true)]
    // The same mount elsewhere, or the variable pointing elsewhere.
    #[case::beside("DOCKER_CONFIG", "/creds/docker", "/creds/other", false)]
    #[case::prefix_of_a_name("DOCKER_CONFIG", "/creds/docker", "/creds/docker-ca", false)]
    #[case::home_ssh("HOME", "/builds/home", "/builds/home/.ssh", false)]
    #[case::xdg_runtime_other("XDG_RUNTIME_DIR", "/var/run/xdg", "/var/run/xdg/sockets", false)]
    #[case::unrelated_variable("DOCKER_HOST", "/creds/docker", "/creds/docker", false)]
    fn variables_name_auth_locations(
        #[case] var: &str,
        #[case] value: &str,
        #[case] mount_path: &str,
        #[case] denied: bool,
    ) {
        let env = json!([{"name": "CI", "value": "true"}, {"name": var, "value": value}]);
        let p = with(
            json!([{"name": "s", "secret": {"secretName": "other"}}]),
            json!({"volumeMounts": [{"name": "s", "mountPath": mount_path}], "env": env}),
        );
        let got = message(p);
        assert_eq!(got.is_some(), denied, "{got:?}");
        if let Some(got) = got {
            let note = format!("where registry clients read push credentials ({var}={value});");
            assert!(got.contains(&note), "{got}");
        }
    }

    #[rstest]
    #[case::value_from(json!({"name": "DOCKER_CONFIG", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}))]
    #[case::field_ref(json!({"name": "REGISTRY_AUTH_FILE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['a']"}}}))]
    #[case::expanded(json!({"name": "DOCKER_CONFIG", "value": "$(BASE)/docker"}))]
    #[case::escaped(json!({"name": "DOCKER_CONFIG", "value": "/cr$$eds"}))]
    #[case::relative(json!({"name": "HOME", "value": "creds"}))]
    #[case::backstep(json!({"name": "DOCKER_CONFIG", "value": "/x/../creds"}))]
    fn a_location_the_spec_does_not_show_fails_closed(#[case] env: Value) {
        let var = env["name"].as_str().unwrap().to_owned();
        let p = with(
            json!([{"name": "s", "secret": {"secretName": "other"}}, {"name": "e", "emptyDir": {}}]),
            json!({
                "env": [{"name": "BASE", "value": "/creds"}, env],
                "volumeMounts": [{"name": "e", "mountPath": "/cache"}, {"name": "s", "mountPath": "/creds"}],
            }),
        );
        let got = message(p.clone()).unwrap();
        let note = format!(
            "({var} has no literal absolute value, so it may name any mount: give it one);"
        );
        assert!(got.contains(&note), "{got}");
        // Without a Secret or CSI volume it names nothing to read.
        let mut no_secret = p;
        no_secret["spec"]["containers"][0]["volumeMounts"] =
            json!([{"name": "e", "mountPath": "/cache"}]);
        assert_eq!(message(no_secret), None);
    }

    #[test]
    fn a_variable_counts_for_its_own_container_only() {
        let mut p = pod(json!([
            container(
                "build",
                json!({"env": [{"name": "DOCKER_CONFIG", "value": "/creds"}]})
            ),
            container(
                "helper",
                json!({"volumeMounts": [{"name": "s", "mountPath": "/creds"}]})
            ),
        ]));
        p["spec"]["volumes"] = json!([{"name": "s", "secret": {"secretName": "other"}}]);
        assert!(rules(&create_pod(&runner("docker"), p.clone())).is_empty());
        p["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "s", "mountPath": "/creds"}]);
        assert_eq!(
            paths(&create_pod(&runner("docker"), p)),
            vec![(P, "spec.containers[0].volumeMounts[0].mountPath".to_owned())]
        );
    }

    #[rstest]
    // An emptyDir or a ConfigMap at DOCKER_CONFIG holds no Secret; an empty value is unset.
    #[case::empty_dir(json!([{"name": "v", "emptyDir": {}}]), json!([{"name": "DOCKER_CONFIG", "value": "/creds"}]))]
    #[case::config_map(json!([{"name": "v", "configMap": {"name": "docker-settings"}}]), json!([{"name": "DOCKER_CONFIG", "value": "/creds"}]))]
    #[case::empty_value(json!([{"name": "v", "secret": {"secretName": "other"}}]), json!([{"name": "DOCKER_CONFIG", "value": ""}]))]
    fn declared_locations_without_a_secret_are_allowed(#[case] volumes: Value, #[case] env: Value) {
        let p = with(
            volumes,
            json!({"env": env, "volumeMounts": [{"name": "v", "mountPath": "/creds"}]}),
        );
        assert!(rules(&create_pod(&runner("docker"), p)).is_empty());
    }

    fn parts(path: &str) -> Vec<&str> {
        super::path_parts(path).collect()
    }

    #[rstest]
    #[case("/kaniko/.docker", true)]
    #[case("/root/.docker/", true)]
    #[case("/home/user/.config/containers", true)]
    #[case("/run/user/1000/containers/auth.json", true)]
    #[case("/secrets/config.json", true)]
    #[case("/builds", false)]
    #[case("/etc/ssl/certs", false)]
    #[case("/docker", false)]
    #[case("/run/containers/0", true)]
    #[case("/run/user/1000/containers", true)]
    #[case("/run/containers/0", true)]
    #[case("/etc/containers", true)]
    #[case("/home/user/.config/helm/registry", true)]
    #[case("/etc/helm/registry/config.json", true)]
    #[case("/etc/registry", false)]
    // Directories above an auth location, which a Secret's keys or a CSI driver's files fill.
    #[case("/root", true)]
    #[case("/home/user", true)]
    #[case("/home/user/.config", true)]
    #[case("/run/user/1000", true)]
    #[case("/home", false)]
    #[case("/home/user/.ssh", false)]
    #[case("/run/secrets", false)]
    // CA certificates and image storage hold no login.
    #[case("/etc/containers/certs.d/registry.example.com:5000", false)]
    #[case("/var/lib/containers", false)]
    #[case("/var/lib/containers/storage", false)]
    #[case("/home/user/.local/share/containers", false)]
    #[case("/containers", true)]
    // A backstep is not resolved by its text.
    #[case("/run/user/1000/containers/x/..", true)]
    #[case("/etc/../root/x", true)]
    fn auth_paths(#[case] path: &str, #[case] expected: bool) {
        assert_eq!(is_registry_auth_path(&parts(path)), expected, "{path}");
    }
}
