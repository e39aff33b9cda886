//! `public-registries`: in the runners namespace, every image of every container list and every
//! image volume comes from a registry in `allowedRegistries`. References are read with
//! [`ImageRef::parse`]; one that cannot be read is denied, since its registry cannot be known.

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::image::ImageRef;
use crate::request::json::{Str, is_one_of};
use alloc::{borrow::ToOwned, format, string::String, vec::Vec};

const RULE: RuleName = RuleName::PublicRegistries;

pub fn check<'r>(ctx: &'r Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    // Normalised when the settings were read.
    let allowed = &ctx.settings.allowed_registries;
    // The registries as the messages list them; only a denial formats them.
    let listed = || {
        if allowed.is_empty() {
            "none".to_owned()
        } else {
            let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
            crate::join::join(&names, ", ")
        }
    };
    let subject = ctx.subject();
    // Images already found allowed under these settings, in this evaluation or an earlier one:
    // GitLab's helper image runs in two containers of every job pod.
    let passed = &ctx.settings.allowed_images;
    // What is wrong with an image, if anything.
    let problem = |written: &'r str| -> Option<String> {
        if passed.contains(written) {
            return None;
        }
        Some(match ImageRef::parse(written) {
            Ok(r) if is_one_of(&r.registry, allowed) => {
                passed.insert(written);
                return None;
            }
            Ok(r) => format!(
                "image `{written}` comes from registry {}, which is not in allowedRegistries ({}); use an image from an allowed registry (an image without a registry is docker.io), or add the registry to allowedRegistries",
                r.registry,
                listed()
            ),
            Err(e) => format!(
                "image `{written}` is not a valid image reference ({e}), so its registry cannot be checked against allowedRegistries ({}); write it as [registry/]repository[:tag][@digest]",
                listed()
            ),
        })
    };
    // No image: nothing can run from it. The API server requires an image on every Pod
    // container (it omits an empty one, so absent and "" are the same); only templates may
    // leave it for a controller to fill, and the Pod that controller creates here is judged.
    // (A match, not `as_deref`, which is a call in the size-optimised module.)
    let given = |image: Option<&'r Str<'_>>| match image {
        Some(image) if !image.is_empty() => Some(&**image),
        _ => None,
    };
    for (list, i, c) in pod.containers() {
        if let Some(what) = given(c.image.as_ref()).and_then(problem) {
            out.push(
                Violation::from_parts(
                    RULE,
                    format!("{}spec.{}[{i}].image", pod.prefix, list.field()),
                    &[
                        "container \"",
                        &c.name,
                        "\" of ",
                        subject.as_str(),
                        ": ",
                        &what,
                    ],
                )
                .in_container(&c.name),
            );
        }
    }
    // An image volume (`volumes[].image`) pulls its image like a container does.
    for (i, v) in pod.volumes().iter().enumerate() {
        let reference = v.image.as_ref().and_then(|m| m.reference.as_ref());
        if let Some(what) = given(reference).and_then(problem) {
            out.push(Violation::from_parts(
                RULE,
                format!("{}spec.volumes[{i}].image.reference", pod.prefix),
                &[
                    "volume \"",
                    &v.name,
                    "\" of ",
                    subject.as_str(),
                    ": ",
                    &what,
                ],
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::decision::RuleName::PublicRegistries as R;
    use crate::testing::{ADMIN, Req, container, create_pod, decide, paths, pod, rules, runner};
    use rstest::rstest;
    use serde_json::{Value, json};

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn with_image(image: &str) -> Value {
        pod(json!([container("build", json!({"image": image}))]))
    }

    #[rstest]
    #[case::official("alpine:3.20")]
    #[case::library("library/alpine")]
    #[case::hub_user("bitnami/kubectl:1.31")]
    #[case::hub_explicit("docker.io/library/alpine:3")]
    #[case::hub_index("index.docker.io/library/alpine")]
    #[case::hub_registry_1("registry-1.docker.io/library/alpine")]
    #[case::hub_uppercase_host("DOCKER.IO/library/alpine")]
    #[case::gitlab(
        "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0"
    )]
    #[case::gitlab_case("Registry.GitLab.com/group/app:1")]
    #[case::digest(
        "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    )]
    #[case::gitlab_tag_digest(
        "registry.gitlab.com/g/a:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    )]
    fn allowed_registries_pass(#[case] image: &str) {
        assert_eq!(
            rules(&create_pod(&runner("docker"), with_image(image))),
            vec![],
            "{image}"
        );
    }

    #[rstest]
    #[case::other_registry("quay.io/podman/stable")]
    #[case::ghcr("ghcr.io/org/app:1")]
    #[case::lookalike_gitlab("registry.gitlab.com.evil.io/group/app")]
    #[case::lookalike_hub("docker.io.evil.io/library/alpine")]
    #[case::host_in_path("evil.io/registry.gitlab.com/app")]
    #[case::gitlab_port("registry.gitlab.com:443/group/app")]
    #[case::hub_port("docker.io:443/library/alpine")]
    #[case::localhost("localhost:5000/app")]
    #[case::uppercase_first_is_a_host("Evil/app")]
    #[case::trailing_dot("registry.gitlab.com./group/app")]
    #[case::userinfo_like("registry.gitlab.com@evil.io/app")]
    #[case::scheme("https://registry.gitlab.com/group/app")]
    #[case::blank(" ")]
    #[case::bad_digest("alpine@sha256:abc")]
    fn other_and_unreadable_images_are_denied(#[case] image: &str) {
        let d = decide(&create_pod(&runner("docker"), with_image(image)));
        assert_eq!(d.rules(), vec![R], "{image}");
        assert_eq!(d.violations[0].path, "spec.containers[0].image");
        assert_eq!(d.violations[0].container.as_deref(), Some("build"));
    }

    /// The paths of the violations of a pod created by an admin.
    fn image_paths(pod: Value) -> Vec<String> {
        paths(&create_pod(ADMIN, pod))
            .into_iter()
            .map(|(_, path)| path)
            .collect()
    }

    #[test]
    fn a_repeated_image_is_judged_in_every_container() {
        // Allowed images are remembered within a pod; denied ones are reported each time.
        let p = pod(json!([
            container("helper", json!({"image": "registry.gitlab.com/g/helper:1"})),
            container("build", json!({"image": "quay.io/x/y"})),
            container("svc-0", json!({"image": "registry.gitlab.com/g/helper:1"})),
            container("svc-1", json!({"image": "quay.io/x/y"})),
            container("svc-2", json!({"image": "registry.gitlab.com/g/helper:1x"}))
        ]));
        assert_eq!(
            image_paths(p),
            ["spec.containers[1].image", "spec.containers[3].image"]
        );
        let p = pod(json!([
            container("helper", json!({"image": "registry.gitlab.com/g/helper:1"})),
            container(
                "svc-0",
                json!({"image": "registry.gitlab.com.evil.io/g/helper:1"})
            )
        ]));
        assert_eq!(paths(&create_pod(ADMIN, p)).len(), 1);
    }

    #[test]
    fn every_container_list_and_template_is_judged() {
        let mut p = pod(json!([
            container("build", json!({})),
            container("svc-0", json!({"image": "quay.io/x/y"}))
        ]));
        p["spec"]["initContainers"] = json!([{"name": "init-permissions", "image": "ghcr.io/x/y"}]);
        p["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "evil.io/busybox"}]);
        assert_eq!(
            image_paths(p),
            [
                "spec.initContainers[0].image",
                "spec.containers[1].image",
                "spec.ephemeralContainers[0].image"
            ]
        );
        let template = json!({"spec": {"containers": [{"name": "c", "image": "quay.io/x/y"}]}});
        let input = Req::create(json!({"spec": {"jobTemplate": {"spec": {"template": template}}}}))
            .group("batch")
            .kind("CronJob");
        assert_eq!(
            paths(&input),
            vec![(
                R,
                "spec.jobTemplate.spec.template.spec.containers[0].image".to_owned()
            )]
        );
    }

    /// Image volumes (Kubernetes 1.31+) are pulled like container images.
    #[rstest]
    #[case::other_registry("quay.io/x/tools:1", vec!["spec.volumes[1].image.reference"])]
    #[case::allowed_registry("registry.gitlab.com/g/tools:1", vec![])]
    #[case::unreadable("https://evil.io/x", vec!["spec.volumes[1].image.reference"])]
    #[case::empty("", vec![])]
    fn image_volumes_are_judged(#[case] reference: &str, #[case] expected: Vec<&str>) {
        let mut p = with_image("alpine:3.20");
        p["spec"]["volumes"] = json!([
            {"name": "builds", "emptyDir": {}},
            {"name": "tools", "image": {"reference": reference, "pullPolicy": "IfNotPresent"}}
        ]);
        assert_eq!(image_paths(p), expected);
    }

    #[test]
    fn a_container_without_image_has_nothing_to_judge() {
        let p = pod(json!([{"name": "build"}, {"name": "svc-0", "image": ""}]));
        assert_eq!(rules(&create_pod(&runner("docker"), p)), vec![]);
    }

    #[test]
    fn allowed_registries_are_normalised_like_images() {
        let mut input = create_pod(&runner("docker"), with_image("quay.io/podman/stable"));
        input["parameters"]["allowedRegistries"] =
            json!(["Quay.IO", "index.docker.io", "localhost:5000"]);
        assert!(rules(&input).is_empty());
        input["review"]["object"] = with_image(&format!("alpine@{SHA}"));
        assert!(rules(&input).is_empty(), "index.docker.io allows docker.io");
        input["review"]["object"] = with_image("localhost:5000/app");
        assert!(rules(&input).is_empty(), "ports match exactly");
        input["review"]["object"] = with_image("localhost/app");
        assert_eq!(rules(&input), vec![R], "localhost is not localhost:5000");
        input["review"]["object"] = with_image("registry.gitlab.com/g/a");
        assert_eq!(rules(&input), vec![R]);
    }

    #[test]
    fn message_names_the_registry_and_the_allowed_list() {
        let d = decide(&create_pod(
            &runner("docker"),
            with_image("registry.gitlab.com.evil.io/group/app:1"),
        ));
        assert_eq!(
            d.violations[0].msg,
            "public-registries: container \"build\" of Pod acme-runners/runner-abc-project-42-concurrent-0: image `registry.gitlab.com.evil.io/group/app:1` comes from registry registry.gitlab.com.evil.io, which is not in allowedRegistries (docker.io, registry.gitlab.com); use an image from an allowed registry (an image without a registry is docker.io), or add the registry to allowedRegistries"
        );
    }
}
