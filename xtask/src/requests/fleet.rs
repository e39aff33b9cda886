//! The example fleet of `bundles/settings.example.yaml`: org `example`, its runner managers and
//! the identities that talk to the API server, plus deterministic uids and timestamps.

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::UserInfo;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The runners namespace of org `example`.
pub const NAMESPACE: &str = "example-runners";
/// The Attic cache namespace (settings default).
pub const ATTIC_NAMESPACE: &str = "attic-cache-dev";
/// The Attic server of the cache namespace, as the Nix jobs reach it.
pub fn attic_server() -> String {
    format!("http://attic.{ATTIC_NAMESPACE}.svc.cluster.local:8080/")
}
/// An Attic token written out where a Secret belongs (a fake JWT).
pub const ATTIC_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.bWFza2Vk";
/// The helper image of GitLab Runner 17.11 (x86_64).
pub const HELPER_IMAGE: &str =
    "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.11.0";
/// The runner manager image of the Helm chart.
pub const RUNNER_IMAGE: &str = "registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.11.0";

/// The five runner types, one Helm release (runner manager) each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    Dind,
    Docker,
    Rocky8,
    Rocky9,
    Nix,
}

impl Runner {
    pub fn kind(self) -> &'static str {
        match self {
            Self::Dind => "dind",
            Self::Docker => "docker",
            Self::Rocky8 => "rocky8",
            Self::Rocky9 => "rocky9",
            Self::Nix => "nix",
        }
    }

    /// The manager's ServiceAccount (also the one its job pods run as).
    pub fn service_account(self) -> String {
        format!("gitlab-runner-{}", self.kind())
    }

    /// `[[runners]] name` of the manager's config.toml (label `manager.runner.gitlab.com/name`).
    pub fn manager_name(self) -> String {
        format!("example-{}", self.kind())
    }

    /// The runner token shortened as GitLab Runner does (`glrt-` stripped, 9 characters).
    pub fn short_token(self) -> &'static str {
        match self {
            Self::Dind => "t3Xq9LmZa",
            Self::Docker => "Hk2vR8pWc",
            Self::Rocky8 => "b7NfQ2sJd",
            Self::Rocky9 => "Zr4mT6yEk",
            Self::Nix => "p9GwC3xVh",
        }
    }

    /// The default job image of the runner (`[runners.kubernetes] image`).
    pub fn default_image(self) -> &'static str {
        match self {
            Self::Dind => "docker:27",
            Self::Docker => "docker.io/library/alpine:3.20",
            Self::Rocky8 => "docker.io/rockylinux/rockylinux:8",
            Self::Rocky9 => "docker.io/rockylinux/rockylinux:9",
            Self::Nix => "docker.io/nixos/nix:2.24.10",
        }
    }

    /// `privileged` in the runner's config.toml.
    pub fn privileged(self) -> bool {
        self == Self::Dind
    }

    /// The manager pod (from the Helm chart's Deployment) whose bound token the manager uses.
    pub fn manager_pod(self) -> String {
        let suffix = match self {
            Self::Dind => "6d8f7c9b54-q7x2m",
            Self::Docker => "7b9c5d6f48-lk4wz",
            Self::Rocky8 => "5f6d8b7c99-m2pqr",
            Self::Rocky9 => "84c7d9f6b5-vx8nt",
            Self::Nix => "6c5b7f8d47-hj3sd",
        };
        format!("{}-{suffix}", self.service_account())
    }
}

/// Who sends the request, as `userInfo` says (identity never comes from labels or images).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// A runner manager, through its ServiceAccount's bound token.
    Runner(Runner),
    /// The cluster admin of a kubeadm cluster (`kubectl`, `helm`).
    Admin,
}

impl Identity {
    pub fn user_info(self) -> UserInfo {
        match self {
            Self::Runner(runner) => {
                let sa = runner.service_account();
                let pod = runner.manager_pod();
                let extra = [
                    (
                        "authentication.kubernetes.io/credential-id",
                        format!("JTI={}", uuid(&format!("jti {sa}"))),
                    ),
                    ("authentication.kubernetes.io/node-name", "worker-2".into()),
                    (
                        "authentication.kubernetes.io/node-uid",
                        uuid("node worker-2"),
                    ),
                    ("authentication.kubernetes.io/pod-name", pod.clone()),
                    (
                        "authentication.kubernetes.io/pod-uid",
                        uuid(&format!("pod {pod}")),
                    ),
                ];
                UserInfo {
                    username: Some(format!("system:serviceaccount:{NAMESPACE}:{sa}")),
                    uid: Some(uuid(&format!("serviceaccount {sa}"))),
                    groups: Some(vec![
                        "system:serviceaccounts".into(),
                        format!("system:serviceaccounts:{NAMESPACE}"),
                        "system:authenticated".into(),
                    ]),
                    extra: Some(
                        extra
                            .into_iter()
                            .map(|(key, value)| (key.to_string(), vec![value]))
                            .collect::<BTreeMap<_, _>>(),
                    ),
                }
            }
            Self::Admin => UserInfo {
                username: Some("kubernetes-admin".into()),
                uid: None,
                groups: Some(vec!["system:masters".into(), "system:authenticated".into()]),
                extra: None,
            },
        }
    }

    /// The field manager the client sends: client-go in the runner sets none, `kubectl apply`
    /// of a new object creates it with `kubectl-client-side-apply`.
    pub fn field_manager(self) -> Option<&'static str> {
        match self {
            Self::Runner(_) => None,
            Self::Admin => Some("kubectl-client-side-apply"),
        }
    }

    pub fn field_validation(self) -> Option<&'static str> {
        match self {
            Self::Runner(_) => None,
            Self::Admin => Some("Strict"),
        }
    }
}

/// A fixed, UUID-shaped id derived from `seed` (two FNV-1a hashes), so output is deterministic.
pub fn uuid(seed: &str) -> String {
    let hash = |basis: u64| {
        seed.bytes().fold(basis, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let hi = hash(0xcbf2_9ce4_8422_2325);
    let lo = hash(0x6c62_272e_07bb_0142);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        ((lo >> 48) & 0x3fff) | 0x8000,
        lo & 0xffff_ffff_ffff
    )
}

/// The fixed instant every recorded object was created at.
pub fn created_at() -> Time {
    const AT: &str = "2025-06-03T09:14:07Z";
    Time(
        AT.parse()
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}
