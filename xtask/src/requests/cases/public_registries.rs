//! `public-registries`: images, image volumes included, come from the allowed registries only.

use k8s_openapi::api::core::v1::{ImageVolumeSource, Volume};
use policy::decision::RuleName::PublicRegistries;

use super::Case;
use super::builders::{allow, deny, job};
use crate::requests::fleet::Runner;
use crate::requests::pod::{JobPod, mount};

/// A pinned image of the GitLab registry (`@sha256:` digest, no tag).
const PINNED: &str = "registry.gitlab.com/group/app@sha256:e6886c6bc9e3248ab572c40bb5f1a976831ed47399a87789c0f9924ccda0e491";

pub fn cases() -> Vec<Case> {
    use Runner::Docker;
    let image = |image: &str| job(Docker, &JobPod::new(Docker).image(image));
    vec![
        deny(
            "registry-suffix-lookalike",
            "registry/gitlab-suffix-lookalike.json",
            &[PublicRegistries],
            image("registry.gitlab.com.evil.io/group/app:1"),
        ),
        deny(
            "registry-quay",
            "registry/quay.json",
            &[PublicRegistries],
            image("quay.io/buildah/stable:v1.37"),
        ),
        deny(
            "registry-image-volume-quay",
            "registry/image-volume-quay.json",
            &[PublicRegistries],
            // An image volume (Kubernetes 1.31+) is pulled like a container image.
            job(
                Docker,
                &JobPod::new(Docker).volume(
                    Volume {
                        name: "tools".into(),
                        image: Some(ImageVolumeSource {
                            reference: Some("quay.io/buildah/stable:v1.37".into()),
                            pull_policy: Some("IfNotPresent".into()),
                        }),
                        ..Volume::default()
                    },
                    mount("tools", "/opt/tools"),
                ),
            ),
        ),
        allow(
            "registry-gitlab-digest",
            "registry/gitlab-digest.json",
            image(PINNED),
        ),
        allow(
            "registry-index-docker-io",
            "registry/index-docker-io.json",
            image("index.docker.io/library/alpine:3.20"),
        ),
    ]
}
