//! What every rule reads: the request, its object, the settings and who is asking.

use crate::request::json::same_bytes;
use crate::request::object::update_change;
use crate::request::object::{ContainerAt, PodAt};
use crate::request::{AdmissionRequest, Object, Operation, PodView};
use crate::settings::{Runner, Settings};
use alloc::{borrow::ToOwned, format, string::String, vec::Vec};
use core::cell::OnceCell;

pub struct Context<'r, 'a> {
    pub request: &'r AdmissionRequest<'a>,
    pub operation: Operation,
    pub object: &'r Object<'a>,
    pub settings: &'r Settings,
    /// The runner whose manager is asking (from `userInfo.username` only), if any.
    pub requester: Option<&'r Runner>,
    /// The namespace acted in: the request's, else the object's; empty when cluster-scoped.
    pub namespace: &'r str,
    /// False for an UPDATE that leaves the pod spec as it was (status, finalizers, labels):
    /// it cannot add privilege, and denying it would block controllers and the kubelet.
    pub pod_changed: bool,
    /// For an UPDATE of a Pod that changes containers only: those it leaves as they were.
    unchanged: Option<[u64; 3]>,
    /// The pod spec to judge (see [`Self::pod`]), found once: most rules ask for it.
    pod_parts: Option<PodAt<'r, 'a>>,
    /// The containers of [`Self::pod`], listed once: most rules walk them.
    containers: Vec<ContainerAt<'r, 'a>>,
    /// `namespace` is the runners namespace (asked by most rules, so compared once).
    in_runners_namespace: bool,
    /// Message parts, formatted once and only when a rule reports something.
    object_ref: OnceCell<String>,
    who: OnceCell<String>,
}

impl<'r, 'a> Context<'r, 'a> {
    /// `None` when the request has no operation (the input parser refuses those already).
    pub fn new(
        request: &'r AdmissionRequest<'a>,
        object: &'r Object<'a>,
        settings: &'r Settings,
        requester: Option<&'r Runner>,
    ) -> Option<Self> {
        let operation = request.operation?;
        // A Namespace is cluster-scoped, though the API server gives its requests the
        // Namespace's own name as their namespace: acting on the runners Namespace itself (its
        // Pod Security labels, its deletion) is not acting inside it.
        let is_namespace = request.kind.group.is_empty() && request.kind.kind == "Namespace";
        let namespace = request
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .or_else(|| object.meta().and_then(|m| m.namespace.as_deref()))
            .filter(|_| !is_namespace)
            .unwrap_or("");
        let (pod_changed, unchanged) = match (operation, request.object, request.old_object) {
            (Operation::Update, Some(new), Some(old)) => {
                let kind = &request.kind;
                let old_read = request.read_old_object.as_ref();
                update_change(&kind.group, &kind.kind, object, old_read, new, old)
            }
            _ => (true, None),
        };
        let pod_parts = object
            .pod_parts()
            .filter(|_| judges_pod(operation, pod_changed));
        let containers = match pod_parts {
            Some((_, _, spec)) => spec.containers_but(unchanged.unwrap_or_default()).collect(),
            None => Vec::new(),
        };
        Some(Context {
            request,
            operation,
            object,
            settings,
            requester,
            namespace,
            pod_changed,
            unchanged,
            pod_parts,
            containers,
            in_runners_namespace: same_bytes(
                namespace.as_bytes(),
                settings.runners_namespace.as_bytes(),
            ),
            object_ref: OnceCell::new(),
            who: OnceCell::new(),
        })
    }

    pub fn username(&self) -> &str {
        self.request.username()
    }

    pub fn in_runners_namespace(&self) -> bool {
        self.in_runners_namespace
    }

    /// The pod spec a CREATE or UPDATE would run, when it is new or changed; for an UPDATE of a
    /// Pod that changes containers only, with the others marked unchanged.
    #[inline(always)] // in `runners_pod`, which most rules call: a call fewer for each
    pub fn pod(&self) -> Option<PodView<'_, 'a>> {
        let parts = self.pod_parts?;
        Some(PodView::new(parts, self.unchanged, &self.containers))
    }

    /// The pod spec to judge in the runners namespace.
    pub fn runners_pod(&self) -> Option<PodView<'_, 'a>> {
        self.pod().filter(|_| self.in_runners_namespace())
    }

    /// The object a CREATE or UPDATE writes.
    pub fn written(&self) -> Option<&'r Object<'a>> {
        self.operation.writes_object().then_some(self.object)
    }

    /// [`Self::object_ref`] as a `Display` that formats only when a message is written.
    pub fn subject(&self) -> Deferred<'_, 'r, 'a> {
        Deferred(self, Self::object_ref)
    }

    /// [`Self::who`] as a `Display` that formats only when a message is written.
    pub fn requester_name(&self) -> Deferred<'_, 'r, 'a> {
        Deferred(self, Self::who)
    }

    /// `Kind namespace/name`, for messages.
    pub fn object_ref(&self) -> &str {
        self.object_ref.get_or_init(|| self.format_object_ref())
    }

    fn format_object_ref(&self) -> String {
        let kind = self.request.kind.kind.as_ref();
        let name = self
            .object
            .meta()
            .map(|m| m.display_name())
            .filter(|n| !n.is_empty())
            .or(self.request.name.as_deref())
            .unwrap_or("");
        match (self.namespace, name) {
            ("", "") => kind.to_owned(),
            ("", name) => format!("{kind} {name}"),
            (ns, "") => format!("{kind} in {ns}"),
            (ns, name) => format!("{kind} {ns}/{name}"),
        }
    }

    /// Who is asking, for messages: the username and, for runner managers, the runner type.
    pub fn who(&self) -> &str {
        self.who.get_or_init(|| match self.requester {
            Some(r) => format!(
                "{} (the {} runner)",
                self.username(),
                r.runner_type.as_str()
            ),
            None => self.username().to_owned(),
        })
    }
}

/// A message part computed from the context on first use: rules name the object and the
/// requester in every message, but most evaluations write no message at all.
#[derive(Clone, Copy)]
pub struct Deferred<'c, 'r, 'a>(&'c Context<'r, 'a>, fn(&'c Context<'r, 'a>) -> &'c str);

impl<'c> Deferred<'c, '_, '_> {
    /// The text, computed now if it was not yet.
    pub fn as_str(&self) -> &'c str {
        (self.1)(self.0)
    }
}

impl core::fmt::Display for Deferred<'_, '_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str((self.1)(self.0))
    }
}

/// Whether a request's pod is judged: a CREATE or UPDATE writes it, and it is new or changed.
fn judges_pod(operation: Operation, pod_changed: bool) -> bool {
    operation.writes_object() && pod_changed
}

#[cfg(test)]
mod tests {
    use crate::decision::RuleName;
    use crate::decision::RuleName::{
        AtticCredentialsFromSecret as A, DindOnlyPrivilege as D, NoHostAccess as H,
        NoPushCredentials as P, PublicRegistries as R, RunnerTokenSecret as T,
    };
    use crate::testing::{
        ADMIN, Req, container, create_pod, decide_text, paths, pod, runner, settings,
    };
    use rstest::rstest;
    use serde_json::{Value, json};

    /// A running dind job pod: privileged build and service, a pod-level setting only a
    /// privileged runner may use, and a Secret volume.
    fn running() -> Value {
        let mut p = pod(json!([
            container(
                "build",
                json!({"securityContext": {"privileged": true}, "resources": {"limits": {"cpu": "1"}}})
            ),
            container(
                "svc-0",
                json!({"image": "docker:27-dind", "securityContext": {"privileged": true}})
            ),
        ]));
        p["spec"]["securityContext"] = json!({"seccompProfile": {"type": "Unconfined"}});
        p["spec"]["volumes"] = json!([{"name": "creds", "secret": {"secretName": "other"}}]);
        p
    }

    fn debugger(extra: Value) -> Value {
        let mut c = container(
            "debugger",
            json!({"image": "busybox:1.36", "targetContainerName": "build"}),
        );
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c
    }

    fn with_debugger(extra: Value) -> Value {
        let mut p = running();
        p["spec"]["ephemeralContainers"] = json!([debugger(extra)]);
        p
    }

    fn edit(f: fn(&mut Value)) -> Value {
        let mut p = running();
        f(&mut p);
        p
    }

    const CONTROLLER: &str = "system:serviceaccount:kube-system:generic-garbage-collector";
    const BUILD: &str = "spec.containers[0].securityContext.privileged";
    const SVC: &str = "spec.containers[1].securityContext.privileged";
    const POD_SECCOMP: &str = "spec.securityContext.seccompProfile.type";
    const DEBUGGER: &str = "spec.ephemeralContainers[0]";

    fn update(user: &str, sub: &str, old: Option<Value>, new: Value) -> Vec<(RuleName, String)> {
        let mut input = Req::update(new).by(user);
        if let Some(old) = old {
            input = input.old(old);
        }
        if !sub.is_empty() {
            input = input.subresource(sub);
        }
        let mut out = paths(&input);
        // The same when the objects come before the kind, and the old one is read after the
        // request's pass.
        let later = decide_text(&input.text_kind_last()).violations;
        let later: Vec<_> = later.into_iter().map(|v| (v.rule, v.path)).collect();
        assert_eq!(later, out, "kind after the objects");
        out.sort();
        out
    }

    fn at(rule: RuleName, path: &str) -> (RuleName, String) {
        (rule, path.to_owned())
    }

    #[rstest]
    #[case::restricted_debugger_by_admin(ADMIN, "ephemeralcontainers", with_debugger(json!({"securityContext": {"capabilities": {"drop": ["ALL"]}}})), vec![])]
    #[case::restricted_debugger_by_controller(CONTROLLER, "ephemeralcontainers", with_debugger(json!({})), vec![])]
    #[case::privileged_debugger_by_admin(ADMIN, "ephemeralcontainers", with_debugger(json!({"securityContext": {"privileged": true}})), vec![at(D, &format!("{DEBUGGER}.securityContext.privileged"))])]
    #[case::privileged_debugger_by_docker_runner(&runner("docker"), "ephemeralcontainers", with_debugger(json!({"securityContext": {"privileged": true}})), vec![at(D, &format!("{DEBUGGER}.securityContext.privileged"))])]
    #[case::privileged_debugger_by_dind_runner(&runner("dind"), "ephemeralcontainers", with_debugger(json!({"securityContext": {"privileged": true}})), vec![])]
    #[case::debugger_host_port(ADMIN, "ephemeralcontainers", with_debugger(json!({"ports": [{"containerPort": 1, "hostPort": 1}]})), vec![at(H, &format!("{DEBUGGER}.ports[0].hostPort"))])]
    #[case::debugger_image_elsewhere(ADMIN, "ephemeralcontainers", with_debugger(json!({"image": "quay.io/x/y"})), vec![at(R, &format!("{DEBUGGER}.image"))])]
    #[case::debugger_mounts_secret_at_auth_path(ADMIN, "ephemeralcontainers", with_debugger(json!({"volumeMounts": [{"name": "creds", "mountPath": "/root/.docker"}]})), vec![at(P, &format!("{DEBUGGER}.volumeMounts[0].mountPath"))])]
    #[case::debugger_literal_runner_token(ADMIN, "ephemeralcontainers", with_debugger(json!({"env": [{"name": "RUNNER_TOKEN", "value": "glrt-x"}]})), vec![at(T, &format!("{DEBUGGER}.env[0].value"))])]
    #[case::debugger_literal_attic_token(ADMIN, "ephemeralcontainers", with_debugger(json!({"env": [{"name": "ATTIC_TOKEN", "value": "x"}]})), vec![at(A, &format!("{DEBUGGER}.env[0].value"))])]
    #[case::resize(ADMIN, "resize", edit(|p| p["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "2"}})), vec![])]
    #[case::resize_policy(CONTROLLER, "resize", edit(|p| p["spec"]["containers"][1]["resizePolicy"] = json!([{"resourceName": "cpu", "restartPolicy": "NotRequired"}])), vec![])]
    #[case::pod_level_resources(ADMIN, "resize", edit(|p| p["spec"]["resources"] = json!({"limits": {"cpu": "4"}})), vec![])]
    // A new image in a privileged container is a new privileged program: that container is
    // judged whole, the others not.
    #[case::image_of_privileged_container(ADMIN, "", edit(|p| p["spec"]["containers"][1]["image"] = json!("docker:28-dind")), vec![at(D, SVC)])]
    #[case::image_from_elsewhere(ADMIN, "", edit(|p| p["spec"]["containers"][1]["image"] = json!("quay.io/x/dind")), vec![at(D, SVC), at(R, "spec.containers[1].image")])]
    #[case::security_context_changed(ADMIN, "", edit(|p| p["spec"]["containers"][0]["securityContext"]["capabilities"] = json!({"add": ["SYS_ADMIN"]})), vec![at(D, "spec.containers[0].securityContext.capabilities.add[0]"), at(D, BUILD)])]
    fn an_update_of_containers_only_is_judged_by_what_it_adds_or_changes(
        #[case] user: &str,
        #[case] sub: &str,
        #[case] new: Value,
        #[case] want: Vec<(RuleName, String)>,
    ) {
        let mut want = want;
        want.sort();
        assert_eq!(update(user, sub, Some(running()), new), want);
    }

    /// The whole pod, as a non-privileged requester sees it: both privileged containers and the
    /// pod-level seccomp profile.
    fn whole(extra: &[(RuleName, &str)]) -> Vec<(RuleName, String)> {
        let mut out: Vec<_> = [(D, BUILD), (D, SVC), (D, POD_SECCOMP)]
            .iter()
            .chain(extra)
            .map(|(r, p)| at(*r, p))
            .collect();
        out.sort();
        out
    }

    #[rstest]
    #[case::no_old_object(None, with_debugger(json!({})), whole(&[]))]
    #[case::old_object_not_an_object(Some(json!("a pod")), with_debugger(json!({})), whole(&[]))]
    #[case::old_spec_missing(Some(json!({"metadata": {}})), with_debugger(json!({})), whole(&[]))]
    #[case::old_containers_not_a_list(Some(edit(|p| p["spec"]["containers"] = json!("build"))), with_debugger(json!({})), whole(&[]))]
    #[case::pod_level_field_changed(Some(running()), edit(|p| p["spec"]["activeDeadlineSeconds"] = json!(60)), whole(&[]))]
    #[case::volume_added(Some(running()), edit(|p| p["spec"]["volumes"].as_array_mut().unwrap().push(json!({"name": "root", "hostPath": {"path": "/"}}))), whole(&[(H, "spec.volumes[1].hostPath")]))]
    #[case::host_network_set(Some(running()), edit(|p| p["spec"]["hostNetwork"] = json!(true)), whole(&[(H, "spec.hostNetwork")]))]
    #[case::containers_reordered(Some(running()), edit(|p| p["spec"]["containers"] = json!([p["spec"]["containers"][1], p["spec"]["containers"][0]])), whole(&[]).into_iter().filter(|(_, p)| p != POD_SECCOMP).collect())]
    fn otherwise_the_whole_pod_is_judged(
        #[case] old: Option<Value>,
        #[case] new: Value,
        #[case] want: Vec<(RuleName, String)>,
    ) {
        assert_eq!(update(ADMIN, "", old, new), want);
    }

    /// An UPDATE whose old object is the new one's JSON written another way (indented, `/` and
    /// a letter escaped) is judged as if both were written alike.
    #[rstest]
    #[case::indented(|v: &Value| serde_json::to_string_pretty(v).unwrap())]
    #[case::escaped(|v: &Value| serde_json::to_string(v).unwrap().replace('/', "\\/").replace("dind", "d\\u0069nd"))]
    fn an_old_object_written_another_way_is_the_same(#[case] write: fn(&Value) -> String) {
        let resized =
            edit(|p| p["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "2"}}));
        let added = with_debugger(json!({"securityContext": {"privileged": true}}));
        for new in [running(), resized, added] {
            let input = Req::update(new.clone()).by(ADMIN).old(running());
            let written = input.text_old_written(write);
            // The spelling really differs from the compact one (the key order is the same).
            let compact = input.text_old_written(|v| serde_json::to_string(v).unwrap());
            assert_ne!(written, compact);
            let mut found: Vec<_> = decide_text(&written)
                .violations
                .into_iter()
                .map(|v| (v.rule, v.path))
                .collect();
            found.sort();
            assert_eq!(found, update(ADMIN, "", Some(running()), new));
        }
    }

    /// An old Pod the rules could not read still tells, by its spec's text, whether the spec
    /// changed; only its containers are not compared.
    #[rstest]
    #[case::spec_unchanged(running(), vec![])]
    #[case::container_changed(edit(|p| p["spec"]["containers"][0]["resources"] = json!({})), whole(&[]))]
    fn an_old_pod_unreadable_outside_its_spec(
        #[case] new: Value,
        #[case] want: Vec<(RuleName, String)>,
    ) {
        let old = edit(|p| p["metadata"]["labels"] = json!(5));
        assert_eq!(update(ADMIN, "", Some(old), new), want);
    }

    const VALID: RuleName = RuleName::ValidRequest;

    #[rstest]
    #[case::pod_spec_null("", "Pod", json!({"metadata": {"name": "p"}, "spec": null}))]
    #[case::pod_spec_missing("", "Pod", json!({"metadata": {"name": "p"}}))]
    #[case::deployment_spec_null("apps", "Deployment", json!({"spec": null}))]
    #[case::deployment_template_null("apps", "Deployment", json!({"spec": {"template": null}}))]
    #[case::job_template_spec_missing("batch", "Job", json!({"spec": {"template": {"metadata": {}}}}))]
    #[case::cron_job_template_missing("batch", "CronJob", json!({"spec": {"jobTemplate": {"spec": {}}}}))]
    #[case::pod_template_null("", "PodTemplate", json!({"template": null}))]
    fn a_pod_bearing_object_without_its_pod_spec_is_not_judged_as_empty(
        #[case] group: &str,
        #[case] kind: &str,
        #[case] object: Value,
    ) {
        for op in ["CREATE", "UPDATE"] {
            let input = Req::op(op, object.clone()).group(group).kind(kind);
            assert_eq!(
                paths(&input),
                vec![at(VALID, "request.object")],
                "{op} {kind}"
            );
        }
    }

    #[test]
    fn an_empty_pod_spec_is_a_pod_spec() {
        let input = Req::create(json!({"spec": {}}));
        assert_eq!(paths(&input), vec![]);
    }

    #[rstest]
    #[case::admission_review_without_uid(json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {}}), Some("input.request"))]
    #[case::admission_review_with_empty_uid(json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {"uid": ""}}), Some("input.request"))]
    #[case::admission_review_with_uid(json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {"uid": "1"}}), None)]
    // Gatekeeper's audit and gator send no uid; Kubewarden's opa mode carries the review's.
    #[case::gatekeeper_without_uid(json!({"review": {}}), None)]
    #[case::kubewarden_opa_without_uid(json!({"request": {}}), None)]
    fn only_an_admission_review_must_carry_a_uid(
        #[case] mut input: Value,
        #[case] want: Option<&str>,
    ) {
        let request =
            create_pod(ADMIN, pod(json!([container("build", json!({}))])))["review"].clone();
        let key = if input.get("review").is_some() {
            "review"
        } else {
            "request"
        };
        let mut request = request;
        if let Some(uid) = input[key].get("uid") {
            request["uid"] = uid.clone();
        } else {
            request.as_object_mut().unwrap().remove("uid");
        }
        input[key] = request;
        input["parameters"] = settings();
        let got = paths(&input);
        let want: Vec<_> = want.map(|p| at(VALID, p)).into_iter().collect();
        assert_eq!(got, want);
    }
}
