//! The rules in CEL, one builder method per rule module of the policy crate, in report order.
//! Each method mirrors its module's `check`; the equivalence tests in host-tests hold them to it.

use policy::decision::RuleName;
use policy::request::image;
use policy::rules::{
    attic_credentials_from_secret as attic, dind_only_privilege as dind, namespaced_rbac,
    no_push_credentials as push, runner_egress, runner_namespace, runner_token_secret as token,
};
use policy::settings::{DindPrivilegedContainers, Settings};

use crate::cel::{bind, get, get_path, list, lit, map, present, present_path, re};
use crate::source::Private;
use crate::{Validation, Variable};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub struct Builder<'s> {
    settings: &'s Settings,
    private: &'s Private,
    pub variables: Vec<Variable>,
    pub validations: Vec<Validation>,
}

/// `[value].map(name, body)[0]`: `body` with `name` bound to `value`, for string results.
fn bind_value(name: &str, value: &str, body: &str) -> String {
    format!("[{value}].map({name}, {body})[0]")
}

/// `cond1 ? text1 : cond2 ? text2 : ... : ''`.
fn first_of(branches: &[(String, String)]) -> String {
    let mut out = String::from("''");
    for (cond, text) in branches.iter().rev() {
        out = format!("({cond} ? {text} : {out})");
    }
    out
}

/// Whether any of `conds` holds.
fn any(conds: &[String]) -> String {
    format!("({})", conds.join(" || "))
}

impl<'s> Builder<'s> {
    pub fn new(settings: &'s Settings, private: &'s Private) -> Self {
        Builder {
            settings,
            private,
            variables: Vec::new(),
            validations: Vec::new(),
        }
    }

    fn variable(&mut self, name: &str, expression: String) {
        self.variables.push(Variable {
            name: name.to_owned(),
            expression,
        });
    }

    fn validation(&mut self, rule: RuleName, part: &str, ok: String, message: String) {
        self.validations.push(Validation {
            rule,
            part: part.to_owned(),
            expression: ok,
            message_expression: format!("{} + {message}", lit(&format!("{rule}: "))),
            message: format!(
                "{rule}: denied ({part}); the module (`runner-policy eval`) explains it in full"
            ),
        });
    }

    fn runners_ns(&self) -> String {
        lit(&self.settings.runners_namespace)
    }

    /// A CREATE or UPDATE writing an object of this group and kind.
    fn written(group: &str, kind: &str) -> String {
        format!(
            "(variables.isWrite && object != null && request.kind.group == {} && request.kind.kind == {})",
            lit(group),
            lit(kind)
        )
    }

    /// The request context every rule reads (`Context` in the policy crate).
    pub fn common(&mut self) {
        let s = self.settings;
        self.variable(
            "isWrite",
            "request.operation == 'CREATE' || request.operation == 'UPDATE'".to_owned(),
        );
        self.variable(
            "meta",
            format!(
                "object != null && {} ? object.metadata : {{}}",
                present("object", "metadata")
            ),
        );
        // A Namespace is cluster-scoped, though its requests carry its own name as namespace.
        self.variable(
            "ns",
            format!(
                "request.kind.group == '' && request.kind.kind == 'Namespace' ? '' : request.namespace != '' ? request.namespace : {}",
                get("variables.meta", "namespace", "''")
            ),
        );
        self.variable(
            "inRunners",
            format!("variables.ns == {}", self.runners_ns()),
        );
        let identity = |sa: &str| format!("system:serviceaccount:{}:{sa}", s.runners_namespace);
        let types = map(s
            .runners
            .iter()
            .map(|r| (identity(&r.service_account), r.runner_type.as_str())));
        let accounts = map(s
            .runners
            .iter()
            .map(|r| (identity(&r.service_account), r.service_account.clone())));
        self.variable(
            "runner",
            format!(
                "request.userInfo.username in {types} ? {types}[request.userInfo.username] : ''"
            ),
        );
        self.variable(
            "runnerServiceAccount",
            format!(
                "request.userInfo.username in {accounts} ? {accounts}[request.userInfo.username] : ''"
            ),
        );
        let privileged: Vec<String> = s
            .runners
            .iter()
            .filter(|r| s.is_privileged(r.runner_type))
            .map(|r| identity(&r.service_account))
            .collect();
        self.variable(
            "privilegedRunner",
            format!("request.userInfo.username in {}", list(&privileged)),
        );
        self.variable(
            "who",
            "request.userInfo.username + (variables.runner != '' ? ' (the ' + variables.runner + ' runner)' : '')".to_owned(),
        );
        let m = "variables.meta";
        self.variable(
            "objectName",
            format!(
                "{name} != '' ? {name} : {generate} != '' ? {generate} : request.name",
                name = get(m, "name", "''"),
                generate = get(m, "generateName", "''")
            ),
        );
        self.variable(
            "subject",
            "variables.ns == '' ? (variables.objectName == '' ? request.kind.kind : request.kind.kind + ' ' + variables.objectName) : (variables.objectName == '' ? request.kind.kind + ' in ' + variables.ns : request.kind.kind + ' ' + variables.ns + '/' + variables.objectName)".to_owned(),
        );
        // The kinds that carry a pod spec, and where.
        self.variable(
            "podKind",
            "request.kind.group == '' && request.kind.kind == 'Pod' ? 'pod' : (request.kind.group == 'apps' && request.kind.kind in ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']) || (request.kind.group == 'batch' && request.kind.kind == 'Job') || (request.kind.group == '' && request.kind.kind == 'ReplicationController') ? 'template' : request.kind.group == 'batch' && request.kind.kind == 'CronJob' ? 'cronjob' : request.kind.group == '' && request.kind.kind == 'PodTemplate' ? 'podtemplate' : ''".to_owned(),
        );
        // An UPDATE that leaves the pod spec as it was (status, labels, finalizers) is not judged
        // by the pod rules.
        self.variable(
            "podChanged",
            "[request.kind.kind == 'PodTemplate' ? 'template' : 'spec'].all(part, request.operation != 'UPDATE' || object == null || oldObject == null || !(part in object) || !(part in oldObject) || object[part] != oldObject[part])".to_owned(),
        );
        self.variable(
            "judgePod",
            "variables.isWrite && object != null && variables.podKind != '' && variables.podChanged"
                .to_owned(),
        );
        self.variable(
            "template",
            format!(
                "!variables.judgePod ? {{}} : variables.podKind == 'pod' ? object : variables.podKind == 'template' ? {} : variables.podKind == 'cronjob' ? {} : {}",
                get_path("object", &["spec", "template"], "{}"),
                get_path("object", &["spec", "jobTemplate", "spec", "template"], "{}"),
                get("object", "template", "{}")
            ),
        );
        let t = "variables.template";
        self.variable("podMeta", get(t, "metadata", "{}"));
        self.variable("spec", get(t, "spec", "{}"));
        self.variable("labels", get("variables.podMeta", "labels", "{}"));
        self.variable("annotations", get("variables.podMeta", "annotations", "{}"));
        let sp = "variables.spec";
        // An UPDATE of a Pod that changes containers only (kubectl debug, an in-place resize,
        // a new image) is judged by the containers it adds or changes: not the pod-level fields
        // nor the volumes, nor a container equal to one it had (resources aside). The API
        // server keeps containers in place, so "equal to one it had" is "equal to the one it
        // had at that index" for every update it accepts.
        let same_but = |a: &str, b: &str, ignored: &[&str]| {
            let ignored = list(ignored);
            format!(
                "({a}.all(k, k in {ignored} || (k in {b} && {a}[k] == {b}[k])) && {b}.all(k, k in {ignored} || k in {a}))"
            )
        };
        self.variable(
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
        self.variable(
            "allContainers",
            format!(
                "{} + {} + {}",
                get(sp, "initContainers", "[]"),
                get(sp, "containers", "[]"),
                get(sp, "ephemeralContainers", "[]")
            ),
        );
        self.variable(
            "regular",
            format!("{} + {}", changed("initContainers"), changed("containers")),
        );
        self.variable("ephemeral", changed("ephemeralContainers"));
        self.variable(
            "containers",
            "variables.regular + variables.ephemeral".to_owned(),
        );
        self.variable("allVolumes", get(sp, "volumes", "[]"));
        self.variable(
            "volumes",
            "variables.wholePod ? variables.allVolumes : []".to_owned(),
        );
        self.variable(
            "runnersPod",
            "variables.judgePod && variables.inRunners".to_owned(),
        );
    }

    // ------------------------------------------------------------ dind-only-privilege

    fn profile_bad(base: &str, field: &str) -> String {
        format!(
            "({} && !({} in ['RuntimeDefault', 'Localhost']))",
            present(base, field),
            get(&format!("{base}.{field}"), "type", "''")
        )
    }

    /// seccomp, AppArmor and SELinux checks shared by containers and the pod: `(cond, what)`.
    fn baseline_checks(&self, sc: &str, pod: bool) -> Vec<(String, String, &'static str)> {
        let pre = if pod { "pod " } else { "" };
        let profile_fix = "use RuntimeDefault or Localhost";
        let selinux_fix = "leave user and role unset and use type container_t (or unset)";
        let se = |f: &str| get_path(sc, &["seLinuxOptions", f], "''");
        vec![
            (
                Self::profile_bad(sc, "seccompProfile"),
                format!("'{pre}seccomp profile is `' + {sc}.seccompProfile.type + '`'"),
                profile_fix,
            ),
            (
                Self::profile_bad(sc, "appArmorProfile"),
                format!("'{pre}AppArmor profile is `' + {sc}.appArmorProfile.type + '`'"),
                profile_fix,
            ),
            (
                format!(
                    "({} != '' && !({} in {}))",
                    se("type"),
                    se("type"),
                    list(dind::SELINUX_TYPES)
                ),
                format!("'SELinux type is `' + {} + '`'", se("type")),
                selinux_fix,
            ),
            (
                format!("{} != ''", se("user")),
                format!("'SELinux user is set to `' + {} + '`'", se("user")),
                selinux_fix,
            ),
            (
                format!("{} != ''", se("role")),
                format!("'SELinux role is set to `' + {} + '`'", se("role")),
                selinux_fix,
            ),
        ]
    }

    fn apparmor_allowed(v: &str) -> String {
        format!("({v} == '' || {v} == 'runtime/default' || {v}.startsWith('localhost/'))")
    }

    /// The dind-only-privilege checks of one container `c` (bound `sc`: its securityContext),
    /// in the module's order: `(cond, what, fix)`.
    fn container_checks(&self) -> Vec<(String, String, &'static str)> {
        let aa = lit(&self.private.apparmor_annotation);
        let key = format!("({aa} + {})", get("c", "name", "''"));
        let ann = "variables.annotations";
        let mut checks = vec![
            (
                format!(
                    "({key} in {ann} && !{})",
                    Self::apparmor_allowed(&format!("{ann}[{key}]"))
                ),
                format!("'AppArmor profile annotation is `' + {ann}[{key}] + '`'"),
                "use runtime/default or localhost/<profile>",
            ),
            (
                format!("{} == true", get("sc", "privileged", "false")),
                "'privileged: true'".to_owned(),
                "run the job on the dind runner or remove securityContext.privileged",
            ),
        ];
        let add = get_path("sc", &["capabilities", "add"], "[]");
        let baseline = list(dind::BASELINE_CAPABILITIES);
        checks.push((
            format!("{add}.exists(x, !(x in {baseline}))"),
            format!(
                "'adds capability `' + {add}.filter(x, !(x in {baseline}))[0] + '`, which Pod Security baseline does not allow (it counts a name only as Kubernetes spells it)'"
            ),
            "add only baseline capabilities, spelt as Kubernetes spells them (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)",
        ));
        checks.push((
            format!(
                "({} && sc.procMount != 'Default' && {} != false)",
                present("sc", "procMount"),
                get("variables.spec", "hostUsers", "true")
            ),
            "'procMount is `' + sc.procMount + '`'".to_owned(),
            "use procMount Default (Unmasked needs a user namespace: hostUsers: false)",
        ));
        checks.extend(self.baseline_checks("sc", false));
        checks.push((
            format!(
                "{} == true",
                get_path("sc", &["windowsOptions", "hostProcess"], "false")
            ),
            "'hostProcess: true runs the container on the Windows host'".to_owned(),
            "remove windowsOptions.hostProcess",
        ));
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
                checks.push((
                    format!("{host} != ''"),
                    format!("'{field} targets host `' + {host} + '`'"),
                    "remove the host field; probes and hooks must target the pod itself",
                ));
            }
        }
        checks
    }

    pub fn dind_only_privilege(&mut self) {
        let rule = RuleName::DindOnlyPrivilege;
        let s = self.settings;
        let own = list(&self.private.runner_own_containers);
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
        self.variable("dindContainers", judged);
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
        self.variable(
            "dindWhy",
            format!(
                "variables.privilegedRunner ? variables.who + ' may run privileged only in service containers (dindPrivilegedContainers: services)' : variables.who + {}",
                lit(&format!(
                    " is not a privileged runner (privileged runner types: {types})"
                ))
            ),
        );
        let explain = |checks: &[(String, String, &str)]| {
            let branches: Vec<(String, String)> = checks
                .iter()
                .map(|(cond, what, fix)| {
                    (
                        cond.clone(),
                        format!(
                            "{what} + ', but ' + variables.dindWhy + {}",
                            lit(&format!("; {fix}"))
                        ),
                    )
                })
                .collect();
            first_of(&branches)
        };

        // Pod-level settings reach every container.
        let aa = lit(&self.private.apparmor_annotation);
        self.variable(
            "containerAnnotations",
            format!(
                "variables.allContainers.map(c, {aa} + {})",
                get("c", "name", "''")
            ),
        );
        let mut pod_checks = vec![(
            format!(
                "variables.annotations.exists(k, k.startsWith({aa}) && !(k in variables.containerAnnotations) && !{})",
                Self::apparmor_allowed("variables.annotations[k]")
            ),
            format!(
                "'AppArmor profile annotation is `' + variables.annotations[variables.annotations.filter(k, k.startsWith({aa}) && !(k in variables.containerAnnotations) && !{})[0]] + '`'",
                Self::apparmor_allowed("variables.annotations[k]")
            ),
            "use runtime/default or localhost/<profile>",
        )];
        let psc = "psc";
        pod_checks.extend(self.baseline_checks(psc, true));
        let sysctls = get(psc, "sysctls", "[]");
        let safe = list(dind::SAFE_SYSCTLS);
        pod_checks.push((
            format!("{sysctls}.exists(x, !({} in {safe}))", get("x", "name", "''")),
            format!(
                "'sets sysctl `' + {sysctls}.filter(x, !({} in {safe}))[0].name + '`, which is not namespaced-safe'",
                get("x", "name", "''")
            ),
            "remove it, or use only the Pod Security baseline safe sysctls",
        ));
        pod_checks.push((
            format!(
                "{} == true",
                get_path(psc, &["windowsOptions", "hostProcess"], "false")
            ),
            "'hostProcess: true runs the pod on the Windows host'".to_owned(),
            "remove windowsOptions.hostProcess",
        ));
        let psc_value = get("variables.spec", "securityContext", "{}");
        let pod_conds: Vec<String> = pod_checks.iter().map(|c| c.0.clone()).collect();
        self.validation(
            rule,
            "pod",
            format!(
                "!variables.runnersPod || !variables.wholePod || !({pod_level}) || !{}",
                bind(psc, &psc_value, &any(&pod_conds))
            ),
            format!(
                "variables.subject + ': ' + {}",
                bind_value(psc, &psc_value, &explain(&pod_checks))
            ),
        );

        let checks = self.container_checks();
        let conds: Vec<String> = checks.iter().map(|c| c.0.clone()).collect();
        let sc_value = get("c", "securityContext", "{}");
        let bad = bind("sc", &sc_value, &any(&conds));
        self.validation(
            rule,
            "containers",
            format!("!variables.runnersPod || !variables.dindContainers.exists(c, {bad})"),
            bind_value(
                "c",
                &format!("variables.dindContainers.filter(c, {bad})[0]"),
                &format!(
                    "'container \"' + {} + '\" of ' + variables.subject + ': ' + {}",
                    get("c", "name", "''"),
                    bind_value("sc", &sc_value, &explain(&checks))
                ),
            ),
        );
    }

    // ------------------------------------------------------------ no-host-access

    pub fn no_host_access(&mut self) {
        let rule = RuleName::NoHostAccess;
        let fields = [
            ("hostNetwork", "the node's network"),
            ("hostPID", "the node's processes"),
            ("hostIPC", "the node's IPC"),
        ];
        let set = |f: &str| format!("{} == true", get("variables.spec", f, "false"));
        let conds: Vec<String> = fields.iter().map(|(f, _)| set(f)).collect();
        let branches: Vec<(String, String)> = fields
            .iter()
            .map(|(f, what)| {
                (
                    set(f),
                    lit(&format!(
                        "sets {f}: true and would share {what}; runner pods never need it, remove it"
                    )),
                )
            })
            .collect();
        self.validation(
            rule,
            "host namespaces",
            format!(
                "!variables.runnersPod || !variables.wholePod || !{}",
                any(&conds)
            ),
            format!(
                "variables.subject + ' (requested by ' + variables.who + ') ' + {}",
                first_of(&branches)
            ),
        );
        let host_path = present("v", "hostPath");
        self.validation(
            rule,
            "hostPath volumes",
            format!("!variables.runnersPod || !variables.volumes.exists(v, {host_path})"),
            bind_value(
                "v",
                &format!("variables.volumes.filter(v, {host_path})[0]"),
                &bind_value(
                    "p",
                    &get("v.hostPath", "path", "''"),
                    &format!(
                        "'volume \"' + {} + '\" of ' + variables.subject + ' (requested by ' + variables.who + ') ' + (p.matches({}) ? 'mounts the node\\'s Docker socket, which is root on the node' : 'mounts host path `' + p + '` from the node') + '; use the dind service (DOCKER_HOST=tcp://docker:2376) or an emptyDir instead'",
                        get("v", "name", "''"),
                        re("docker[.]sock/*$")
                    ),
                ),
            ),
        );
        let port = format!("({} && x.hostPort != 0)", present("x", "hostPort"));
        let ports = get("c", "ports", "[]");
        self.validation(
            rule,
            "host ports",
            format!(
                "!variables.runnersPod || !variables.containers.exists(c, {ports}.exists(x, {port}))"
            ),
            bind_value(
                "c",
                &format!("variables.containers.filter(c, {ports}.exists(x, {port}))[0]"),
                &format!(
                    "'container \"' + {} + '\" of ' + variables.subject + ' (requested by ' + variables.who + ') binds host port ' + string({ports}.filter(x, {port})[0].hostPort) + '; use a Service or the pod IP instead'",
                    get("c", "name", "''")
                ),
            ),
        );
    }

    // ------------------------------------------------------------ runner-namespace

    pub fn runner_namespace(&mut self) {
        let rule = RuleName::RunnerNamespace;
        let rns = &self.settings.runners_namespace;
        self.validation(
            rule,
            "outside the runners namespace",
            "!(variables.runner != '' && !variables.inRunners)".to_owned(),
            format!(
                "variables.who + {} + request.operation + ' of ' + variables.subject + ' is in ' + (variables.ns == '' ? 'a cluster-scoped object' : 'namespace ' + variables.ns) + '; give the ' + variables.runner + {}",
                lit(&format!(" may act only in namespace {rns}, but this ")),
                lit(&format!(" runner no permissions outside {rns}"))
            ),
        );
        // A runner asking for a ServiceAccount token: a TokenRequest, or a token Secret.
        let annotation = lit(runner_namespace::TOKEN_SECRET_ANNOTATION);
        let annotations = get("variables.meta", "annotations", "{}");
        let token_request = "(request.operation == 'CREATE' && request.kind.group == 'authentication.k8s.io' && request.kind.kind == 'TokenRequest' && request.subResource == 'token')";
        let token_secret = format!(
            "({} && {} == 'kubernetes.io/service-account-token')",
            Self::written("", "Secret"),
            get("object", "type", "''")
        );
        self.variable("tokenAsked", format!("{token_request} || {token_secret}"));
        self.variable(
            "tokenAccount",
            format!(
                "{token_request} ? request.name : {annotation} in {annotations} ? {annotations}[{annotation}] : ''"
            ),
        );
        self.validation(
            rule,
            "borrowed token",
            "!(variables.runner != '' && variables.inRunners && variables.tokenAsked && variables.tokenAccount != variables.runnerServiceAccount)".to_owned(),
            format!(
                "variables.who + ({token_request} ? ' requests a token (serviceaccounts/token)' : ' writes a ServiceAccount token Secret') + ' for ServiceAccount ' + variables.tokenAccount + ', and would act with its identity; a runner may hold only its own ServiceAccount\\'s token (' + variables.runnerServiceAccount + '): job pods get theirs mounted, through automountServiceAccountToken or a projected serviceAccountToken volume'"
            ),
        );
        // GitLab Runner's own labels (`*.runner.gitlab.com/*`), which jobs cannot set.
        let runner_label = re("^([^/]*[.])?runner[.]gitlab[.]com/");
        self.validation(
            rule,
            "job labels outside",
            format!(
                "!(variables.judgePod && !variables.inRunners && variables.labels.exists(k, k.matches({runner_label})))"
            ),
            format!(
                "variables.subject + ' (requested by ' + variables.who + {}",
                lit(&format!(
                    ") carries GitLab Runner job labels outside {rns}; runner job pods run only in {rns}"
                ))
            ),
        );
        let owners = map(self
            .settings
            .runners
            .iter()
            .enumerate()
            // The first runner with a ServiceAccount owns it, as `runner_with_service_account`.
            .filter(|(i, r)| {
                !self.settings.runners[..*i]
                    .iter()
                    .any(|o| o.service_account == r.service_account)
            })
            .map(|(_, r)| (r.service_account.clone(), r.runner_type.as_str())));
        let sa = format!(
            "{name} != '' ? {name} : {legacy}",
            name = get("variables.spec", "serviceAccountName", "''"),
            legacy = get("variables.spec", "serviceAccount", "''")
        );
        self.variable("podAccount", sa);
        self.validation(
            rule,
            "borrowed ServiceAccount",
            format!(
                "!(variables.runnersPod && variables.runner != '' && variables.podAccount in {owners} && {owners}[variables.podAccount] != variables.runner)"
            ),
            format!(
                "variables.subject + ' (requested by ' + variables.who + ') runs as ServiceAccount ' + variables.podAccount + ' of the ' + {owners}[variables.podAccount] + ' runner; a runner\\'s job pods must not borrow another runner\\'s identity, use the job ServiceAccount of the ' + variables.runner + ' runner'"
            ),
        );
    }

    // ------------------------------------------------------------ no-push-credentials

    /// `is_registry_auth_path` of the parts list `ps`.
    pub fn auth_parts(&self, ps: &str) -> String {
        let files = list(&self.private.auth_files);
        let storage = list(&self.private.storage_parents);
        let at = |i: usize| format!("(size({ps}) >= {i} ? {ps}[size({ps}) - {i}] : '')");
        let auth_dir = |i: usize| {
            format!(
                "({} == 'containers' && !({} in {storage}))",
                at(i),
                at(i + 1)
            )
        };
        format!(
            "({ps}.exists(q, q == '.docker' || q == '..') || {} in {files} || {} || ({}.matches({}) && {}) || ({} == 'registry' && {} == 'helm') || {ps} == ['root'] || (size({ps}) == 2 && {ps}[0] == 'home') || (size({ps}) == 3 && {ps}[0] == 'run' && {ps}[1] == 'user'))",
            at(1),
            auth_dir(1),
            at(1),
            re("^[0-9]+$"),
            auth_dir(2),
            at(1),
            at(2),
        )
    }

    pub fn no_push_credentials(&mut self) {
        let rule = RuleName::NoPushCredentials;
        let s = self.settings;
        let label = lit(push::PROJECT_LABEL);
        self.variable(
            "pushJudged",
            format!(
                "variables.runnersPod && !({label} in variables.labels && variables.labels[{label}] in {})",
                list(&s.push_allowed_projects)
            ),
        );
        self.variable(
            "pushFix",
            format!(
                "{label} in variables.labels ? 'project ' + variables.labels[{label}] + ' is not in pushAllowedProjects; configure push per job through CI/CD credentials, or add the project to pushAllowedProjects' : {}",
                lit(&format!(
                    "the pod has no {} label in pushAllowedProjects; configure push per job through CI/CD credentials",
                    push::PROJECT_LABEL
                ))
            ),
        );
        let listed = list(&s.registry_credential_secrets);
        let has_listed = !s.registry_credential_secrets.is_empty();
        let sources = get_path("v", &["projected", "sources"], "[]");
        if has_listed {
            let direct = format!(
                "{} in {listed}",
                get_path("v", &["secret", "secretName"], "''")
            );
            let projected = format!(
                "{sources}.exists(x, {} && x.secret.name in {listed})",
                present_path("x", &["secret", "name"])
            );
            let bad = format!(
                "({} && {direct}) || {projected}",
                present_path("v", &["secret", "secretName"])
            );
            let projected_names = format!(
                "{sources}.filter(x, {} && x.secret.name in {listed})",
                present_path("x", &["secret", "name"])
            );
            self.validation(
                rule,
                "listed Secret volumes",
                format!("!variables.pushJudged || !variables.volumes.exists(v, {bad})"),
                bind_value(
                    "v",
                    &format!("variables.volumes.filter(v, {bad})[0]"),
                    &format!(
                        "'volume \"' + {} + '\" of ' + variables.subject + ' mounts Secret ' + (({} && {direct}) ? v.secret.secretName : {projected_names}[0].secret.name) + ', which holds registry credentials; ' + variables.pushFix",
                        get("v", "name", "''"),
                        present_path("v", &["secret", "secretName"]),
                    ),
                ),
            );
        }
        // A Secret or CSI volume mounted where registry clients read credentials: at the
        // mount path (with the subPath's backsteps), or a Secret item below it; or where an
        // env var of the container says they are read.
        let secret_source = format!(
            "({} || {sources}.exists(x, {}))",
            present("v", "secret"),
            present("x", "secret")
        );
        let source = format!("({secret_source} || {})", present("v", "csi"));
        let parts = |s: &str| format!("{s}.split('/').filter(q, q != '' && q != '.')");
        let key = |l: &str| format!("{l}.map(q, q + '/').join('')");
        let vars: Vec<String> = self
            .private
            .auth_vars
            .iter()
            .map(|(v, under)| format!("[{}, {}]", lit(v), lit(under)))
            .collect();
        let var_names: Vec<&str> = self
            .private
            .auth_vars
            .iter()
            .map(|(v, _)| v.as_str())
            .collect();
        let loc = parts("(ae.value + '/' + w[1])");
        // Per container: for each env var naming an auth location, the keys of the locations
        // (`''`: anywhere, when the spec shows no literal absolute path). `ae` and `w` name
        // the filtered env vars and pairs (the cost estimate sizes them as such).
        let declared = format!(
            "{}.filter(ae, {} in {} && ({} != '' || {})).map(ae, [[{}]].map(pv, pv.filter(w, w[0] == ae.name).map(w, {} != '' && ae.value.startsWith('/') && !ae.value.contains('$') ? {} : ''))[0])",
            get("c", "env", "[]"),
            get("ae", "name", "''"),
            list(&var_names),
            get("ae", "value", "''"),
            present("ae", "valueFrom"),
            vars.join(", "),
            get("ae", "value", "''"),
            bind_value("loc", &loc, &format!("'..' in loc ? '' : {}", key("loc"))),
        );
        // `f`: where files land (a parts list); at an auth path, or (the second validation)
        // under or above a location an env var names.
        let at_auth = self.auth_parts("f");
        let declared_loc = bind(
            "kf",
            &key("f"),
            "dl.exists(ks, ks.exists(k, kf.startsWith(k) || k.startsWith(kf)))",
        );
        let item_parts = parts(&get("i", "path", "''"));
        let placed_item = format!(
            "kir.startsWith(ksp) ? mp + {} : mp + ir",
            parts("kir.replace(ksp, '', 1)")
        );
        self.variable(
            "credentialVolumes",
            format!("variables.allVolumes.filter(v, {source})"),
        );
        self.variable(
            "credentialVolumeNames",
            format!(
                "variables.credentialVolumes.map(v, {})",
                get("v", "name", "''")
            ),
        );
        let mounts = get("c", "volumeMounts", "[]");
        let sources_of = get_path("vs[0]", &["projected", "sources"], "[]");
        let direct_items = get_path("vs[0]", &["secret", "items"], "[]");
        let mount_check = |lands_bad: &str, with_env: bool| {
            let item_bad = bind(
                "ir",
                &item_parts,
                &bind(
                    "kir",
                    &key("ir"),
                    &format!(
                        "(kir.startsWith(ksp) || '..' in ir) && {}",
                        bind("f", &placed_item, lands_bad)
                    ),
                ),
            );
            let vol_bad = format!(
                "{} || {direct_items}.exists(i, {item_bad}) || {sources_of}.exists(x, {} && {}.exists(i, {item_bad}))",
                bind("f", "mp + sp.filter(q, q == '..')", lands_bad),
                present("x", "secret"),
                get("x.secret", "items", "[]"),
            );
            let bad_mount = bind(
                "vs",
                &format!(
                    "variables.credentialVolumes.filter(v, {} == {})",
                    get("v", "name", "''"),
                    get("m", "name", "''")
                ),
                &format!(
                    "size(vs) > 0 && {}",
                    bind(
                        "mp",
                        &parts(&get("m", "mountPath", "''")),
                        &bind(
                            "sp",
                            &parts(&get("m", "subPath", "''")),
                            &bind("ksp", &key("sp"), &vol_bad)
                        )
                    )
                ),
            );
            // Only mounts of Secret and CSI volumes can bring credentials (`cm`: the cost
            // estimate sizes them as such).
            let credential_mounts = format!(
                "{mounts}.filter(cm, {} in variables.credentialVolumeNames)",
                get("cm", "name", "''"),
            );
            let any_mount = format!("{credential_mounts}.exists(m, {bad_mount})");
            let bad_container = if with_env {
                bind("dl", &declared, &format!("size(dl) > 0 && {any_mount}"))
            } else {
                any_mount
            };
            let message = format!(
                "'container \"' + {} + '\" of ' + variables.subject + ' mounts ' + (variables.volumes.exists(v, {} == {} && {secret_source}) ? 'a Secret' : 'a CSI volume, whose driver can mount any stored credential,') + ' at ' + m.mountPath + ', where registry clients read push credentials{}; ' + variables.pushFix",
                get("c", "name", "''"),
                get("v", "name", "''"),
                get("m", "name", "''"),
                if with_env {
                    " (an env var of the container names it)"
                } else {
                    ""
                },
            );
            let first_mount = bind_value(
                "m",
                &format!("{credential_mounts}.filter(m, {bad_mount})[0]"),
                &message,
            );
            let message = if with_env {
                bind_value("dl", &declared, &first_mount)
            } else {
                first_mount
            };
            (
                format!(
                    "!variables.pushJudged || !variables.containers.exists(c, {bad_container})"
                ),
                bind_value(
                    "c",
                    &format!("variables.containers.filter(c, {bad_container})[0]"),
                    &message,
                ),
            )
        };
        let (ok, message) = mount_check(&at_auth, false);
        self.validation(rule, "auth path mounts", ok, message);
        let (ok, message) = mount_check(&declared_loc, true);
        self.validation(
            rule,
            "mounts where an env var reads credentials",
            ok,
            message,
        );
        if has_listed {
            let env_bad = format!(
                "({} && e.valueFrom.secretKeyRef.name in {listed})",
                present_path("e", &["valueFrom", "secretKeyRef", "name"])
            );
            let envs = get("c", "env", "[]");
            self.validation(
                rule,
                "listed Secret env",
                format!(
                    "!variables.pushJudged || !variables.containers.exists(c, {envs}.exists(e, {env_bad}))"
                ),
                bind_value(
                    "c",
                    &format!("variables.containers.filter(c, {envs}.exists(e, {env_bad}))[0]"),
                    &bind_value(
                        "e",
                        &format!("{envs}.filter(e, {env_bad})[0]"),
                        &format!(
                            "'container \"' + {} + '\" of ' + variables.subject + ' reads ' + {} + ' from Secret ' + e.valueFrom.secretKeyRef.name + ', which holds registry credentials; ' + variables.pushFix",
                            get("c", "name", "''"),
                            get("e", "name", "''")
                        ),
                    ),
                ),
            );
            let from_bad = format!(
                "({} && f.secretRef.name in {listed})",
                present_path("f", &["secretRef", "name"])
            );
            let froms = get("c", "envFrom", "[]");
            self.validation(
                rule,
                "listed Secret envFrom",
                format!(
                    "!variables.pushJudged || !variables.containers.exists(c, {froms}.exists(f, {from_bad}))"
                ),
                bind_value(
                    "c",
                    &format!("variables.containers.filter(c, {froms}.exists(f, {from_bad}))[0]"),
                    &format!(
                        "'container \"' + {} + '\" of ' + variables.subject + ' loads every key of Secret ' + {froms}.filter(f, {from_bad})[0].secretRef.name + ', which holds registry credentials; ' + variables.pushFix",
                        get("c", "name", "''")
                    ),
                ),
            );
        }
    }

    // ------------------------------------------------------------ namespaced-rbac

    pub fn namespaced_rbac(&mut self) {
        let rule = RuleName::NamespacedRbac;
        let rns = &self.settings.runners_namespace;
        let ns = self.runners_ns();
        let fix = format!(
            "grant the runner only what the GitLab Runner Kubernetes executor needs: {}",
            namespaced_rbac::runner_rules_text()
        );
        let escalating: Vec<String> = namespaced_rbac::ESCALATING_VERBS
            .iter()
            .map(|v| v.to_ascii_lowercase())
            .collect();
        let esc = list(&escalating);
        let groups = get("r", "apiGroups", "[]");
        let resources = get("r", "resources", "[]");
        let verbs = get("r", "verbs", "[]");
        let wild_group = format!("'*' in {groups}");
        let wild_resource = format!("{resources}.exists(x, x == '*' || x.startsWith('*/'))");
        let bad_verb = format!("{verbs}.exists(x, x == '*' || x.lowerAscii() in {esc})");
        let bad_rule = format!("({wild_group} || {wild_resource} || {bad_verb})");
        let rules = get("object", "rules", "[]");
        let role = format!(
            "({} && variables.inRunners)",
            Self::written(RBAC_GROUP, "Role")
        );
        self.validation(
            rule,
            "Role",
            format!("!{role} || !{rules}.exists(r, {bad_rule})"),
            bind_value(
                "r",
                &format!("{rules}.filter(r, {bad_rule})[0]"),
                &format!(
                    "variables.subject + ' (requested by ' + variables.who + '): rules[' + string({rules}.indexOf(r)) + ']' + ({wild_group} ? '.apiGroups holds the wildcard `*` (every API group)' : {wild_resource} ? '.resources holds a wildcard (`*` or `*/<subresource>`: every resource)' : '.verbs holds `*`, escalate, bind or impersonate (verbs that grant permissions the holder does not have, or act as another identity)') + {}",
                    lit(&format!("; {fix}"))
                ),
            ),
        );
        let role_ref_kind = get_path("object", &["roleRef", "kind"], "''");
        self.validation(
            rule,
            "RoleBinding to a ClusterRole",
            format!(
                "!({} && variables.inRunners && {role_ref_kind} != 'Role')",
                Self::written(RBAC_GROUP, "RoleBinding")
            ),
            format!(
                "variables.subject + ' (requested by ' + variables.who + '): roleRef is ' + {role_ref_kind} + ' ' + {} + {}",
                get_path("object", &["roleRef", "name"], "''"),
                lit(&format!(
                    "; RoleBindings in {rns} may bind only Roles of {rns}, whose rules this policy checks. Bind a Role of {rns} holding only what the runner needs ({})",
                    namespaced_rbac::runner_rules_text()
                ))
            ),
        );
        // A subject that reaches the runners' ServiceAccounts.
        let role_name = get_path("object", &["roleRef", "name"], "''");
        let cluster_role = format!("{role_ref_kind} == 'ClusterRole'");
        let kind = get("x", "kind", "''");
        let name = get("x", "name", "''");
        let reaches = format!(
            "(({kind} == 'ServiceAccount' && ({sns} != '' ? {sns} : variables.ns) == {ns}) || ({kind} == 'User' && {name}.startsWith({user})) || ({kind} == 'Group' && ({name} == {own} || ({name} == 'system:serviceaccounts' && !({cluster_role} && {role_name} in {sa_boot})) || ({name} == 'system:authenticated' && !({cluster_role} && {role_name} in {discovery})))))",
            sns = get("x", "namespace", "''"),
            user = lit(&format!("system:serviceaccount:{rns}:")),
            own = lit(&format!("system:serviceaccounts:{rns}")),
            sa_boot = list(&self.private.bootstrap_service_account_roles),
            discovery = list(&self.private.bootstrap_discovery_roles),
        );
        let subjects = get("object", "subjects", "[]");
        let binding = format!(
            "(({} && !variables.inRunners) || {})",
            Self::written(RBAC_GROUP, "RoleBinding"),
            Self::written(RBAC_GROUP, "ClusterRoleBinding")
        );
        self.validation(
            rule,
            "bindings reaching the runners",
            format!("!{binding} || !{subjects}.exists(x, {reaches})"),
            bind_value(
                "x",
                &format!("{subjects}.filter(x, {reaches})[0]"),
                &format!(
                    "variables.subject + ' (requested by ' + variables.who + '): subjects[' + string({subjects}.indexOf(x)) + '] is ' + {kind} + ' ' + {name} + ', so it grants runner identities ' + {role_ref_kind} + ' ' + {role_name} + (request.kind.kind == 'ClusterRoleBinding' ? ' in every namespace' : ' in namespace ' + variables.ns) + {}",
                    lit(&format!(
                        "; runners hold permissions only in {rns}: bind their ServiceAccounts only through RoleBindings to Roles in {rns}"
                    ))
                ),
            ),
        );
    }

    // ------------------------------------------------------------ runner-token-secret

    /// Whether an object's data maps hold a key that `wanted(x)` picks, and the message part
    /// naming the first (`` `key` in field ``).
    fn data_keys(wanted: &str) -> (String, String) {
        let fields = ["data", "stringData", "binaryData"];
        let conds: Vec<String> = fields
            .iter()
            .map(|f| format!("{}.exists(x, {wanted})", get("object", f, "{}")))
            .collect();
        let branches: Vec<(String, String)> = fields
            .iter()
            .zip(&conds)
            .map(|(f, cond)| {
                (
                    cond.clone(),
                    format!(
                        "{}.filter(x, {wanted})[0] + '` in {f}'",
                        get("object", f, "{}")
                    ),
                )
            })
            .collect();
        (any(&conds), first_of(&branches))
    }

    pub fn runner_token_secret(&mut self) {
        let rule = RuleName::RunnerTokenSecret;
        let rns = &self.settings.runners_namespace;
        let keys: Vec<String> = token::TOKEN_KEYS
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect();
        let (has_key, which) = Self::data_keys(&format!("x.lowerAscii() in {}", list(&keys)));
        self.validation(
            rule,
            "Secret outside the runners namespace",
            format!(
                "!({} && !variables.inRunners && {has_key})",
                Self::written("", "Secret")
            ),
            format!(
                "variables.subject + ' (requested by ' + variables.who + ') holds the runner token key `' + {which} + {}",
                lit(&format!(
                    "; the runner token belongs only in a Secret in {rns}, where only the runner managers read it; move it there"
                ))
            ),
        );
        self.validation(
            rule,
            "ConfigMap",
            format!("!({} && {has_key})", Self::written("", "ConfigMap")),
            format!(
                "variables.subject + ' (requested by ' + variables.who + ') holds the runner token key `' + {which} + {}",
                lit(&format!(
                    "; ConfigMaps are not for secrets (not encrypted at rest, readable by anyone who may read configuration); put the token in a Secret in {rns}"
                ))
            ),
        );
        let names: Vec<String> = token::TOKEN_ENV
            .iter()
            .map(|n| n.to_ascii_uppercase())
            .collect();
        let literal = format!(
            "({} != '' && {}.upperAscii() in {})",
            get("e", "value", "''"),
            get("e", "name", "''"),
            list(&names)
        );
        let envs = get("c", "env", "[]");
        self.validation(
            rule,
            "literal env",
            format!(
                "!variables.runnersPod || !variables.containers.exists(c, {envs}.exists(e, {literal}))"
            ),
            bind_value(
                "c",
                &format!("variables.containers.filter(c, {envs}.exists(e, {literal}))[0]"),
                &format!(
                    "'container \"' + {} + '\" of ' + variables.subject + ' (requested by ' + variables.who + ') sets the runner token ' + {envs}.filter(e, {literal})[0].name + ' as a literal value; read it from the runner Secret instead: valueFrom.secretKeyRef {{name: <runner secret>, key: runner-token}}'",
                    get("c", "name", "''")
                ),
            ),
        );
    }

    // ------------------------------------------------------------ attic-credentials-from-secret

    pub fn attic_credentials_from_secret(&mut self) {
        let rule = RuleName::AtticCredentialsFromSecret;
        let words: Vec<String> = attic::CREDENTIAL_WORDS
            .iter()
            .map(|w| format!("u.contains({})", lit(&w.to_ascii_uppercase())))
            .collect();
        let is_attic = |x: &str| {
            bind(
                "u",
                &format!("{x}.upperAscii()"),
                &format!("u.startsWith('ATTIC_') && ({})", words.join(" || ")),
            )
        };
        let secret_only = "Attic credentials must come from a Secret";
        let (has_key, which) = Self::data_keys(&is_attic("x"));
        self.validation(
            rule,
            "ConfigMap",
            format!(
                "!({} && variables.inRunners && {has_key})",
                Self::written("", "ConfigMap")
            ),
            format!(
                "variables.subject + ' (requested by ' + variables.who + ') holds the Attic credential `' + {which} + {}",
                lit(&format!(
                    " in a ConfigMap; {secret_only}: put it in a Secret and read it with valueFrom.secretKeyRef"
                ))
            ),
        );
        // A prefix that can start `ATTIC_` (ASCII case folded).
        let prefix_bad = format!(
            "({} && {} != '' && {})",
            present("f", "configMapRef"),
            get("f", "prefix", "''"),
            bind(
                "u",
                "f.prefix.upperAscii()",
                "u.startsWith('ATTIC_') || 'ATTIC_'.startsWith(u)"
            )
        );
        let froms = get("c", "envFrom", "[]");
        self.validation(
            rule,
            "envFrom prefix",
            format!(
                "!variables.runnersPod || !variables.containers.exists(c, {froms}.exists(f, {prefix_bad}))"
            ),
            bind_value(
                "c",
                &format!("variables.containers.filter(c, {froms}.exists(f, {prefix_bad}))[0]"),
                &bind_value(
                    "f",
                    &format!("{froms}.filter(f, {prefix_bad})[0]"),
                    &format!(
                        "'container \"' + {} + '\" of ' + variables.subject + ' (requested by ' + variables.who + ') loads ConfigMap ' + {} + ' with prefix ' + f.prefix + {}",
                        get("c", "name", "''"),
                        get("f.configMapRef", "name", "''"),
                        lit(&format!(
                            ", which can name an Attic credential that the pod spec does not show; {secret_only}: load it from a Secret (envFrom.secretRef), or set Attic's other settings as env values"
                        ))
                    ),
                ),
            ),
        );
        let env_bad = format!(
            "({} && ({} ? !{} : {} != ''))",
            is_attic(&get("e", "name", "''")),
            present("e", "valueFrom"),
            present("e.valueFrom", "secretKeyRef"),
            get("e", "value", "''")
        );
        let envs = get("c", "env", "[]");
        self.validation(
            rule,
            "env",
            format!(
                "!variables.runnersPod || !variables.containers.exists(c, {envs}.exists(e, {env_bad}))"
            ),
            bind_value(
                "c",
                &format!("variables.containers.filter(c, {envs}.exists(e, {env_bad}))[0]"),
                &bind_value(
                    "e",
                    &format!("{envs}.filter(e, {env_bad})[0]"),
                    &format!(
                        "'container \"' + {} + '\" of ' + variables.subject + ' (requested by ' + variables.who + ') sets the Attic credential ' + e.name + ({} ? ' from a valueFrom source that is not a Secret' : ' as a literal value') + {}",
                        get("c", "name", "''"),
                        present("e", "valueFrom"),
                        lit(&format!(
                            "; {secret_only}: use valueFrom.secretKeyRef {{name: <attic secret>, key: <key>}}"
                        ))
                    ),
                ),
            ),
        );
    }

    // ------------------------------------------------------------ public-registries

    /// Whether image reference `i` (a non-empty string) parses as `image::ImageRef::parse` reads it.
    fn image_valid(&self) -> (String, String, String) {
        let p = self.private;
        let digest = "(?:@(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}))?";
        let tag = format!(
            "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{}}})?",
            p.image_tag_max.saturating_sub(1)
        );
        let component = "[a-z0-9]+(?:(?:[.]|_|__|-+)[a-z0-9]+)*";
        // A first component followed by more is the registry when it has `.` (or `:`, or an
        // uppercase letter, which no component allows); `localhost` is both.
        let no_dot = "[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*";
        let label = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
        let registry = format!("(?:{label}(?:[.]{label})*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]+)?");
        let full = format!(
            "^(?:{registry}/{component}(?:/{component})*|{no_dot}(?:/{component})+|{component}){tag}{digest}$"
        );
        // The repository name (without tag and digest) is at most NAME_MAX characters.
        let length = format!("^[^@]{{0,{}}}{tag}(?:@[^@]*)?$", p.image_name_max);
        // A bare 64-hex name is an image ID, not a repository.
        let id = format!("^[0-9a-f]{{64}}{tag}(?:@.*)?$");
        (full, length, id)
    }

    pub fn public_registries(&mut self) {
        let rule = RuleName::PublicRegistries;
        let s = self.settings;
        let mut allowed: Vec<String> = s
            .allowed_registries
            .iter()
            .map(|r| image::normalise_registry(r).into_owned())
            .collect();
        let listed = if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.join(", ")
        };
        // The CEL folds case; Docker Hub's other names are accepted where docker.io is.
        if allowed.iter().any(|r| r == image::DOCKER_HUB) {
            allowed.extend(self.private.docker_hub_aliases.iter().cloned());
        }
        let (full, length, id) = self.image_valid();
        let first = "i.split('/')[0]";
        let registry = format!(
            "(i.contains('/') && ({first}.matches('[.:A-Z]') || {first} == 'localhost') ? {first}.lowerAscii() : {})",
            lit(image::DOCKER_HUB)
        );
        let valid = format!(
            "(i.matches({}) && i.matches({}) && !i.matches({}))",
            re(&full),
            re(&length),
            re(&id)
        );
        let bad = format!("!({valid} && {registry} in {})", list(&allowed));
        let what = format!(
            "({valid} ? 'image `' + i + '` comes from registry ' + {registry} + {} : 'image `' + i + '` is not a valid image reference, so its registry cannot be checked against allowedRegistries ({listed}); write it as [registry/]repository[:tag][@digest]')",
            lit(&format!(
                ", which is not in allowedRegistries ({listed}); use an image from an allowed registry (an image without a registry is docker.io), or add the registry to allowedRegistries"
            ))
        );
        // Containers, then image volumes (Kubernetes 1.31+), as the module reports them.
        for (part, items, var, image, place) in [
            (
                "container images",
                "variables.containers",
                "c",
                get("c", "image", "''"),
                "'container \"' + (has(c.name) ? c.name : '') + '\" of '",
            ),
            (
                "volume images",
                "variables.volumes",
                "v",
                get_path("v", &["image", "reference"], "''"),
                "'volume \"' + (has(v.name) ? v.name : '') + '\" of '",
            ),
        ] {
            let bad_item = bind("i", &image, &format!("i != '' && {bad}"));
            self.validation(
                rule,
                part,
                format!("!variables.runnersPod || !{items}.exists({var}, {bad_item})"),
                bind_value(
                    var,
                    &format!("{items}.filter({var}, {bad_item})[0]"),
                    &bind_value(
                        "i",
                        &image,
                        &format!("{place} + variables.subject + ': ' + {what}"),
                    ),
                ),
            );
        }
    }

    // ------------------------------------------------------------ runner-egress

    fn pins(sel: &str, key: &str, value: &str) -> String {
        let (key, value) = (lit(key), lit(value));
        format!(
            "(({key} in {labels} && {sel}.matchLabels[{key}] == {value}) || {exprs}.exists(e, {} == {key} && {} == 'In' && size({values}) > 0 && {values}.all(y, y == {value})))",
            get("e", "key", "''"),
            get("e", "operator", "''"),
            labels = get(sel, "matchLabels", "{}"),
            exprs = get(sel, "matchExpressions", "[]"),
            values = get("e", "values", "[]"),
        )
    }

    pub fn runner_egress(&mut self) {
        let rule = RuleName::RunnerEgress;
        let p = self.private;
        let attic = &self.settings.attic_namespace;
        let name = runner_egress::NAMESPACE_NAME_LABEL;
        let has_ns = present("p", "namespaceSelector");
        let has_pods = present("p", "podSelector");
        let peer_bad = format!(
            "(!{has_ns} && !{has_pods} ? !{} : !{has_ns} ? false : {} ? false : {} ? !({has_pods} && {}) : true)",
            present("p", "ipBlock"),
            Self::pins("p.namespaceSelector", name, attic),
            Self::pins("p.namespaceSelector", name, &p.dns_namespace),
            Self::pins("p.podSelector", &p.dns_label.0, &p.dns_label.1),
        );
        let to = get("r", "to", "[]");
        let rule_bad = format!(
            "(!{} || size({to}) == 0 || r.to.exists(p, {peer_bad}))",
            present("r", "to")
        );
        let egress = get_path("object", &["spec", "egress"], "[]");
        let fix = format!(
            "runners may reach only the Attic cache (namespaceSelector {{matchLabels: {{{name}: {attic}}}}}), cluster DNS (namespaceSelector {{matchLabels: {{{name}: {dns}}}}} with podSelector {{matchLabels: {{{k}: {v}}}}}), pods of {rns} (podSelector alone) and external registries (ipBlock)",
            dns = p.dns_namespace,
            k = p.dns_label.0,
            v = p.dns_label.1,
            rns = self.settings.runners_namespace,
        );
        self.validation(
            rule,
            "egress",
            format!(
                "!({} && variables.inRunners && {egress}.exists(r, {rule_bad}))",
                Self::written("networking.k8s.io", "NetworkPolicy")
            ),
            bind_value(
                "r",
                &format!("{egress}.filter(r, {rule_bad})[0]"),
                &format!(
                    "variables.subject + ' (requested by ' + variables.who + '): spec.egress[' + string({egress}.indexOf(r)) + ']' + (!{} ? ' has no `to`, so it allows every destination' : size({to}) == 0 ? ' has an empty `to`, so it allows every destination' : '.to[' + string(r.to.indexOf(r.to.filter(p, {peer_bad})[0])) + '] selects namespaces other than the Attic cache and cluster DNS') + {}",
                    present("r", "to"),
                    lit(&format!("; {fix}"))
                ),
            ),
        );
    }
}
