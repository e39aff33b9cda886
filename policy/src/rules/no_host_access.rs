//! `no-host-access`: in the runners namespace no workload, dind included, reaches the node:
//! host namespaces, hostPath volumes (the Docker socket above all) and host ports.

use super::Context;
use crate::decision::{RuleName, Violation};

const RULE: RuleName = RuleName::NoHostAccess;

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    let p = pod.prefix;
    let subject = ctx.object_ref();
    let who = ctx.who();
    let spec = pod.spec;
    let namespaces = [
        ("hostNetwork", spec.host_network, "the node's network"),
        ("hostPID", spec.host_pid, "the node's processes"),
        ("hostIPC", spec.host_ipc, "the node's IPC"),
    ];
    for (field, value, what) in namespaces {
        if value == Some(true) {
            out.push(Violation::new(
                RULE,
                format!("{p}spec.{field}"),
                format!(
                    "{subject} (requested by {who}) sets {field}: true and would share {what}; runner pods never need it, remove it"
                ),
            ));
        }
    }
    for (i, volume) in spec.volumes.iter().enumerate() {
        let Some(host_path) = &volume.host_path else { continue };
        let path = host_path.path.as_ref();
        let what = if path.trim_end_matches('/').ends_with("docker.sock") {
            "mounts the node's Docker socket, which is root on the node".to_owned()
        } else {
            format!("mounts host path `{path}` from the node")
        };
        out.push(Violation::new(
            RULE,
            format!("{p}spec.volumes[{i}].hostPath"),
            format!(
                "volume \"{}\" of {subject} (requested by {who}) {what}; use the dind service (DOCKER_HOST=tcp://docker:2376) or an emptyDir instead",
                volume.name
            ),
        ));
    }
    for (list, i, c) in spec.all_containers() {
        for (j, port) in c.ports.iter().enumerate() {
            if let Some(host_port) = port.host_port.filter(|p| *p != 0) {
                out.push(
                    Violation::new(
                        RULE,
                        format!("{p}spec.{}[{i}].ports[{j}].hostPort", list.field()),
                        format!(
                            "container \"{}\" of {subject} (requested by {who}) binds host port {host_port}; use a Service or the pod IP instead",
                            c.name
                        ),
                    )
                    .in_container(&c.name),
                );
            }
        }
    }
}
