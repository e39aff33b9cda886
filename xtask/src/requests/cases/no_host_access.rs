//! `no-host-access`: host paths, namespaces and ports of the node.

use k8s_openapi::api::core::v1::{ContainerPort, HostPathVolumeSource, Volume};
use policy::decision::RuleName::NoHostAccess;

use super::Case;
use super::builders::{create, deny, dind_job, job, tweaked};
use crate::requests::fleet::{Identity, Runner};
use crate::requests::pod::{JobPod, container, edited, mount, spec};

pub fn cases() -> Vec<Case> {
    use Runner::{Dind, Docker, Rocky8, Rocky9};
    let socket = Volume {
        name: "docker-sock".into(),
        host_path: Some(HostPathVolumeSource {
            path: "/var/run/docker.sock".into(),
            type_: Some("Socket".into()),
        }),
        ..Volume::default()
    };
    vec![
        deny(
            "dind-docker-sock-host-path",
            "host/dind-docker-sock.json",
            &[NoHostAccess],
            job(
                Dind,
                &dind_job(Dind).volume(socket, mount("docker-sock", "/var/run/docker.sock")),
            ),
        ),
        deny(
            "dind-host-network",
            "host/dind-host-network.json",
            &[NoHostAccess],
            create(
                Identity::Runner(Dind),
                &edited(dind_job(Dind).build(), |p| {
                    spec(p).host_network = Some(true)
                }),
            ),
        ),
        deny(
            "host-pid",
            "host/host-pid.json",
            &[NoHostAccess],
            tweaked(Docker, |p| spec(p).host_pid = Some(true)),
        ),
        deny(
            "host-ipc",
            "host/host-ipc.json",
            &[NoHostAccess],
            tweaked(Rocky8, |p| spec(p).host_ipc = Some(true)),
        ),
        deny(
            "host-port",
            "host/host-port.json",
            &[NoHostAccess],
            create(
                Identity::Runner(Rocky9),
                &edited(
                    JobPod::new(Rocky9)
                        .service("docker.io/library/postgres:16", &[])
                        .build(),
                    |pod| {
                        container(pod, "svc-0").ports = Some(vec![ContainerPort {
                            container_port: 5432,
                            host_port: Some(5432),
                            ..Default::default()
                        }]);
                    },
                ),
            ),
        ),
    ]
}
