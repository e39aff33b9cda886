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

fn s(x: &str) -> String {
    x.to_owned()
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    select(items).prop_map(str::to_owned)
}

fn opt_pick(items: &'static [&'static str]) -> impl Strategy<Value = Option<String>> + Clone {
    option::of(pick(items))
}
