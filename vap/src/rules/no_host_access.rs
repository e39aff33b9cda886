//! `no-host-access`: host namespaces, hostPath volumes and host ports in runner pods.

use policy::rule_name::RuleName;

use crate::cel::{any, bind_value, first_of, get, lit, present, re};

use super::Builder;
use super::items::{Items, SUBJECT, item_of, requested_by};

const RULE: RuleName = RuleName::NoHostAccess;

pub fn build(b: &mut Builder<'_>) {
    let branches: Vec<(String, String)> = [
        ("hostNetwork", "the node's network"),
        ("hostPID", "the node's processes"),
        ("hostIPC", "the node's IPC"),
    ]
    .iter()
    .map(|(f, what)| {
        (
            format!("{} == true", get("variables.spec", f, "false")),
            lit(&format!(
                "sets {f}: true and would share {what}; runner pods never need it, remove it"
            )),
        )
    })
    .collect();
    b.validation(
        RULE,
        "host namespaces",
        format!(
            "!variables.runnersPod || !variables.wholePod || !{}",
            any(branches.iter().map(|(cond, _)| cond))
        ),
        format!("{} + ') ' + {}", requested_by(SUBJECT), first_of(&branches)),
    );
    let host_paths = Items::new("variables.volumes", "v", present("v", "hostPath"));
    b.item_validation(
        RULE,
        "hostPath volumes",
        "variables.runnersPod",
        &host_paths,
        &bind_value(
            "p",
            &get("v.hostPath", "path", "''"),
            &format!(
                "{} + ') ' + (p.matches({}) ? 'mounts the node\\'s Docker socket, which is root on the node' : 'mounts host path `' + p + '` from the node') + '; use the dind service (DOCKER_HOST=tcp://docker:2376) or an emptyDir instead'",
                requested_by(&item_of("volume", "v")),
                re("docker[.]sock/*$")
            ),
        ),
    );
    let ports = Items::new(
        get("c", "ports", "[]"),
        "x",
        format!("({} && x.hostPort != 0)", present("x", "hostPort")),
    );
    b.item_validation(
        RULE,
        "host ports",
        "variables.runnersPod",
        &Items::containers_with(&ports),
        &format!(
            "{} + ') binds host port ' + string({}.hostPort) + '; use a Service or the pod IP instead'",
            requested_by(&item_of("container", "c")),
            ports.first()
        ),
    );
}
