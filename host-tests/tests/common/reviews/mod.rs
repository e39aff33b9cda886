//! Generated AdmissionReviews, shared by the property tests.
//!
//! As Gatekeeper input documents, for `rego_property` (the Rego twin in regorus) and `opa_real`
//! (real OPA): the objects are typed `k8s-openapi` objects: Pods and every workload kind, RBAC
//! objects, Secrets, ConfigMaps, NetworkPolicies and a Namespace, with random security contexts,
//! identities (each runner, admin, other ServiceAccounts, exempt), namespaces (runners, others,
//! cluster-scoped), operations, images and volumes; sometimes a value of the wrong type
//! somewhere. As AdmissionRequests built as JSON, for `vap_property`: see [`json`].

mod containers;
pub mod json;
mod objects;
mod pods;
mod requests;

use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

#[allow(unused_imports)] // each test crate uses a part
pub use requests::{gatekeeper_input, module_rule_paths};

const RUNNERS_NS: &str = "example-runners";
const EXEMPT: &str = "cluster-admin-bob";

/// Image references: registries written every way (case, ports, defaults, lookalikes), digests
/// whole and cut short, and references that do not parse.
const IMAGES: &[&str] = &[
    "alpine:3.20",
    "docker:27-dind",
    "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0",
    "gcr.io/kaniko-project/executor:debug",
    "index.docker.io/library/alpine",
    "DOCKER.IO/library/alpine",
    "Registry.GitLab.com/x/y",
    "registry.gitlab.com.evil.io/x/y:1",
    "registry.gitlab.com:443/x/y",
    "localhost:5000/app",
    "localhost/app",
    "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "alpine@sha256:0123",
    "Alpine",
    "nixos/nix:2.24",
    "[::1]:5000/app",
    "a//b",
    "a_b.c/app",
    "foo.bar",
    "foo:bar/baz",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "docker.io/library/alpine:-bad",
    "registry-1.docker.io/library/ubuntu:24.04",
    "ubuntu:24.04@sha512:00",
    "quay.io/podman/stable",
    "",
];

fn s(x: &str) -> String {
    x.to_owned()
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    select(items).prop_map(str::to_owned)
}

fn opt_pick(items: &'static [&'static str]) -> impl Strategy<Value = Option<String>> + Clone {
    option::of(pick(items))
}
