//! `runner-namespace`: runner identities act only inside the runners namespace, runner job pods
//! live only there, a runner's job pods never borrow another runner's ServiceAccount, and a
//! runner never obtains the token of a ServiceAccount other than its own.

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::{Object, Operation};
use alloc::{borrow::ToOwned, format, vec::Vec};

const RULE: RuleName = RuleName::RunnerNamespace;

/// Label keys the GitLab Runner sets and jobs cannot override (`*.runner.gitlab.com/*`).
fn is_runner_label(key: &str) -> bool {
    key.split_once('/').is_some_and(|(prefix, _)| {
        prefix == "runner.gitlab.com" || prefix.ends_with(".runner.gitlab.com")
    })
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let runners_ns = ctx.settings.runners_namespace.as_str();
    if let Some(runner) = ctx.requester
        && !ctx.in_runners_namespace()
    {
        let op = ctx.operation.as_str();
        let (path, place) = if ctx.namespace.is_empty() {
            ("request.kind", "a cluster-scoped object".to_owned())
        } else {
            ("request.namespace", format!("namespace {}", ctx.namespace))
        };
        out.push(Violation::new(
                RULE,
                path,
                format!(
                    "{} may act only in namespace {runners_ns}, but this {op} of {} is in {place}; give the {} runner no permissions outside {runners_ns}",
                    ctx.who(),
                    ctx.object_ref(),
                    runner.runner_type.as_str()
                ),
            ));
    }
    borrowed_token(ctx, out);
    let Some(pod) = ctx.pod() else {
        return;
    };
    if !ctx.in_runners_namespace() {
        // The least key in byte order, not the first written: the path must not depend on how
        // a client ordered the labels.
        if let Some(key) = pod.meta.labels.keys().filter(|k| is_runner_label(k)).min() {
            out.push(Violation::new(
                RULE,
                format!("{}metadata.labels[\"{key}\"]", pod.prefix),
                format!(
                    "{} (requested by {}) carries GitLab Runner job labels outside {runners_ns}; runner job pods run only in {runners_ns}",
                    ctx.object_ref(),
                    ctx.who()
                ),
            ));
        }
        return;
    }
    let (Some(requester), Some((field, sa))) = (ctx.requester, pod.spec.service_account()) else {
        return;
    };
    if let Some(owner) = ctx.settings.runner_with_service_account(sa)
        && owner.runner_type != requester.runner_type
    {
        out.push(Violation::new(
                RULE,
                format!("{}spec.{field}", pod.prefix),
                format!(
                    "{} (requested by {}) runs as ServiceAccount {sa} of the {} runner; a runner's job pods must not borrow another runner's identity, use the job ServiceAccount of the {} runner",
                    ctx.object_ref(),
                    ctx.who(),
                    owner.runner_type.as_str(),
                    requester.runner_type.as_str()
                ),
            ));
    }
}

/// The annotation that binds a legacy token Secret to its ServiceAccount.
pub const TOKEN_SECRET_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// A runner asking for another ServiceAccount's token: a TokenRequest (`serviceaccounts/token`)
/// or a legacy token Secret, which the token controller fills for the ServiceAccount it names.
/// Privilege follows the requester's identity, so a token of the dind runner's ServiceAccount
/// is the dind runner's privilege. The runner never needs one: job pods get their own
/// ServiceAccount's token mounted.
fn borrowed_token(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    let Some(runner) = ctx.requester.filter(|_| ctx.in_runners_namespace()) else {
        return;
    };
    let kind = &ctx.request.kind;
    let (path, sa, how) = match ctx.object {
        _ if ctx.operation == Operation::Create
            && kind.group == "authentication.k8s.io"
            && kind.kind == "TokenRequest"
            && ctx.request.sub_resource() == "token" =>
        {
            let sa = ctx.request.name.as_deref().unwrap_or("");
            (
                "request.name".to_owned(),
                sa,
                "requests a token (serviceaccounts/token)",
            )
        }
        Object::Secret(secret)
            if ctx.operation.writes_object()
                && secret.secret_type.as_deref() == Some("kubernetes.io/service-account-token") =>
        {
            let sa = secret
                .metadata
                .annotations
                .get(TOKEN_SECRET_ANNOTATION)
                .unwrap_or("");
            (
                format!("metadata.annotations[\"{TOKEN_SECRET_ANNOTATION}\"]"),
                sa,
                "writes a ServiceAccount token Secret",
            )
        }
        _ => return,
    };
    if sa == runner.service_account {
        return;
    }
    out.push(Violation::new(
        RULE,
        path,
        format!(
            "{} {how} for ServiceAccount {sa}, and would act with its identity; a runner may hold only its own ServiceAccount's token ({}): job pods get theirs mounted, through automountServiceAccountToken or a projected serviceAccountToken volume",
            ctx.who(),
            runner.service_account
        ),
    ));
}

#[cfg(test)]
mod tests {
    use crate::decision::RuleName::RunnerNamespace as R;
    use crate::testing::{ADMIN, NS, Req, container, create_pod, paths, pod, rules, runner};
    use rstest::rstest;
    use serde_json::{Value, json};

    fn secret(ns: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ns}})
    }

    #[rstest]
    #[case::pod_elsewhere("CREATE", "default", "", "Pod", pod(json!([container("build", json!({}))])), "request.namespace")]
    #[case::cluster_role("CREATE", "", "rbac.authorization.k8s.io", "ClusterRole", json!({"metadata": {"name": "x"}}), "request.kind")]
    #[case::namespace_object("CREATE", "", "", "Namespace", json!({"metadata": {"name": "x"}}), "request.kind")]
    #[case::delete_elsewhere(
        "DELETE",
        "kube-system",
        "",
        "Secret",
        Value::Null,
        "request.namespace"
    )]
    #[case::exec_elsewhere("CONNECT", "default", "", "PodExecOptions", json!({"kind": "PodExecOptions", "command": ["sh"]}), "request.namespace")]
    #[case::update_elsewhere(
        "UPDATE",
        "attic-cache-dev",
        "",
        "Secret",
        secret("attic-cache-dev"),
        "request.namespace"
    )]
    fn runner_identities_stay_in_their_namespace(
        #[case] op: &str,
        #[case] ns: &str,
        #[case] group: &str,
        #[case] kind: &str,
        #[case] object: Value,
        #[case] path: &str,
    ) {
        let input = Req::op(op, object).ns(ns).group(group).kind(kind);
        for t in ["dind", "docker", "nix"] {
            let got = paths(&input.clone().by(&runner(t)));
            assert!(got.contains(&(R, path.to_owned())), "{t}: {got:?}");
        }
        // The same request from an admin is not this rule's business.
        let admin = input.by(ADMIN);
        assert!(!paths(&admin).contains(&(R, path.to_owned())));
    }

    #[rstest]
    #[case::create_pod("CREATE", "Pod", pod(json!([container("build", json!({}))])))]
    #[case::delete_pod("DELETE", "Pod", Value::Null)]
    #[case::exec("CONNECT", "PodExecOptions", json!({"kind": "PodExecOptions"}))]
    #[case::secret("CREATE", "Secret", secret(NS))]
    fn runner_identities_act_freely_at_home(
        #[case] op: &str,
        #[case] kind: &str,
        #[case] object: Value,
    ) {
        let input = Req::op(op, object).by(&runner("docker")).kind(kind);
        assert_eq!(rules(&input), vec![]);
    }

    #[test]
    fn runner_labelled_pods_live_only_in_the_runners_namespace() {
        let p = pod(json!([container("build", json!({}))]));
        let got = paths(&Req::create(p).by(ADMIN).ns("default"));
        assert_eq!(
            got,
            vec![(
                R,
                "metadata.labels[\"job.runner.gitlab.com/pod\"]".to_owned()
            )]
        );
        let mut plain = pod(json!([container("build", json!({}))]));
        plain["metadata"]["labels"] = json!({"app": "web", "gitlab.com/x": "y"});
        assert!(rules(&Req::create(plain).by(ADMIN).ns("default")).is_empty());
    }

    #[test]
    fn a_job_pod_cannot_borrow_another_runners_service_account() {
        let mut p = pod(json!([container("build", json!({}))]));
        p["spec"]["serviceAccountName"] = json!("gitlab-runner-dind");
        assert_eq!(
            paths(&create_pod(&runner("docker"), p.clone())),
            vec![(R, "spec.serviceAccountName".to_owned())]
        );
        assert!(rules(&create_pod(&runner("dind"), p.clone())).is_empty());
        // The deprecated field is honoured by the API server, so it is read too.
        let mut old = pod(json!([container("build", json!({}))]));
        old["spec"]["serviceAccount"] = json!("gitlab-runner-dind");
        assert_eq!(
            paths(&create_pod(&runner("nix"), old)),
            vec![(R, "spec.serviceAccount".to_owned())]
        );
        // A job ServiceAccount that belongs to no runner is fine.
        p["spec"]["serviceAccountName"] = json!("ci-jobs");
        assert!(rules(&create_pod(&runner("docker"), p)).is_empty());
    }

    /// The API server gives a Namespace's requests its own name as their namespace; the runners
    /// Namespace is still a cluster-scoped object, not something inside it.
    #[rstest]
    #[case::relabel("UPDATE", json!({"metadata": {"name": NS, "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}))]
    #[case::delete("DELETE", Value::Null)]
    #[case::finalize("UPDATE", json!({"metadata": {"name": NS}, "spec": {"finalizers": []}}))]
    fn the_runners_namespace_itself_is_out_of_reach(#[case] op: &str, #[case] object: Value) {
        let input = Req::op(op, object).kind("Namespace").name(NS);
        let by_runner = input.clone().by(&runner("docker"));
        assert_eq!(paths(&by_runner), vec![(R, "request.kind".to_owned())]);
        let admin = input.by(ADMIN);
        assert!(rules(&admin).is_empty());
    }

    fn token_request(user: &str, sa: &str) -> Req {
        // Clients send no name in the body: the ServiceAccount is the request's name.
        let body = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {"namespace": NS}, "spec": {"audiences": ["https://kubernetes.default.svc"]}});
        Req::create(body)
            .by(user)
            .group("authentication.k8s.io")
            .kind("TokenRequest")
            .subresource("token")
            .name(sa)
    }

    fn token_secret(user: &str, sa: Option<&str>, secret_type: &str) -> Req {
        let mut s = secret(NS);
        s["type"] = json!(secret_type);
        if let Some(sa) = sa {
            s["metadata"]["annotations"] = json!({ super::TOKEN_SECRET_ANNOTATION: sa });
        }
        Req::create(s).by(user).kind("Secret")
    }

    const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
    const ANNOTATION_PATH: &str = "metadata.annotations[\"kubernetes.io/service-account.name\"]";

    #[rstest]
    #[case::token_of_the_dind_runner(token_request(&runner("docker"), "gitlab-runner-dind"), Some("request.name"))]
    #[case::token_of_any_other_account(token_request(&runner("nix"), "default"), Some("request.name"))]
    #[case::own_token(token_request(&runner("docker"), "gitlab-runner-docker"), None)]
    #[case::admin_asks(token_request(ADMIN, "gitlab-runner-dind"), None)]
    #[case::token_secret_of_the_dind_runner(token_secret(&runner("docker"), Some("gitlab-runner-dind"), TOKEN_TYPE), Some(ANNOTATION_PATH))]
    #[case::token_secret_without_account(token_secret(&runner("docker"), None, TOKEN_TYPE), Some(ANNOTATION_PATH))]
    #[case::own_token_secret(token_secret(&runner("dind"), Some("gitlab-runner-dind"), TOKEN_TYPE), None)]
    // The per-job pull secret the runner writes is no token.
    #[case::dockercfg_secret(token_secret(&runner("docker"), Some("gitlab-runner-dind"), "kubernetes.io/dockercfg"), None)]
    fn a_runner_holds_only_its_own_token(#[case] input: Req, #[case] path: Option<&str>) {
        let want: Vec<_> = path.map(|p| (R, p.to_owned())).into_iter().collect();
        assert_eq!(paths(&input), want);
    }
}
