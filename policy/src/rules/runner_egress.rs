//! `runner-egress`: a NetworkPolicy in the runners namespace lets runners reach only the Attic
//! cache, cluster DNS and (through `ipBlock`) external registries. Every egress peer that could
//! select pods of another namespace is denied unless it provably names one of those two.
//!
//! A peer passes when it is:
//! - an `ipBlock` (addresses outside the cluster: registries);
//! - a `podSelector` alone (pods of the runners namespace itself);
//! - a `namespaceSelector` pinning `kubernetes.io/metadata.name` (a label the API server sets
//!   to the namespace's name and nobody can change) to the Attic namespace, with any podSelector;
//! - a `namespaceSelector` pinning it to `kube-system` together with a `podSelector` pinning
//!   `k8s-app: kube-dns` (the label of kube-dns and of CoreDNS in kubeadm, k3s, EKS, GKE, AKS).
//!
//! Everything else fails closed: `namespaceSelector: {}` (every namespace), selectors on other
//! namespace labels (anyone who may label a namespace could join), an egress rule without `to`
//! or with an empty `to` (every destination), an empty peer.

use super::Context;
use crate::decision::{RuleName, Violation};
use crate::request::Object;
use crate::request::object::{LabelSelector, Peer};
use alloc::{borrow::ToOwned, format, string::String, vec::Vec};

const RULE: RuleName = RuleName::RunnerEgress;

/// The label the API server puts on every namespace, holding its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

const DNS_NAMESPACE: &str = "kube-system";
const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

/// Whether the selector matches only objects whose `key` label is `value`: some term requires
/// it (`matchLabels`, or `matchExpressions` `In` with only that value). Other terms are ANDed,
/// so they can only narrow the selection. A key repeated in `matchLabels` must agree.
pub fn pins(selector: &LabelSelector<'_>, key: &str, value: &str) -> bool {
    let mut labels = selector
        .match_labels
        .iter()
        .filter(|(k, _)| *k == key)
        .peekable();
    let by_labels = labels.peek().is_some() && labels.all(|(_, v)| v == value);
    let by_expression = selector.match_expressions.iter().any(|e| {
        e.key == key
            && e.operator == "In"
            && !e.values.is_empty()
            && e.values.iter().all(|v| v == value)
    });
    by_labels || by_expression
}

fn is_empty(selector: &LabelSelector<'_>) -> bool {
    selector.match_labels.0.is_empty() && selector.match_expressions.is_empty()
}

/// Why a peer is denied, with the field to point at; `None` when it passes.
fn judge(peer: &Peer<'_>, attic: &str) -> Option<(&'static str, String)> {
    match (&peer.namespace_selector, &peer.pod_selector) {
        (None, None) if peer.ip_block.is_some() => None,
        (None, None) => Some(("", "is an empty peer".to_owned())),
        (None, Some(_)) => None,
        (Some(ns), _) if pins(ns, NAMESPACE_NAME_LABEL, attic) => None,
        (Some(ns), pods) if pins(ns, NAMESPACE_NAME_LABEL, DNS_NAMESPACE) => match pods {
            Some(pods) if pins(pods, DNS_LABEL.0, DNS_LABEL.1) => None,
            Some(_) => Some((
                ".podSelector",
                format!("selects pods of {DNS_NAMESPACE} other than cluster DNS"),
            )),
            None => Some((
                ".namespaceSelector",
                format!("selects every pod of {DNS_NAMESPACE}, not only cluster DNS"),
            )),
        },
        (Some(ns), _) if is_empty(ns) => Some((
            ".namespaceSelector",
            "is empty, so it selects every namespace".to_owned(),
        )),
        (Some(_), _) => Some((
            ".namespaceSelector",
            format!(
                "does not pin {NAMESPACE_NAME_LABEL} to {attic} or {DNS_NAMESPACE}, so it selects namespaces other than the Attic cache and cluster DNS"
            ),
        )),
    }
}

pub fn check(ctx: &Context<'_, '_>, out: &mut Vec<Violation>) {
    if !ctx.in_runners_namespace() {
        return;
    }
    let Some(Object::NetworkPolicy(policy)) = ctx.written() else {
        return;
    };
    let attic = ctx.settings.attic_namespace.as_str();
    let subject = ctx.subject();
    let fix = format!(
        "runners may reach only the Attic cache (namespaceSelector {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {attic}}}}}), cluster DNS (namespaceSelector {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {DNS_NAMESPACE}}}}} with podSelector {{matchLabels: {{{}: {}}}}}), pods of {} (podSelector alone) and external registries (ipBlock)",
        DNS_LABEL.0, DNS_LABEL.1, ctx.namespace
    );
    let mut deny = |path: String, what: String| {
        out.push(Violation::new(
            RULE,
            path,
            format!("{subject} (requested by {}): {what}; {fix}", ctx.who()),
        ));
    };
    for (i, rule) in policy.spec.egress.iter().enumerate() {
        let at = format!("spec.egress[{i}]");
        match rule.to.as_deref() {
            None => deny(
                at.clone(),
                format!("{at} has no `to`, so it allows every destination"),
            ),
            Some([]) => deny(
                at.clone(),
                format!("{at} has an empty `to`, so it allows every destination"),
            ),
            Some(peers) => {
                for (j, peer) in peers.iter().enumerate() {
                    if let Some((field, why)) = judge(peer, attic) {
                        let path = format!("{at}.to[{j}]{field}");
                        deny(path.clone(), format!("{path} {why}"));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::decision::RuleName::RunnerEgress as E;
    use crate::testing::{NS, Req, decide, decide_text, paths, rules};
    use rstest::rstest;
    use serde_json::{Value, json};

    fn netpol(egress: Value) -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "runner-egress", "namespace": NS},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress}
        })
    }

    fn np(op: &str, egress: Value) -> Value {
        Req::op(op, netpol(egress))
            .group("networking.k8s.io")
            .kind("NetworkPolicy")
            .input()
    }

    fn ns_is(name: &str) -> Value {
        json!({"matchLabels": {"kubernetes.io/metadata.name": name}})
    }

    fn dns() -> Value {
        json!({"namespaceSelector": ns_is("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}})
    }

    #[rstest]
    #[case::attic(json!([{"to": [{"namespaceSelector": ns_is("attic-cache-dev")}], "ports": [{"port": 8080}]}]))]
    #[case::attic_with_pods(json!([{"to": [{"namespaceSelector": ns_is("attic-cache-dev"), "podSelector": {"matchLabels": {"app": "attic"}}}]}]))]
    #[case::attic_expression(json!([{"to": [{"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["attic-cache-dev"]}]}}]}]))]
    #[case::attic_narrowed(json!([{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "attic-cache-dev", "team": "nix"}}}]}]))]
    #[case::dns(json!([{"to": [dns()], "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]))]
    #[case::dns_expression(json!([{"to": [{"namespaceSelector": ns_is("kube-system"), "podSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]}}]}]))]
    #[case::ip_block(json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]}]))]
    #[case::same_namespace(json!([{"to": [{"podSelector": {}}]}]))]
    #[case::no_egress_rules(json!([]))]
    #[case::all_together(json!([{"to": [dns()]}, {"to": [{"namespaceSelector": ns_is("attic-cache-dev")}, {"ipBlock": {"cidr": "0.0.0.0/0"}}]}]))]
    fn attic_dns_registries_and_own_namespace_pass(#[case] egress: Value) {
        assert_eq!(rules(&np("CREATE", egress)), vec![]);
    }

    #[rstest]
    #[case::no_to(json!([{"ports": [{"port": 443}]}]), "spec.egress[0]")]
    #[case::empty_to(json!([{"to": []}]), "spec.egress[0]")]
    #[case::every_namespace(json!([{"to": [{"namespaceSelector": {}}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::every_namespace_some_pods(json!([{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::other_namespace(json!([{"to": [{"namespaceSelector": ns_is("default")}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::other_label(json!([{"to": [{"namespaceSelector": {"matchLabels": {"name": "attic-cache-dev"}}}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::hidden_among_values(json!([{"to": [{"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["attic-cache-dev", "kube-system"]}]}}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::not_in(json!([{"to": [{"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["default"]}]}}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::exists(json!([{"to": [{"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "Exists"}]}}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::lookalike_namespace(json!([{"to": [{"namespaceSelector": ns_is("attic-cache-dev-evil")}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::kube_system_all_pods(json!([{"to": [{"namespaceSelector": ns_is("kube-system")}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::kube_system_other_pods(json!([{"to": [{"namespaceSelector": ns_is("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "metrics-server"}}}]}]), "spec.egress[0].to[0].podSelector")]
    #[case::kube_system_empty_pods(json!([{"to": [{"namespaceSelector": ns_is("kube-system"), "podSelector": {}}]}]), "spec.egress[0].to[0].podSelector")]
    #[case::dns_label_without_namespace(json!([{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]}]), "spec.egress[0].to[0].namespaceSelector")]
    #[case::empty_peer(json!([{"to": [{}]}]), "spec.egress[0].to[0]")]
    #[case::second_rule_second_peer(json!([{"to": [dns()]}, {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"namespaceSelector": ns_is("gitlab")}]}]), "spec.egress[1].to[1].namespaceSelector")]
    fn other_destinations_are_denied(#[case] egress: Value, #[case] path: &str) {
        for op in ["CREATE", "UPDATE"] {
            assert_eq!(
                paths(&np(op, egress.clone())),
                vec![(E, path.to_owned())],
                "{op}"
            );
        }
    }

    #[test]
    fn a_repeated_match_label_is_refused() {
        // serde_json's Value keeps one of two equal keys, so the duplicate is written into the text.
        // The request model refuses duplicate map keys outright (valid-request): no reader may
        // see `attic-cache-dev` where the API server sees `default`.
        let input = np(
            "CREATE",
            json!([{"to": [{"namespaceSelector": ns_is("default")}]}]),
        );
        let text = serde_json::to_string(&input).unwrap().replace(
            r#""kubernetes.io/metadata.name":"default""#,
            r#""kubernetes.io/metadata.name":"attic-cache-dev","kubernetes.io/metadata.name":"default""#,
        );
        assert!(text.contains("attic-cache-dev"));
        assert_eq!(
            decide_text(text.as_bytes()).rules(),
            vec![crate::decision::RuleName::ValidRequest]
        );
    }

    #[test]
    fn the_attic_namespace_comes_from_settings() {
        let mut input = np(
            "CREATE",
            json!([{"to": [{"namespaceSelector": ns_is("attic")}]}]),
        );
        assert_eq!(rules(&input), vec![E]);
        input["parameters"]["atticNamespace"] = json!("attic");
        assert_eq!(rules(&input), vec![]);
    }

    #[test]
    fn other_namespaces_and_deletes_are_not_judged() {
        let egress = json!([{"to": [{"namespaceSelector": {}}]}]);
        let mut obj = netpol(egress);
        obj["metadata"]["namespace"] = json!("default");
        let elsewhere = Req::create(obj)
            .ns("default")
            .group("networking.k8s.io")
            .kind("NetworkPolicy");
        assert_eq!(rules(&elsewhere), vec![]);
        let delete = Req::delete()
            .group("networking.k8s.io")
            .kind("NetworkPolicy");
        assert_eq!(rules(&delete), vec![]);
    }

    #[test]
    fn message_names_the_peer_and_what_is_allowed() {
        let d = decide(&np("CREATE", json!([{"to": [{"namespaceSelector": {}}]}])));
        assert_eq!(
            d.violations[0].msg,
            "runner-egress: NetworkPolicy acme-runners/runner-egress (requested by kubernetes-admin): spec.egress[0].to[0].namespaceSelector is empty, so it selects every namespace; runners may reach only the Attic cache (namespaceSelector {matchLabels: {kubernetes.io/metadata.name: attic-cache-dev}}), cluster DNS (namespaceSelector {matchLabels: {kubernetes.io/metadata.name: kube-system}} with podSelector {matchLabels: {k8s-app: kube-dns}}), pods of acme-runners (podSelector alone) and external registries (ipBlock)"
        );
    }
}
