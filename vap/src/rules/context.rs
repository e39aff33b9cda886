//! The request context every rule reads, as variables (`Context` in the policy crate): who asks,
//! for what object, and the pod spec it writes, if any.

use crate::cel::{get, get_path, list, map, present};

use super::Builder;

pub fn build(b: &mut Builder<'_>) {
    let s = b.settings;
    b.variable(
        "isWrite",
        "request.operation == 'CREATE' || request.operation == 'UPDATE'".to_owned(),
    );
    b.variable(
        "meta",
        format!(
            "object != null && {} ? object.metadata : {{}}",
            present("object", "metadata")
        ),
    );
    // A Namespace is cluster-scoped, though its requests carry its own name as namespace.
    b.variable(
        "ns",
        format!(
            "request.kind.group == '' && request.kind.kind == 'Namespace' ? '' : request.namespace != '' ? request.namespace : {}",
            get("variables.meta", "namespace", "''")
        ),
    );
    b.variable("inRunners", format!("variables.ns == {}", b.runners_ns()));
    let identity = |sa: &str| format!("system:serviceaccount:{}:{sa}", s.runners_namespace);
    let types = map(s
        .runners
        .iter()
        .map(|r| (identity(&r.service_account), r.runner_type.as_str())));
    let accounts = map(s
        .runners
        .iter()
        .map(|r| (identity(&r.service_account), r.service_account.clone())));
    let of_user = |map: &str| {
        format!("request.userInfo.username in {map} ? {map}[request.userInfo.username] : ''")
    };
    b.variable("runner", of_user(&types));
    b.variable("runnerServiceAccount", of_user(&accounts));
    let privileged: Vec<String> = s
        .runners
        .iter()
        .filter(|r| s.is_privileged(r.runner_type))
        .map(|r| identity(&r.service_account))
        .collect();
    b.variable(
        "privilegedRunner",
        format!("request.userInfo.username in {}", list(&privileged)),
    );
    b.variable(
        "who",
        "request.userInfo.username + (variables.runner != '' ? ' (the ' + variables.runner + ' runner)' : '')".to_owned(),
    );
    let m = "variables.meta";
    b.variable(
        "objectName",
        format!(
            "{name} != '' ? {name} : {generate} != '' ? {generate} : request.name",
            name = get(m, "name", "''"),
            generate = get(m, "generateName", "''")
        ),
    );
    b.variable(
        "subject",
        "variables.ns == '' ? (variables.objectName == '' ? request.kind.kind : request.kind.kind + ' ' + variables.objectName) : (variables.objectName == '' ? request.kind.kind + ' in ' + variables.ns : request.kind.kind + ' ' + variables.ns + '/' + variables.objectName)".to_owned(),
    );
    // The kinds that carry a pod spec, and where.
    b.variable(
        "podKind",
        "request.kind.group == '' && request.kind.kind == 'Pod' ? 'pod' : (request.kind.group == 'apps' && request.kind.kind in ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']) || (request.kind.group == 'batch' && request.kind.kind == 'Job') || (request.kind.group == '' && request.kind.kind == 'ReplicationController') ? 'template' : request.kind.group == 'batch' && request.kind.kind == 'CronJob' ? 'cronjob' : request.kind.group == '' && request.kind.kind == 'PodTemplate' ? 'podtemplate' : ''".to_owned(),
    );
    // An UPDATE that leaves the pod spec as it was (status, labels, finalizers) is not judged
    // by the pod rules.
    b.variable(
        "podChanged",
        "[request.kind.kind == 'PodTemplate' ? 'template' : 'spec'].all(part, request.operation != 'UPDATE' || object == null || oldObject == null || !(part in object) || !(part in oldObject) || object[part] != oldObject[part])".to_owned(),
    );
    b.variable(
        "judgePod",
        "variables.isWrite && object != null && variables.podKind != '' && variables.podChanged"
            .to_owned(),
    );
    b.variable(
        "template",
        format!(
            "!variables.judgePod ? {{}} : variables.podKind == 'pod' ? object : variables.podKind == 'template' ? {} : variables.podKind == 'cronjob' ? {} : {}",
            get_path("object", &["spec", "template"], "{}"),
            get_path("object", &["spec", "jobTemplate", "spec", "template"], "{}"),
            get("object", "template", "{}")
        ),
    );
    let t = "variables.template";
    b.variable("podMeta", get(t, "metadata", "{}"));
    b.variable("spec", get(t, "spec", "{}"));
    b.variable("labels", get("variables.podMeta", "labels", "{}"));
    b.variable("annotations", get("variables.podMeta", "annotations", "{}"));
    let sp = "variables.spec";
    // An UPDATE of a Pod that changes containers only (kubectl debug, an in-place resize,
    // a new image) is judged by the containers it adds or changes: not the pod-level fields
    // nor the volumes, nor a container equal to one it had (resources aside). The API
    // server keeps containers in place, so "equal to one it had" is "equal to the one it
    // had at that index" for every update it accepts.
    let same_but = |new: &str, old: &str, ignored: &[&str]| {
        let ignored = list(ignored);
        format!(
            "({new}.all(k, k in {ignored} || (k in {old} && {new}[k] == {old}[k])) && {old}.all(k, k in {ignored} || k in {new}))"
        )
    };
    b.variable(
        "wholePod",
        format!(
            "!(variables.podKind == 'pod' && request.operation == 'UPDATE' && oldObject != null && {} && {} && {})",
            present("object", "spec"),
            present("oldObject", "spec"),
            same_but(
                "object.spec",
                "oldObject.spec",
                &["initContainers", "containers", "ephemeralContainers", "resources"]
            )
        ),
    );
    let changed = |field: &str| {
        let new = get(sp, field, "[]");
        format!(
            "(variables.wholePod ? {new} : {new}.filter(c, !{}.exists(o, {})))",
            get("oldObject.spec", field, "[]"),
            same_but("c", "o", &["resources", "resizePolicy"])
        )
    };
    b.variable(
        "allContainers",
        format!(
            "{} + {} + {}",
            get(sp, "initContainers", "[]"),
            get(sp, "containers", "[]"),
            get(sp, "ephemeralContainers", "[]")
        ),
    );
    b.variable(
        "regular",
        format!("{} + {}", changed("initContainers"), changed("containers")),
    );
    b.variable("ephemeral", changed("ephemeralContainers"));
    b.variable(
        "containers",
        "variables.regular + variables.ephemeral".to_owned(),
    );
    b.variable("allVolumes", get(sp, "volumes", "[]"));
    b.variable(
        "volumes",
        "variables.wholePod ? variables.allVolumes : []".to_owned(),
    );
    b.variable(
        "runnersPod",
        "variables.judgePod && variables.inRunners".to_owned(),
    );
}
