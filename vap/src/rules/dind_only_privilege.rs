//! `dind-only-privilege`: in runner pods, only a privileged runner type (dind) may run
//! privileged or relax any other Pod Security baseline check, at pod or container level.

use policy::rule_name::RuleName;
use policy::rules::dind_only_privilege as dind;
use policy::settings::DindPrivilegedContainers;

use crate::cel::{any, bind, bind_value, first_of, get, get_path, list, lit, present};

use super::Builder;
use super::items::{Items, SUBJECT, item_of};

const RULE: RuleName = RuleName::DindOnlyPrivilege;

const PROFILE_FIX: &str = "use RuntimeDefault or Localhost";
const SELINUX_FIX: &str = "leave user and role unset and use type container_t (or unset)";
const ANNOTATION_FIX: &str = "use runtime/default or localhost/<profile>";
const HOST_PROCESS_FIX: &str = "remove windowsOptions.hostProcess";

/// One check: when `cond` holds, the message says `what` (CEL), why that is denied, and `fix`.
struct Check {
    cond: String,
    what: String,
    fix: &'static str,
}

fn check(cond: String, what: String, fix: &'static str) -> Check {
    Check { cond, what, fix }
}

/// Whether any check fails.
fn any_fails(checks: &[Check]) -> String {
    any(checks.iter().map(|c| &c.cond))
}

/// The message of the first check that fails.
fn explain(checks: &[Check]) -> String {
    let branches: Vec<(String, String)> = checks
        .iter()
        .map(|c| {
            (
                c.cond.clone(),
                format!(
                    "{} + ', but ' + variables.dindWhy + {}",
                    c.what,
                    lit(&format!("; {}", c.fix))
                ),
            )
        })
        .collect();
    first_of(&branches)
}

fn profile_bad(base: &str, field: &str) -> String {
    format!(
        "({} && !({} in ['RuntimeDefault', 'Localhost']))",
        present(base, field),
        get(&format!("{base}.{field}"), "type", "''")
    )
}

fn apparmor_allowed(v: &str) -> String {
    format!("({v} == '' || {v} == 'runtime/default' || {v}.startsWith('localhost/'))")
}

/// `windowsOptions.hostProcess` of securityContext `sc` (`what`: the container or the pod).
fn host_process(sc: &str, what: &str) -> Check {
    check(
        format!(
            "{} == true",
            get_path(sc, &["windowsOptions", "hostProcess"], "false")
        ),
        format!("'hostProcess: true runs the {what} on the Windows host'"),
        HOST_PROCESS_FIX,
    )
}

/// The seccomp, AppArmor and SELinux checks of securityContext `sc`, shared by containers and
/// the pod.
fn baseline_checks(sc: &str, pod: bool) -> Vec<Check> {
    let pre = if pod { "pod " } else { "" };
    let se = |f: &str| get_path(sc, &["seLinuxOptions", f], "''");
    vec![
        check(
            profile_bad(sc, "seccompProfile"),
            format!("'{pre}seccomp profile is `' + {sc}.seccompProfile.type + '`'"),
            PROFILE_FIX,
        ),
        check(
            profile_bad(sc, "appArmorProfile"),
            format!("'{pre}AppArmor profile is `' + {sc}.appArmorProfile.type + '`'"),
            PROFILE_FIX,
        ),
        check(
            format!(
                "({} != '' && !({} in {}))",
                se("type"),
                se("type"),
                list(dind::SELINUX_TYPES)
            ),
            format!("'SELinux type is `' + {} + '`'", se("type")),
            SELINUX_FIX,
        ),
        check(
            format!("{} != ''", se("user")),
            format!("'SELinux user is set to `' + {} + '`'", se("user")),
            SELINUX_FIX,
        ),
        check(
            format!("{} != ''", se("role")),
            format!("'SELinux role is set to `' + {} + '`'", se("role")),
            SELINUX_FIX,
        ),
    ]
}

/// The checks of one container `c` (bound `sc`: its securityContext), in the module's order.
fn container_checks(b: &Builder<'_>) -> Vec<Check> {
    let aa = lit(&b.private.apparmor_annotation);
    let key = format!("({aa} + {})", get("c", "name", "''"));
    let ann = "variables.annotations";
    let added = Items::new(
        get_path("sc", &["capabilities", "add"], "[]"),
        "x",
        format!("!(x in {})", list(dind::BASELINE_CAPABILITIES)),
    );
    let mut checks = vec![
        check(
            format!(
                "({key} in {ann} && !{})",
                apparmor_allowed(&format!("{ann}[{key}]"))
            ),
            format!("'AppArmor profile annotation is `' + {ann}[{key}] + '`'"),
            ANNOTATION_FIX,
        ),
        check(
            format!("{} == true", get("sc", "privileged", "false")),
            "'privileged: true'".to_owned(),
            "run the job on the dind runner or remove securityContext.privileged",
        ),
        check(
            added.exist(),
            format!(
                "'adds capability `' + {} + '`, which Pod Security baseline does not allow (it counts a name only as Kubernetes spells it)'",
                added.first()
            ),
            "add only baseline capabilities, spelt as Kubernetes spells them (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)",
        ),
        check(
            format!(
                "({} && sc.procMount != 'Default' && {} != false)",
                present("sc", "procMount"),
                get("variables.spec", "hostUsers", "true")
            ),
            "'procMount is `' + sc.procMount + '`'".to_owned(),
            "use procMount Default (Unmasked needs a user namespace: hostUsers: false)",
        ),
    ];
    checks.extend(baseline_checks("sc", false));
    checks.push(host_process("sc", "container"));
    for field in [
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle.postStart",
        "lifecycle.preStop",
    ] {
        for kind in ["httpGet", "tcpSocket"] {
            let mut path: Vec<&str> = field.split('.').collect();
            path.extend([kind, "host"]);
            let host = get_path("c", &path, "''");
            checks.push(check(
                format!("{host} != ''"),
                format!("'{field} targets host `' + {host} + '`'"),
                "remove the host field; probes and hooks must target the pod itself",
            ));
        }
    }
    checks
}

/// The checks of the pod's own securityContext `psc` and annotations: pod-level settings
/// reach every container.
fn pod_checks(b: &Builder<'_>, psc: &str) -> Vec<Check> {
    let aa = lit(&b.private.apparmor_annotation);
    let annotations = Items::new(
        "variables.annotations",
        "k",
        format!(
            "k.startsWith({aa}) && !(k in variables.containerAnnotations) && !{}",
            apparmor_allowed("variables.annotations[k]")
        ),
    );
    let sysctls = Items::new(
        get(psc, "sysctls", "[]"),
        "x",
        format!(
            "!({} in {})",
            get("x", "name", "''"),
            list(dind::SAFE_SYSCTLS)
        ),
    );
    let mut checks = vec![check(
        annotations.exist(),
        format!(
            "'AppArmor profile annotation is `' + variables.annotations[{}] + '`'",
            annotations.first()
        ),
        ANNOTATION_FIX,
    )];
    checks.extend(baseline_checks(psc, true));
    checks.push(check(
        sysctls.exist(),
        format!(
            "'sets sysctl `' + {}.name + '`, which is not namespaced-safe'",
            sysctls.first()
        ),
        "remove it, or use only the Pod Security baseline safe sysctls",
    ));
    checks.push(host_process(psc, "pod"));
    checks
}

pub fn build(b: &mut Builder<'_>) {
    let s = b.settings;
    let own = list(&b.private.runner_own_containers);
    // The containers judged: a privileged runner's are exempt (all, or its services).
    let (judged, pod_level) = match s.dind_privileged_containers {
        DindPrivilegedContainers::All => (
            "variables.privilegedRunner ? [] : variables.containers".to_owned(),
            "!variables.privilegedRunner".to_owned(),
        ),
        DindPrivilegedContainers::Services => (
            format!(
                "variables.regular.filter(c, !variables.privilegedRunner || {} in {own}) + variables.ephemeral",
                get("c", "name", "''")
            ),
            "true".to_owned(),
        ),
    };
    b.variable("dindContainers", judged);
    let types = if s.privileged_runner_types.is_empty() {
        "none".to_owned()
    } else {
        let names: Vec<&str> = s
            .privileged_runner_types
            .iter()
            .map(|t| t.as_str())
            .collect();
        names.join(", ")
    };
    b.variable(
        "dindWhy",
        format!(
            "variables.privilegedRunner ? variables.who + ' may run privileged only in service containers (dindPrivilegedContainers: services)' : variables.who + {}",
            lit(&format!(
                " is not a privileged runner (privileged runner types: {types})"
            ))
        ),
    );
    b.variable(
        "containerAnnotations",
        format!(
            "variables.allContainers.map(c, {} + {})",
            lit(&b.private.apparmor_annotation),
            get("c", "name", "''")
        ),
    );

    let psc = "psc";
    let psc_value = get("variables.spec", "securityContext", "{}");
    let checks = pod_checks(b, psc);
    b.validation(
        RULE,
        "pod",
        format!(
            "!variables.runnersPod || !variables.wholePod || !({pod_level}) || !{}",
            bind(psc, &psc_value, &any_fails(&checks))
        ),
        format!(
            "{SUBJECT} + ': ' + {}",
            bind_value(psc, &psc_value, &explain(&checks))
        ),
    );

    let checks = container_checks(b);
    let sc_value = get("c", "securityContext", "{}");
    let containers = Items::new(
        "variables.dindContainers",
        "c",
        bind("sc", &sc_value, &any_fails(&checks)),
    );
    b.item_validation(
        RULE,
        "containers",
        "variables.runnersPod",
        &containers,
        &format!(
            "{} + ': ' + {}",
            item_of("container", "c"),
            bind_value("sc", &sc_value, &explain(&checks))
        ),
    );
}
