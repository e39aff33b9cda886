//! `runner-egress`: a NetworkPolicy of the runners namespace lets runners reach only the Attic
//! cache, cluster DNS, their own namespace and (through `ipBlock`) external registries.

use policy::rule_name::RuleName;
use policy::rules::runner_egress;

use crate::cel::{get, get_path, lit, present};

use super::Builder;
use super::items::{Items, SUBJECT, requested_by};
use super::object::written;

const RULE: RuleName = RuleName::RunnerEgress;

/// Whether selector `sel` pins label `key` to `value`, in `matchLabels` or an `In` expression
/// of that value alone.
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

pub fn build(b: &mut Builder<'_>) {
    let p = b.private;
    let attic = &b.settings.attic_namespace;
    let name = runner_egress::NAMESPACE_NAME_LABEL;
    let has_ns = present("p", "namespaceSelector");
    let has_pods = present("p", "podSelector");
    let peer_bad = format!(
        "(!{has_ns} && !{has_pods} ? !{} : !{has_ns} ? false : {} ? false : {} ? !({has_pods} && {}) : true)",
        present("p", "ipBlock"),
        pins("p.namespaceSelector", name, attic),
        pins("p.namespaceSelector", name, &p.dns_namespace),
        pins("p.podSelector", &p.dns_label.0, &p.dns_label.1),
    );
    let to = get("r", "to", "[]");
    let egress = get_path("object", &["spec", "egress"], "[]");
    let rules = Items::new(
        &egress,
        "r",
        format!(
            "(!{} || size({to}) == 0 || r.to.exists(p, {peer_bad}))",
            present("r", "to")
        ),
    );
    let fix = format!(
        "runners may reach only the Attic cache (namespaceSelector {{matchLabels: {{{name}: {attic}}}}}), cluster DNS (namespaceSelector {{matchLabels: {{{name}: {dns}}}}} with podSelector {{matchLabels: {{{k}: {v}}}}}), pods of {rns} (podSelector alone) and external registries (ipBlock)",
        dns = p.dns_namespace,
        k = p.dns_label.0,
        v = p.dns_label.1,
        rns = b.settings.runners_namespace,
    );
    b.validation(
        RULE,
        "egress",
        format!(
            "!({} && variables.inRunners && {})",
            written("networking.k8s.io", "NetworkPolicy"),
            rules.exist()
        ),
        rules.with_first(&format!(
            "{} + '): spec.egress[' + string({egress}.indexOf(r)) + ']' + (!{} ? ' has no `to`, so it allows every destination' : size({to}) == 0 ? ' has an empty `to`, so it allows every destination' : '.to[' + string(r.to.indexOf(r.to.filter(p, {peer_bad})[0])) + '] selects namespaces other than the Attic cache and cluster DNS') + {}",
            requested_by(SUBJECT),
            present("r", "to"),
            lit(&format!("; {fix}"))
        )),
    );
}
