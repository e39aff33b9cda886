//! `namespaced-rbac`: a runner's permissions stay namespaced and as narrow as the executor
//! needs.

use policy::decision::RuleName::NamespacedRbac;

use super::Case;
use super::builders::{allow, deny};
use crate::requests::fleet::{Identity, Runner};
use crate::requests::objects::{
    chart_default_role, cluster_role_binding, cluster_role_in_namespace, narrow_runner_role,
    runner_role_binding,
};
use crate::requests::review::{Object, Request};

pub fn cases() -> Vec<Case> {
    use Runner::Docker;
    let admin = Identity::Admin;
    let helm = |object| Request::create(admin, object).field_manager("helm");
    vec![
        deny(
            "helm-default-runner-role",
            "rbac/helm-default-role.json",
            &[NamespacedRbac],
            helm(Object::of(&chart_default_role(Docker))),
        ),
        allow(
            "narrow-runner-role",
            "rbac/narrow-runner-role.json",
            helm(Object::of(&narrow_runner_role(Docker))),
        ),
        allow(
            "runner-role-binding",
            "rbac/runner-role-binding.json",
            helm(Object::of(&runner_role_binding(Docker))),
        ),
        deny(
            "cluster-admin-binding-to-runner",
            "rbac/cluster-admin-binding-to-runner.json",
            &[NamespacedRbac],
            Request::create(
                admin,
                Object::of(&cluster_role_binding(Docker, "cluster-admin")),
            ),
        ),
        deny(
            "runner-role-binding-to-cluster-role",
            "rbac/role-binding-to-cluster-role.json",
            &[NamespacedRbac],
            Request::create(
                admin,
                Object::of(&cluster_role_in_namespace(Docker, "edit")),
            ),
        ),
    ]
}
