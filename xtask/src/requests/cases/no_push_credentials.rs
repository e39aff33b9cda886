//! `no-push-credentials`: registry push credentials reach a job only in the projects the
//! settings allow, however they are mounted, and a certificate or an empty login is no
//! credential.

use k8s_openapi::api::core::v1::{
    CSIVolumeSource, ConfigMapVolumeSource, EnvFromSource, SecretEnvSource, Volume, VolumeMount,
};
use policy::decision::RuleName::NoPushCredentials;

use super::Case;
use super::builders::{
    BUILDAH, PUSH_SECRET, allow, create, deny, job, kaniko_job, kaniko_with_push_secret,
};
use crate::requests::fleet::{Identity, Runner};
use crate::requests::pod::{
    APP, JobPod, RELEASE, container, edited, mount, projected_secret, secret_items, secret_volume,
};

pub fn cases() -> Vec<Case> {
    let mut cases = push_credentials();
    cases.extend(push_locations());
    cases
}

/// The push Secret itself, by volume, CSI driver or env, and a docker config projected.
fn push_credentials() -> Vec<Case> {
    let docker = Identity::Runner(Runner::Docker);
    let projected = projected_secret(
        "docker-config",
        "ci-docker-config",
        &[(".dockerconfigjson", "config.json")],
    );
    let projected_at = VolumeMount {
        sub_path: Some("config.json".into()),
        ..mount("docker-config", "/root/.docker/config.json")
    };
    vec![
        deny(
            "push-secret-volume-kaniko",
            "push/secret-volume-kaniko.json",
            &[NoPushCredentials],
            job(Runner::Docker, &kaniko_with_push_secret()),
        ),
        allow(
            "push-registry-ca-for-buildah",
            "push/registry-ca-for-buildah.json",
            // `[[runners.kubernetes.volumes.secret]]`: a private registry's CA certificate where
            // buildah and podman look for it. A certificate is no login.
            job(
                Runner::Docker,
                &JobPod::new(Runner::Docker).image(BUILDAH).volume(
                    secret_volume("registry-ca", "registry-ca"),
                    mount(
                        "registry-ca",
                        "/etc/containers/certs.d/registry.example.com:5000",
                    ),
                ),
            ),
        ),
        deny(
            "push-csi-volume-kaniko",
            "push/csi-volume-kaniko.json",
            &[NoPushCredentials],
            job(
                Runner::Docker,
                // The Secrets Store CSI driver mounting a vault entry where Kaniko reads auth.
                &kaniko_job().volume(
                    Volume {
                        name: "push-credentials".into(),
                        csi: Some(CSIVolumeSource {
                            driver: "secrets-store.csi.k8s.io".into(),
                            read_only: Some(true),
                            volume_attributes: Some(
                                [(
                                    "secretProviderClass".to_string(),
                                    "registry-push".to_string(),
                                )]
                                .into(),
                            ),
                            ..CSIVolumeSource::default()
                        }),
                        ..Volume::default()
                    },
                    mount("push-credentials", "/kaniko/.docker"),
                ),
            ),
        ),
        deny(
            "push-secret-env-from",
            "push/secret-env-from.json",
            &[NoPushCredentials],
            create(
                docker,
                &edited(kaniko_job().build(), |pod| {
                    container(pod, "build").env_from = Some(vec![EnvFromSource {
                        secret_ref: Some(SecretEnvSource {
                            name: PUSH_SECRET.into(),
                            optional: None,
                        }),
                        ..EnvFromSource::default()
                    }]);
                }),
            ),
        ),
        deny(
            "push-secret-env-key-ref",
            "push/secret-env-key-ref.json",
            &[NoPushCredentials],
            job(
                Runner::Docker,
                &kaniko_job().env_from_secret("REGISTRY_AUTH", PUSH_SECRET, ".dockerconfigjson"),
            ),
        ),
        deny(
            "push-projected-docker-config",
            "push/projected-docker-config.json",
            &[NoPushCredentials],
            job(
                Runner::Docker,
                &JobPod::new(Runner::Docker)
                    .image("docker:27")
                    .volume(projected, projected_at),
            ),
        ),
        deny(
            "push-secret-annotation-only-4242",
            "push/annotation-only-4242.json",
            &[NoPushCredentials],
            create(
                docker,
                &edited(kaniko_with_push_secret().project(APP).build(), |pod| {
                    pod.metadata.annotations.get_or_insert_default().insert(
                        "project.runner.gitlab.com/id".into(),
                        RELEASE.id.to_string(),
                    );
                }),
            ),
        ),
    ]
}

/// Push credentials placed by Secret items, or at a location the pod's env names, and their
/// legitimate neighbours. None of these Secrets is in `registryCredentialSecrets`.
fn push_locations() -> Vec<Case> {
    let docker = || JobPod::new(Runner::Docker).image("docker:27");
    let buildah = || JobPod::new(Runner::Docker).image(BUILDAH);
    let dockerconfig = |volume: &str| {
        secret_items(
            volume,
            "ci-docker-config",
            &[(".dockerconfigjson", ".docker/config.json")],
        )
    };
    let creds = || secret_volume("creds", "ci-docker-config");
    vec![
        deny(
            "push-items-docker-config-in-home",
            "push/items-docker-config-in-home.json",
            &[NoPushCredentials],
            // The item puts the config at /root/.docker/config.json.
            job(
                Runner::Docker,
                &docker().volume(dockerconfig("cfg"), mount("cfg", "/root")),
            ),
        ),
        deny(
            "push-items-docker-config-under-mount",
            "push/items-docker-config-under-mount.json",
            &[NoPushCredentials],
            job(
                Runner::Docker,
                &docker()
                    .env(&[("HOME", "/builds/home")])
                    .volume(dockerconfig("cfg"), mount("cfg", "/builds/home")),
            ),
        ),
        deny(
            "push-items-podman-auth-for-user",
            "push/items-podman-auth-for-user.json",
            &[NoPushCredentials],
            // A projected Secret item where podman, buildah and skopeo look for uid 1000.
            job(
                Runner::Docker,
                &buildah()
                    .volume(
                        projected_secret(
                            "auth",
                            "ci-docker-config",
                            &[(".dockerconfigjson", "containers/auth.json")],
                        ),
                        mount("auth", "/opt/user-1000"),
                    )
                    .env(&[("XDG_RUNTIME_DIR", "/opt/user-1000")]),
            ),
        ),
        allow(
            "push-items-registry-ca-for-buildah",
            "push/items-registry-ca-for-buildah.json",
            // Only the CA certificate of the Secret, where buildah looks for it.
            job(
                Runner::Docker,
                &buildah().volume(
                    secret_items("registry-ca", "registry-tls", &[("ca.crt", "ca.crt")]),
                    mount(
                        "registry-ca",
                        "/etc/containers/certs.d/registry.example.com:5000",
                    ),
                ),
            ),
        ),
        allow(
            "push-items-sub-path-selects-a-certificate",
            "push/items-sub-path-selects-a-certificate.json",
            // The Secret holds a docker config too, but the subPath shows only the certificate.
            job(
                Runner::Docker,
                &docker().volume(
                    secret_items(
                        "tls",
                        "ci-files",
                        &[
                            ("ca.crt", "certs/ca.crt"),
                            (".dockerconfigjson", "docker/config.json"),
                        ],
                    ),
                    VolumeMount {
                        sub_path: Some("certs/ca.crt".into()),
                        ..mount("tls", "/usr/local/share/ca-certificates/registry.crt")
                    },
                ),
            ),
        ),
        deny(
            "push-env-docker-config",
            "push/env-docker-config.json",
            &[NoPushCredentials],
            // crane, docker and kaniko read /creds/docker/config.json.
            job(
                Runner::Docker,
                &docker()
                    .env(&[("DOCKER_CONFIG", "/creds/docker")])
                    .volume(creds(), mount("creds", "/creds/docker")),
            ),
        ),
        deny(
            "push-env-registry-auth-file",
            "push/env-registry-auth-file.json",
            &[NoPushCredentials],
            job(
                Runner::Docker,
                &buildah()
                    .env(&[("REGISTRY_AUTH_FILE", "/creds/auth.json")])
                    .volume(creds(), mount("creds", "/creds")),
            ),
        ),
        deny(
            "push-env-docker-config-expanded",
            "push/env-docker-config-expanded.json",
            &[NoPushCredentials],
            // Kubernetes expands $(CREDS); the rule does not, so the location is unknown.
            job(
                Runner::Docker,
                &docker()
                    .env(&[("CREDS", "/creds"), ("DOCKER_CONFIG", "$(CREDS)/docker")])
                    .volume(creds(), mount("creds", "/creds")),
            ),
        ),
        deny(
            "push-env-docker-config-from-secret",
            "push/env-docker-config-from-secret.json",
            &[NoPushCredentials],
            // The value comes from a Secret the pod spec does not show.
            job(
                Runner::Docker,
                &docker()
                    .env_from_secret("DOCKER_CONFIG", "ci-settings", "docker-config")
                    .volume(creds(), mount("creds", "/creds")),
            ),
        ),
        allow(
            "push-env-docker-config-empty-dir",
            "push/env-docker-config-empty-dir.json",
            // The job logs in at run time with CI/CD credentials, into an emptyDir.
            job(
                Runner::Docker,
                &docker().env(&[("DOCKER_CONFIG", "/creds/docker")]).volume(
                    Volume {
                        name: "creds".into(),
                        empty_dir: Some(Default::default()),
                        ..Volume::default()
                    },
                    mount("creds", "/creds/docker"),
                ),
            ),
        ),
        allow(
            "push-env-home-config-map-docker",
            "push/env-home-config-map-docker.json",
            // A ConfigMap (credential helpers, proxies) holds no Secret.
            job(
                Runner::Docker,
                &docker().env(&[("HOME", "/home/ci")]).volume(
                    Volume {
                        name: "docker-settings".into(),
                        config_map: Some(ConfigMapVolumeSource {
                            name: "docker-settings".into(),
                            ..Default::default()
                        }),
                        ..Volume::default()
                    },
                    mount("docker-settings", "/home/ci/.docker"),
                ),
            ),
        ),
        allow(
            "push-env-kaniko-with-registry-ca",
            "push/env-kaniko-with-registry-ca.json",
            // DOCKER_CONFIG names /kaniko/.docker; the CA Secret sits elsewhere.
            job(
                Runner::Docker,
                &kaniko_job().volume(
                    secret_volume("registry-ca", "registry-tls"),
                    mount("registry-ca", "/kaniko/ssl/certs/registry"),
                ),
            ),
        ),
    ]
}
