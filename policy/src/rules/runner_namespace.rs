//! `runner-namespace`: runner identities act only inside the runners namespace, runner job pods
//! live only there, and a runner's job pods never borrow another runner's ServiceAccount.

use super::Context;
use crate::decision::{RuleName, Violation};

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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::decision::RuleName::RunnerNamespace as R;
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
        for t in ["dind", "docker", "nix"] {
            let got = paths(&request(op, &runner(t), ns, group, kind, object.clone()));
            assert!(got.contains(&(R, path.to_owned())), "{t}: {got:?}");
        }
        // The same request from an admin is not this rule's business.
        let admin = request(op, ADMIN, ns, group, kind, object.clone());
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
        assert_eq!(
            rules(&request(op, &runner("docker"), NS, "", kind, object)),
            vec![]
        );
    }

    #[test]
    fn runner_labelled_pods_live_only_in_the_runners_namespace() {
        let p = pod(json!([container("build", json!({}))]));
        let got = paths(&request("CREATE", ADMIN, "default", "", "Pod", p));
        assert_eq!(
            got,
            vec![(
                R,
                "metadata.labels[\"job.runner.gitlab.com/pod\"]".to_owned()
            )]
        );
        let mut plain = pod(json!([container("build", json!({}))]));
        plain["metadata"]["labels"] = json!({"app": "web", "gitlab.com/x": "y"});
        assert!(rules(&request("CREATE", ADMIN, "default", "", "Pod", plain)).is_empty());
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
}
