//! `dind-only-privilege`: in the runners namespace, only a privileged runner type (dind) may
//! run privileged or relax any other Pod Security baseline check (host access aside, which
//! `no-host-access` denies to everyone).

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::json::strip_prefix;
use crate::request::pod::{Container, Handler, ProfileRef, SeLinuxOptions};
use crate::settings::DindPrivilegedContainers;
use alloc::{borrow::ToOwned, format, string::String, vec::Vec};

const RULE: RuleName = RuleName::DindOnlyPrivilege;

/// Capabilities Pod Security baseline lets any container add.
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls Pod Security baseline (v1.37) considers safe.
pub const SAFE_SYSCTLS: [&str; 14] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

/// SELinux types a container may run as at baseline.
pub const SELINUX_TYPES: [&str; 4] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The containers the GitLab Runner itself adds to job pods (`init-steps-bootstrap` in CI
/// Steps mode); anything else is a service.
const RUNNER_OWN_CONTAINERS: [&str; 4] = [
    "build",
    "helper",
    "init-permissions",
    "init-steps-bootstrap",
];

/// `cap_sys_admin` -> `SYS_ADMIN`: how container runtimes read a capability name.
pub fn normalise_capability(cap: &str) -> String {
    let upper = cap.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map(str::to_owned)
        .unwrap_or(upper)
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(pod) = ctx.runners_pod() else {
        return;
    };
    let privileged_runner = ctx
        .requester
        .filter(|r| ctx.settings.is_privileged(r.runner_type))
        .is_some();
    let container_exempt = |c: &Container<'_>, ephemeral: bool| {
        privileged_runner
            && match ctx.settings.dind_privileged_containers {
                DindPrivilegedContainers::All => true,
                DindPrivilegedContainers::Services => {
                    !ephemeral && !RUNNER_OWN_CONTAINERS.contains(&c.name.as_ref())
                }
            }
    };
    // Written into messages only: most pods break nothing. Computed once, for the first.
    let why = || {
        if privileged_runner {
            format!(
                "{} may run privileged only in service containers (dindPrivilegedContainers: services)",
                ctx.who()
            )
        } else {
            format!(
                "{} is not a privileged runner (privileged runner types: {})",
                ctx.who(),
                ctx.settings.privileged_type_names()
            )
        }
    };
    let mut why_text = None;
    let subject = ctx.subject();
    let p = pod.prefix;
    let mut deny = |path: String, container: Option<&str>, what: String, fix: &str| {
        let why: &str = why_text.get_or_insert_with(why);
        let subject = subject.as_str();
        let v = match container {
            Some(c) => Violation::from_parts(
                RULE,
                path,
                &[
                    "container \"",
                    c,
                    "\" of ",
                    subject,
                    ": ",
                    &what,
                    ", but ",
                    why,
                    "; ",
                    fix,
                ],
            ),
            None => Violation::from_parts(
                RULE,
                path,
                &[subject, ": ", &what, ", but ", why, "; ", fix],
            ),
        };
        out.push(match container {
            Some(c) => v.in_container(c),
            None => v,
        });
    };

    // Pod-level settings reach every container, the runner's own included, which stay at
    // baseline unless every container may relax it.
    if pod.whole()
        && (!privileged_runner
            || ctx.settings.dind_privileged_containers == DindPrivilegedContainers::Services)
    {
        pod_level(ctx, &pod, &mut deny);
    }

    for (list, i, c) in pod.containers() {
        let ephemeral = list == crate::request::pod::ContainerList::EphemeralContainers;
        if container_exempt(c, ephemeral) {
            continue;
        }
        let at = format!("{p}spec.{}[{i}]", list.field());
        let name = Some(c.name.as_ref());
        // AppArmor annotations belong to one container each.
        let annotation_key = format!("{APPARMOR_ANNOTATION}{}", c.name);
        if let Some(value) = pod.meta.annotations.get(&annotation_key)
            && !apparmor_annotation_allowed(value)
        {
            deny(
                format!("{p}metadata.annotations[\"{annotation_key}\"]"),
                name,
                format!("AppArmor profile annotation is `{value}`"),
                "use runtime/default or localhost/<profile>",
            );
        }
        // Probes and hooks are judged after the security context, when there is one.
        if let Some(sc) = c.security_context.as_ref() {
            if sc.privileged == Some(true) {
                deny(
                    format!("{at}.securityContext.privileged"),
                    name,
                    "privileged: true".to_owned(),
                    "run the job on the dind runner or remove securityContext.privileged",
                );
            }
            if let Some(caps) = &sc.capabilities {
                for (j, cap) in caps.add.iter().enumerate() {
                    if BASELINE_CAPABILITIES.contains(&cap.as_ref()) {
                        continue;
                    }
                    let normal = normalise_capability(cap);
                    let what = if normal == "ALL" {
                        format!("adds capability `{cap}` (every capability)")
                    } else if BASELINE_CAPABILITIES.contains(&normal.as_str()) {
                        format!(
                            "adds capability `{cap}`, spelt differently from the baseline name `{normal}`"
                        )
                    } else {
                        format!(
                            "adds capability `{cap}` ({normal}), which Pod Security baseline does not allow"
                        )
                    };
                    deny(
                        format!("{at}.securityContext.capabilities.add[{j}]"),
                        name,
                        what,
                        "add only baseline capabilities, spelt as Kubernetes spells them (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)",
                    );
                }
            }
            if let Some(proc_mount) = sc.proc_mount.as_deref()
                && proc_mount != "Default"
                && pod.spec.host_users != Some(false)
            {
                deny(
                    format!("{at}.securityContext.procMount"),
                    name,
                    format!("procMount is `{proc_mount}`"),
                    "use procMount Default (Unmasked needs a user namespace: hostUsers: false)",
                );
            }
            profile(&sc.seccomp_profile, &mut |t| {
                deny(
                    format!("{at}.securityContext.seccompProfile.type"),
                    name,
                    format!("seccomp profile is `{t}`"),
                    "use RuntimeDefault or Localhost",
                )
            });
            profile(&sc.app_armor_profile, &mut |t| {
                deny(
                    format!("{at}.securityContext.appArmorProfile.type"),
                    name,
                    format!("AppArmor profile is `{t}`"),
                    "use RuntimeDefault or Localhost",
                )
            });
            selinux(
                &sc.se_linux_options,
                &format!("{at}.securityContext.seLinuxOptions"),
                &mut |path, what| {
                    deny(
                        path,
                        name,
                        what,
                        "leave user and role unset and use type container_t (or unset)",
                    )
                },
            );
            if sc.windows_options.as_ref().and_then(|w| w.host_process) == Some(true) {
                deny(
                    format!("{at}.securityContext.windowsOptions.hostProcess"),
                    name,
                    "hostProcess: true runs the container on the Windows host".to_owned(),
                    "remove windowsOptions.hostProcess",
                );
            }
        }
        probe_hosts(c, &at, &mut |path, what| {
            deny(
                path,
                name,
                what,
                "remove the host field; probes and hooks must target the pod itself",
            )
        });
    }
}

/// A denial's path, container, what and fix. A `dyn` callback: one copy of each helper.
type Deny<'d> = dyn FnMut(String, Option<&str>, String, &str) + 'd;

/// Pod-level relaxations (judged for non-privileged runners only).
fn pod_level(ctx: &Context<'_, '_>, pod: &crate::request::PodView<'_, '_>, deny: &mut Deny<'_>) {
    let p = pod.prefix;
    // AppArmor annotations naming no container of the pod still say "unconfined".
    let names: Vec<&str> = pod
        .spec
        .all_containers()
        .map(|(_, _, c)| c.name.as_ref())
        .collect();
    for (key, value) in pod.meta.annotations.iter() {
        if let Some(container) = strip_prefix(key, APPARMOR_ANNOTATION)
            && !names.contains(&container)
            && !apparmor_annotation_allowed(value)
        {
            deny(
                format!("{p}metadata.annotations[\"{key}\"]"),
                None,
                format!("AppArmor profile annotation is `{value}`"),
                "use runtime/default or localhost/<profile>",
            );
        }
    }
    let _ = ctx;
    let Some(sc) = pod.spec.security_context.as_ref() else {
        return;
    };
    let at = format!("{p}spec.securityContext");
    profile(&sc.seccomp_profile, &mut |t| {
        deny(
            format!("{at}.seccompProfile.type"),
            None,
            format!("pod seccomp profile is `{t}`"),
            "use RuntimeDefault or Localhost",
        )
    });
    profile(&sc.app_armor_profile, &mut |t| {
        deny(
            format!("{at}.appArmorProfile.type"),
            None,
            format!("pod AppArmor profile is `{t}`"),
            "use RuntimeDefault or Localhost",
        )
    });
    selinux(
        &sc.se_linux_options,
        &format!("{at}.seLinuxOptions"),
        &mut |path, what| {
            deny(
                path,
                None,
                what,
                "leave user and role unset and use type container_t (or unset)",
            )
        },
    );
    for (i, sysctl) in sc.sysctls.iter().enumerate() {
        if !SAFE_SYSCTLS.contains(&sysctl.name.as_ref()) {
            deny(
                format!("{at}.sysctls[{i}].name"),
                None,
                format!(
                    "sets sysctl `{}`, which is not namespaced-safe",
                    sysctl.name
                ),
                "remove it, or use only the Pod Security baseline safe sysctls",
            );
        }
    }
    if sc.windows_options.as_ref().and_then(|w| w.host_process) == Some(true) {
        deny(
            format!("{at}.windowsOptions.hostProcess"),
            None,
            "hostProcess: true runs the pod on the Windows host".to_owned(),
            "remove windowsOptions.hostProcess",
        );
    }
}

/// A seccomp or AppArmor profile must be RuntimeDefault or Localhost when set.
fn profile(profile: &Option<ProfileRef<'_>>, deny: &mut dyn FnMut(&str)) {
    if let Some(p) = profile {
        let t = p.profile_type.as_ref();
        if t != "RuntimeDefault" && t != "Localhost" {
            deny(t);
        }
    }
}

fn selinux(options: &Option<SeLinuxOptions<'_>>, at: &str, deny: &mut dyn FnMut(String, String)) {
    let Some(o) = options else {
        return;
    };
    if let Some(t) = o.se_type.as_deref().filter(|t| !t.is_empty())
        && !SELINUX_TYPES.contains(&t)
    {
        deny(format!("{at}.type"), format!("SELinux type is `{t}`"));
    }
    if let Some(u) = o.user.as_deref().filter(|u| !u.is_empty()) {
        deny(
            format!("{at}.user"),
            format!("SELinux user is set to `{u}`"),
        );
    }
    if let Some(r) = o.role.as_deref().filter(|r| !r.is_empty()) {
        deny(
            format!("{at}.role"),
            format!("SELinux role is set to `{r}`"),
        );
    }
}

fn apparmor_annotation_allowed(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

/// Probes and lifecycle hooks that point the kubelet at another host (baseline since 1.34).
fn probe_hosts(c: &Container<'_>, at: &str, deny: &mut dyn FnMut(String, String)) {
    let lifecycle = c.lifecycle.as_ref();
    let handlers: [(&str, Option<&Handler<'_>>); 5] = [
        ("livenessProbe", c.liveness_probe.as_ref()),
        ("readinessProbe", c.readiness_probe.as_ref()),
        ("startupProbe", c.startup_probe.as_ref()),
        (
            "lifecycle.postStart",
            lifecycle.and_then(|l| l.post_start.as_ref()),
        ),
        (
            "lifecycle.preStop",
            lifecycle.and_then(|l| l.pre_stop.as_ref()),
        ),
    ];
    for (field, handler) in handlers {
        let Some(h) = handler else { continue };
        for (kind, host) in [("httpGet", &h.http_get), ("tcpSocket", &h.tcp_socket)] {
            if let Some(host) = host
                .as_ref()
                .and_then(|r| r.host.as_deref())
                .filter(|h| !h.is_empty())
            {
                deny(
                    format!("{at}.{field}.{kind}.host"),
                    format!("{field} targets host `{host}`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
