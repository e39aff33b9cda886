//! UPDATEs of a running dind job pod by someone else than the dind runner: judged by what they
//! add or change, not by the privileged containers the dind runner was allowed to create.

use k8s_openapi::api::core::v1::{
    EphemeralContainer, HostPathVolumeSource, Pod, ResourceRequirements, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use policy::decision::RuleName::{DindOnlyPrivilege, NoHostAccess, PublicRegistries};

use super::Case;
use super::builders::{BUSYBOX, allow, debugger, deny, dind_job, privileged, restricted, stored};
use crate::requests::fleet::{Identity, Runner};
use crate::requests::pod::{container, edited, spec};
use crate::requests::review::{Object, Request};

pub fn cases() -> Vec<Case> {
    let running = stored(dind_job(Runner::Dind).build(), "Running");
    let admin = Identity::Admin;
    let debug = |c: EphemeralContainer| {
        let new = edited(running.clone(), |pod| {
            spec(pod).ephemeral_containers = Some(vec![c])
        });
        Request::update(admin, Object::of(&running), Object::of(&new))
            .subresource("ephemeralcontainers")
            .field_manager("kubectl-debug")
    };
    let change = |edit: fn(&mut Pod)| {
        Request::update(
            admin,
            Object::of(&running),
            Object::of(&edited(running.clone(), edit)),
        )
    };
    vec![
        allow(
            "admin-debugs-dind-job-pod",
            "updates/admin-debugs-dind-job-pod.json",
            debug(debugger(BUSYBOX, restricted())),
        ),
        allow(
            "admin-resizes-dind-job-pod",
            "updates/admin-resizes-dind-job-pod.json",
            change(|pod| {
                let limits = [("cpu", "2"), ("memory", "4Gi")]
                    .map(|(k, v)| (k.to_owned(), Quantity(v.into())));
                container(pod, "build").resources = Some(ResourceRequirements {
                    limits: Some(limits.into_iter().collect()),
                    ..Default::default()
                });
            })
            .subresource("resize")
            .field_manager("kubectl-patch"),
        ),
        deny(
            "admin-debugs-dind-job-pod-privileged",
            "updates/admin-debugs-dind-job-pod-privileged.json",
            &[DindOnlyPrivilege],
            debug(debugger(BUSYBOX, privileged())),
        ),
        deny(
            "admin-debugs-dind-job-pod-from-quay",
            "updates/admin-debugs-dind-job-pod-from-quay.json",
            &[PublicRegistries],
            debug(debugger("quay.io/podman/stable", restricted())),
        ),
        // A new image in a privileged container is a new privileged program.
        deny(
            "admin-changes-dind-service-image",
            "updates/admin-changes-dind-service-image.json",
            &[DindOnlyPrivilege],
            change(|pod| container(pod, "svc-0").image = Some("docker:28-dind".into())),
        ),
        // Anything else changed: the whole pod is judged, as for a CREATE.
        deny(
            "admin-debugs-dind-job-pod-adding-host-path",
            "updates/admin-debugs-dind-job-pod-adding-host-path.json",
            &[DindOnlyPrivilege, NoHostAccess],
            change(|pod| {
                spec(pod).ephemeral_containers = Some(vec![debugger(BUSYBOX, restricted())]);
                spec(pod).volumes.get_or_insert_default().push(Volume {
                    name: "node-root".into(),
                    host_path: Some(HostPathVolumeSource {
                        path: "/".into(),
                        type_: None,
                    }),
                    ..Volume::default()
                });
            }),
        ),
    ]
}
