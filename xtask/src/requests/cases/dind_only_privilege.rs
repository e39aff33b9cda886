//! `dind-only-privilege`: privilege in every form a pod spec can ask for it, on runners other
//! than dind and in workloads an admin creates.

use k8s_openapi::api::core::v1::{
    AppArmorProfile, Capabilities, EphemeralContainer, Pod, SELinuxOptions, SeccompProfile, Sysctl,
    WindowsSecurityContextOptions,
};
use policy::decision::RuleName::{DindOnlyPrivilege, NoHostAccess};

use super::Case;
use super::builders::{
    BUSYBOX, allow, create, debugger, deny, dind_job, job, privileged, stored, tweaked,
};
use crate::requests::fleet::{Identity, NAMESPACE, Runner};
use crate::requests::objects::{Workload, privileged_buildkitd};
use crate::requests::pod::{JobPod, container, edited, pod_security, security, spec};
use crate::requests::review::{Object, Request};

pub fn cases() -> Vec<Case> {
    use Runner::{Docker, Nix, Rocky8, Rocky9};
    let rocky9_running = stored(JobPod::new(Rocky9).build(), "Running");
    let debugged = edited(rocky9_running.clone(), |pod| {
        spec(pod).ephemeral_containers = Some(vec![EphemeralContainer {
            name: "debugger-x7k2p".into(),
            ..debugger(BUSYBOX, privileged())
        }]);
    });
    let lookalike = dind_job(Runner::Dind).service_account(&Nix.service_account());
    let lookalike = edited(lookalike.build(), |pod| {
        container(pod, "svc-0").image = Some("docker:dind".into());
    });
    let mut cases = vec![
        deny(
            "docker-runner-privileged-pod",
            "docker/privileged-pod.json",
            &[DindOnlyPrivilege],
            job(Docker, &dind_job(Docker)),
        ),
        deny(
            "docker-runner-privileged-pod-dry-run",
            "dryrun/docker-privileged-pod.json",
            &[DindOnlyPrivilege],
            job(Docker, &dind_job(Docker)).dry_run(),
        ),
        deny(
            "privileged-init-container-only",
            "privilege/init-container-only.json",
            &[DindOnlyPrivilege],
            tweaked(Docker, |pod| {
                security(container(pod, "init-permissions")).privileged = Some(true)
            }),
        ),
        deny(
            "privileged-ephemeral-container",
            "privilege/ephemeral-container.json",
            &[DindOnlyPrivilege],
            Request::update(
                Identity::Runner(Rocky9),
                Object::of(&rocky9_running),
                Object::of(&debugged),
            )
            .subresource("ephemeralcontainers")
            .field_manager("kubectl-debug"),
        ),
        deny(
            "cap-sys-admin",
            "privilege/cap-sys-admin.json",
            &[DindOnlyPrivilege],
            tweaked(Docker, |p| add_capability(p, "SYS_ADMIN")),
        ),
        deny(
            "cap-sys-admin-lowercase-prefixed",
            "privilege/cap-sys-admin-lowercase-prefixed.json",
            &[DindOnlyPrivilege],
            tweaked(Rocky8, |p| add_capability(p, "cap_sys_admin")),
        ),
        deny(
            "cap-all",
            "privilege/cap-all.json",
            &[DindOnlyPrivilege],
            tweaked(Docker, |p| add_capability(p, "ALL")),
        ),
        // The API server only accepts Unmasked with hostUsers: false, and baseline (1.35+)
        // allows it there; the host-user-namespace form is kept as defence in depth.
        deny(
            "proc-mount-unmasked",
            "privilege/proc-mount-unmasked.json",
            &[DindOnlyPrivilege],
            tweaked(Rocky9, |pod| {
                security(container(pod, "build")).proc_mount = Some("Unmasked".into());
            }),
        ),
        allow(
            "proc-mount-unmasked-user-namespace",
            "privilege/proc-mount-unmasked-user-namespace.json",
            tweaked(Rocky9, |pod| {
                spec(pod).host_users = Some(false);
                security(container(pod, "build")).proc_mount = Some("Unmasked".into());
            }),
        ),
        deny(
            "seccomp-unconfined-pod",
            "privilege/seccomp-unconfined-pod.json",
            &[DindOnlyPrivilege],
            tweaked(Docker, |pod| {
                pod_security(pod).seccomp_profile = Some(unconfined_seccomp())
            }),
        ),
        deny(
            "seccomp-unconfined-container",
            "privilege/seccomp-unconfined-container.json",
            &[DindOnlyPrivilege],
            tweaked(Docker, |pod| {
                security(container(pod, "build")).seccomp_profile = Some(unconfined_seccomp())
            }),
        ),
        deny(
            "apparmor-unconfined-field",
            "privilege/apparmor-unconfined-field.json",
            &[DindOnlyPrivilege],
            tweaked(Rocky8, |pod| {
                security(container(pod, "build")).app_armor_profile = Some(AppArmorProfile {
                    type_: "Unconfined".into(),
                    localhost_profile: None,
                });
            }),
        ),
        deny(
            "apparmor-unconfined-annotation",
            "privilege/apparmor-unconfined-annotation.json",
            &[DindOnlyPrivilege],
            tweaked(Rocky8, |pod| {
                pod.metadata.annotations.get_or_insert_default().insert(
                    "container.apparmor.security.beta.kubernetes.io/build".into(),
                    "unconfined".into(),
                );
            }),
        ),
        deny(
            "selinux-spc-t",
            "privilege/selinux-spc-t.json",
            &[DindOnlyPrivilege],
            tweaked(Rocky9, |pod| {
                security(container(pod, "build")).se_linux_options = Some(SELinuxOptions {
                    type_: Some("spc_t".into()),
                    ..Default::default()
                });
            }),
        ),
        deny(
            "unsafe-sysctl",
            "privilege/unsafe-sysctl.json",
            &[DindOnlyPrivilege],
            tweaked(Docker, |pod| {
                pod_security(pod).sysctls = Some(vec![Sysctl {
                    name: "kernel.msgmax".into(),
                    value: "65536".into(),
                }]);
            }),
        ),
        // The API server rejects hostProcess without hostNetwork, so both rules fire.
        deny(
            "windows-host-process",
            "privilege/windows-host-process.json",
            &[DindOnlyPrivilege, NoHostAccess],
            tweaked(Rocky9, |pod| {
                spec(pod).host_network = Some(true);
                pod_security(pod).windows_options = Some(WindowsSecurityContextOptions {
                    host_process: Some(true),
                    run_as_user_name: Some("NT AUTHORITY\\SYSTEM".into()),
                    ..Default::default()
                });
            }),
        ),
        deny(
            "nix-identity-dind-lookalike",
            "privilege/nix-identity-dind-lookalike.json",
            &[DindOnlyPrivilege],
            create(Identity::Runner(Nix), &lookalike),
        ),
    ];
    cases.extend(Workload::ALL.map(|kind| {
        deny(
            format!("admin-privileged-{}", kind.slug()),
            format!("workloads/privileged-{}.json", kind.slug()),
            &[DindOnlyPrivilege],
            Request::create(
                Identity::Admin,
                kind.wrap(NAMESPACE, "buildkitd", privileged_buildkitd()),
            ),
        )
    }));
    cases
}

fn add_capability(pod: &mut Pod, capability: &str) {
    security(container(pod, "build")).capabilities = Some(Capabilities {
        add: Some(vec![capability.into()]),
        drop: Some(vec!["NET_RAW".into()]),
    });
}

fn unconfined_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "Unconfined".into(),
        localhost_profile: None,
    }
}
