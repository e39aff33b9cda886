//! The cases of `dind-only-privilege`: what only the dind runner may relax, and where.

use crate::decision::RuleName::{DindOnlyPrivilege as D, NoHostAccess as H};
use crate::testing::{
    ADMIN, Req, container, create_pod, decide, paths, pod, pod_with_spec, rules, runner,
};
use rstest::rstest;
use serde_json::{Value, json};

fn sc(security_context: Value) -> Value {
    pod(json!([container(
        "build",
        json!({"securityContext": security_context})
    )]))
}

fn with_spec(extra: Value) -> Value {
    pod_with_spec(extra)
}

#[rstest]
#[case::privileged(sc(json!({"privileged": true})), "spec.containers[0].securityContext.privileged")]
#[case::sys_admin(sc(json!({"capabilities": {"add": ["SYS_ADMIN"]}})), "spec.containers[0].securityContext.capabilities.add[0]")]
#[case::lowercase_prefixed(sc(json!({"capabilities": {"add": ["NET_BIND_SERVICE", "cap_sys_admin"]}})), "spec.containers[0].securityContext.capabilities.add[1]")]
#[case::misspelt_baseline(sc(json!({"capabilities": {"add": ["chown"]}})), "spec.containers[0].securityContext.capabilities.add[0]")]
#[case::all(sc(json!({"capabilities": {"add": ["ALL"]}})), "spec.containers[0].securityContext.capabilities.add[0]")]
#[case::proc_mount(sc(json!({"procMount": "Unmasked"})), "spec.containers[0].securityContext.procMount")]
#[case::seccomp(sc(json!({"seccompProfile": {"type": "Unconfined"}})), "spec.containers[0].securityContext.seccompProfile.type")]
#[case::apparmor(sc(json!({"appArmorProfile": {"type": "Unconfined"}})), "spec.containers[0].securityContext.appArmorProfile.type")]
#[case::selinux_type(sc(json!({"seLinuxOptions": {"type": "spc_t"}})), "spec.containers[0].securityContext.seLinuxOptions.type")]
#[case::selinux_user(sc(json!({"seLinuxOptions": {"user": "root"}})), "spec.containers[0].securityContext.seLinuxOptions.user")]
#[case::host_process(sc(json!({"windowsOptions": {"hostProcess": true}})), "spec.containers[0].securityContext.windowsOptions.hostProcess")]
#[case::pod_seccomp(with_spec(json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}})), "spec.securityContext.seccompProfile.type")]
#[case::sysctl(with_spec(json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}})), "spec.securityContext.sysctls[0].name")]
#[case::init(with_spec(json!({"initContainers": [{"name": "init-permissions", "securityContext": {"privileged": true}}]})), "spec.initContainers[0].securityContext.privileged")]
#[case::ephemeral(with_spec(json!({"ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": true}}]})), "spec.ephemeralContainers[0].securityContext.privileged")]
#[case::probe_host(pod(json!([container("build", json!({"livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}))])), "spec.containers[0].livenessProbe.httpGet.host")]
fn relaxations_are_denied_to_unprivileged_runners_and_allowed_to_dind(
    #[case] pod: Value,
    #[case] path: &str,
) {
    for t in ["docker", "rocky8", "rocky9", "nix"] {
        assert_eq!(
            paths(&create_pod(&runner(t), pod.clone())),
            vec![(D, path.to_owned())],
            "{t}"
        );
    }
    assert_eq!(
        paths(&create_pod(ADMIN, pod.clone())),
        vec![(D, path.to_owned())],
        "admin"
    );
    assert_eq!(rules(&create_pod(&runner("dind"), pod)), vec![], "dind");
}

#[test]
fn apparmor_annotation_is_judged_per_container() {
    let mut p = pod(json!([container("build", json!({}))]));
    p["metadata"]["annotations"] =
        json!({"container.apparmor.security.beta.kubernetes.io/build": "unconfined"});
    let d = decide(&create_pod(&runner("docker"), p.clone()));
    assert_eq!(d.violations.len(), 1);
    assert_eq!(d.violations[0].container.as_deref(), Some("build"));
    assert!(rules(&create_pod(&runner("dind"), p)).is_empty());
}

#[rstest]
#[case::baseline_caps(sc(json!({"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"], "drop": ["ALL"]}})))]
#[case::runtime_default(sc(json!({"seccompProfile": {"type": "RuntimeDefault"}, "appArmorProfile": {"type": "Localhost", "localhostProfile": "x"}})))]
#[case::selinux_level_only(sc(json!({"seLinuxOptions": {"level": "s0:c1", "type": "container_t"}})))]
#[case::privileged_false(sc(json!({"privileged": false, "procMount": "Default"})))]
#[case::unmasked_in_user_namespace(with_spec(json!({"hostUsers": false, "containers": [{"name": "build", "securityContext": {"procMount": "Unmasked"}}]})))]
#[case::safe_sysctl(with_spec(json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}]}})))]
fn baseline_allowed_settings_pass(#[case] pod: Value) {
    assert_eq!(rules(&create_pod(&runner("docker"), pod)), vec![]);
}

#[test]
fn labels_and_images_do_not_make_a_dind_runner() {
    let mut p = pod(json!([container(
        "build",
        json!({"image": "docker:27-dind", "securityContext": {"privileged": true}})
    )]));
    p["metadata"]["labels"]["manager.runner.gitlab.com/name"] = json!("gitlab-runner-dind");
    assert_eq!(rules(&create_pod(&runner("nix"), p)), vec![D]);
}

#[test]
fn services_mode_keeps_build_and_helper_unprivileged() {
    let p = pod(json!([
        container("build", json!({"securityContext": {"privileged": true}})),
        container("helper", json!({})),
        container("svc-0", json!({"securityContext": {"privileged": true}})),
    ]));
    let mut input = create_pod(&runner("dind"), p);
    input["parameters"]["dindPrivilegedContainers"] = json!("services");
    let d = decide(&input);
    assert_eq!(d.violations.len(), 1);
    assert_eq!(
        d.violations[0].path,
        "spec.containers[0].securityContext.privileged"
    );
}

/// In services mode the runner's own containers stay at baseline, so pod-level settings
/// (which reach them) do too; with `all`, the dind pod may set them.
#[rstest]
#[case::pod_seccomp(json!({"seccompProfile": {"type": "Unconfined"}}), "services", Some("spec.securityContext.seccompProfile.type"))]
#[case::pod_apparmor(json!({"appArmorProfile": {"type": "Unconfined"}}), "services", Some("spec.securityContext.appArmorProfile.type"))]
#[case::pod_selinux(json!({"seLinuxOptions": {"type": "spc_t"}}), "services", Some("spec.securityContext.seLinuxOptions.type"))]
#[case::all_mode_allows_it(json!({"seccompProfile": {"type": "Unconfined"}}), "all", None)]
fn services_mode_judges_pod_level_settings(
    #[case] pod_context: Value,
    #[case] mode: &str,
    #[case] path: Option<&str>,
) {
    let mut p = pod(json!([
        container("build", json!({})),
        container("svc-0", json!({"securityContext": {"privileged": true}})),
    ]));
    p["spec"]["securityContext"] = pod_context;
    let mut input = create_pod(&runner("dind"), p);
    input["parameters"]["dindPrivilegedContainers"] = json!(mode);
    let want: Vec<_> = path.map(|p| (D, p.to_owned())).into_iter().collect();
    assert_eq!(paths(&input), want);
}

#[test]
fn services_mode_knows_the_steps_bootstrap_container() {
    let mut p = pod(json!([container("build", json!({}))]));
    p["spec"]["initContainers"] = json!([container(
        "init-steps-bootstrap",
        json!({"securityContext": {"privileged": true}})
    )]);
    let mut input = create_pod(&runner("dind"), p);
    input["parameters"]["dindPrivilegedContainers"] = json!("services");
    assert_eq!(
        paths(&input),
        vec![(
            D,
            "spec.initContainers[0].securityContext.privileged".to_owned()
        )]
    );
}

#[test]
fn host_access_is_not_this_rule() {
    let p = with_spec(json!({"hostNetwork": true}));
    assert_eq!(rules(&create_pod(&runner("docker"), p)), vec![H]);
}

#[test]
fn workload_templates_report_template_paths() {
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "securityContext": {"privileged": true}}]}});
    let cases = [
        (
            "apps",
            "Deployment",
            json!({"spec": {"template": template}}),
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "batch",
            "Job",
            json!({"spec": {"template": template}}),
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "batch",
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": template}}}}),
            "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "",
            "PodTemplate",
            json!({"template": template}),
            "template.spec.containers[0].securityContext.privileged",
        ),
        (
            "",
            "ReplicationController",
            json!({"spec": {"template": template}}),
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
    ];
    for (group, kind, object, path) in cases {
        let input = Req::create(object).group(group).kind(kind);
        assert_eq!(paths(&input), vec![(D, path.to_owned())], "{kind}");
    }
}

#[test]
fn unchanged_pod_updates_are_not_judged_but_changed_ones_are() {
    let p = sc(json!({"privileged": true}));
    let input =
        Req::update(p.clone()).by("system:serviceaccount:kube-system:generic-garbage-collector");
    assert!(rules(&input.clone().old(p)).is_empty());
    let changed = input.old(pod(json!([container("build", json!({}))])));
    assert_eq!(rules(&changed), vec![D]);
}
