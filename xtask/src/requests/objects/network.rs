//! NetworkPolicies: the runners' egress.

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{labels, meta};
use crate::requests::fleet::NAMESPACE;

fn peer_namespace(name: &str, pods: Option<(&str, &str)>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(labels(&[("kubernetes.io/metadata.name", name)])),
            ..LabelSelector::default()
        }),
        pod_selector: pods.map(|pair| LabelSelector {
            match_labels: Some(labels(&[pair])),
            ..LabelSelector::default()
        }),
        ip_block: None,
    }
}

fn ports(pairs: &[(&str, i32)]) -> Option<Vec<NetworkPolicyPort>> {
    Some(
        pairs
            .iter()
            .map(|(protocol, port)| NetworkPolicyPort {
                protocol: Some((*protocol).into()),
                port: Some(IntOrString::Int(*port)),
                end_port: None,
            })
            .collect(),
    )
}

/// One egress rule: `to` the peers (absent when `None`) on `ports`.
pub fn egress(to: Option<Vec<NetworkPolicyPeer>>, on: &[(&str, i32)]) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to,
        ports: ports(on),
    }
}

/// The runners' egress: the Attic cache, cluster DNS and registries outside the cluster.
pub fn runner_egress_rules(attic: &str) -> Vec<NetworkPolicyEgressRule> {
    vec![
        egress(Some(vec![peer_namespace(attic, None)]), &[("TCP", 8080)]),
        egress(
            Some(vec![peer_namespace(
                "kube-system",
                Some(("k8s-app", "kube-dns")),
            )]),
            &[("UDP", 53), ("TCP", 53)],
        ),
        egress(
            Some(vec![NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: "0.0.0.0/0".into(),
                    except: Some(vec!["10.0.0.0/8".into()]),
                }),
                ..NetworkPolicyPeer::default()
            }]),
            &[("TCP", 443)],
        ),
    ]
}

/// A NetworkPolicy named `name` over every pod of the runners namespace, egress only.
pub fn egress_policy(name: &str, egress: Vec<NetworkPolicyEgressRule>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta(NAMESPACE, name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(egress),
            ingress: None,
        }),
    }
}
