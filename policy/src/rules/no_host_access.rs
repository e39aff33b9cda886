//! `no-host-access`: in the runners namespace no workload, dind included, reaches the node:
//! host namespaces, hostPath volumes (the Docker socket above all) and host ports.

use super::Context;
use crate::decision::{RuleName, Violation};
use alloc::{borrow::ToOwned, format, vec::Vec};

const RULE: RuleName = RuleName::NoHostAccess;

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    let p = pod.prefix;
    let subject = ctx.subject();
    let who = ctx.requester_name();
    let spec = pod.spec;
    let namespaces = [
        ("hostNetwork", spec.host_network, "the node's network"),
        ("hostPID", spec.host_pid, "the node's processes"),
        ("hostIPC", spec.host_ipc, "the node's IPC"),
    ];
    for (field, value, what) in namespaces {
        if value == Some(true) && pod.whole() {
            out.push(Violation::new(
                RULE,
                format!("{p}spec.{field}"),
                format!(
                    "{subject} (requested by {who}) sets {field}: true and would share {what}; runner pods never need it, remove it"
                ),
            ));
        }
    }
    for (i, volume) in pod.volumes().iter().enumerate() {
        let Some(host_path) = &volume.host_path else {
            continue;
        };
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
    for (list, i, c) in pod.containers() {
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

#[cfg(test)]
mod tests {
    use crate::decision::RuleName::NoHostAccess as H;
    use crate::testing::{
        ADMIN, container, create_pod, decide, paths, pod, pod_with_spec, rules, runner,
    };
    use rstest::rstest;
    use serde_json::{Value, json};

    fn spec(extra: Value) -> Value {
        pod_with_spec(extra)
    }

    #[rstest]
    #[case::host_network(spec(json!({"hostNetwork": true})), "spec.hostNetwork")]
    #[case::host_pid(spec(json!({"hostPID": true})), "spec.hostPID")]
    #[case::host_ipc(spec(json!({"hostIPC": true})), "spec.hostIPC")]
    #[case::docker_sock(spec(json!({"volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}]})), "spec.volumes[0].hostPath")]
    #[case::any_host_path(spec(json!({"volumes": [{"name": "repo", "emptyDir": {}}, {"name": "root", "hostPath": {"path": "/"}}]})), "spec.volumes[1].hostPath")]
    #[case::host_port(pod(json!([container("build", json!({"ports": [{"containerPort": 80}, {"containerPort": 2375, "hostPort": 2375}]}))])), "spec.containers[0].ports[1].hostPort")]
    #[case::init_host_port(spec(json!({"initContainers": [{"name": "init-permissions", "ports": [{"containerPort": 1, "hostPort": 1}]}]})), "spec.initContainers[0].ports[0].hostPort")]
    fn host_access_is_denied_to_everyone_including_dind(#[case] pod: Value, #[case] path: &str) {
        for user in [runner("dind"), runner("docker"), ADMIN.to_owned()] {
            assert_eq!(
                paths(&create_pod(&user, pod.clone())),
                vec![(H, path.to_owned())],
                "{user}"
            );
        }
    }

    #[test]
    fn docker_socket_message_says_what_to_use_instead() {
        let p = spec(
            json!({"volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}]}),
        );
        let d = decide(&create_pod(&runner("dind"), p));
        assert!(
            d.violations[0].msg.contains("Docker socket"),
            "{}",
            d.violations[0].msg
        );
        assert!(d.violations[0].msg.starts_with("no-host-access: "));
    }

    #[rstest]
    #[case::false_flags(spec(json!({"hostNetwork": false, "hostPID": false, "hostIPC": false})))]
    #[case::host_port_zero(pod(json!([container("build", json!({"ports": [{"containerPort": 80, "hostPort": 0}]}))])))]
    #[case::empty_dir(spec(json!({"volumes": [{"name": "repo", "emptyDir": {}}]})))]
    fn no_host_access_is_allowed(#[case] pod: Value) {
        assert_eq!(rules(&create_pod(&runner("docker"), pod)), vec![]);
    }
}
