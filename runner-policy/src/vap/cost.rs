//! A static estimate of what the generated CEL costs, in the units of Kubernetes' budgets
//! (1,000,000 per expression, 10,000,000 per policy evaluation, both checked at run time).
//!
//! kube-rs's evaluator tracks no cost, so the estimate walks each expression as cel-go's
//! runtime cost model does: one unit per call, select and comprehension step; string
//! operations one unit per 10 characters of the longest string they may read; `matches` that
//! times a quarter of the pattern's length; equality of whole objects one unit per value in
//! them; `in` over a literal list one unit per element. Every comprehension runs over its
//! range's largest size ([`Sizes`]), and a conditional costs its costlier branch, so the
//! figures bound what an evaluation of a pod of that size can cost.

use kube_cel::cel::Program;
use kube_cel::cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue};
use policy_vap::Vap;

/// The size of the largest pod (and other objects) an estimate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Containers of all three lists together.
    pub containers: u64,
    /// Env vars per container.
    pub env: u64,
    /// Volume mounts per container.
    pub mounts: u64,
    pub volumes: u64,
    /// Entries of any other list or map (ports, envFrom, labels, annotations, capabilities,
    /// Secret items, Role rules, subjects, egress rules and peers, Secret keys).
    pub other: u64,
    /// Parts of a path (`/run/user/1000/containers`: 4).
    pub path_parts: u64,
    /// Items of a Secret volume, and Secret sources of a projected volume.
    pub secret_items: u64,
    /// Env vars of a container that name where credentials are read (`DOCKER_CONFIG`, ...).
    pub auth_env: u64,
    /// Mounts of a container whose volume is a Secret, a projected Secret or a CSI volume.
    pub credential_mounts: u64,
    /// The longest string read (names, images, paths, label values).
    pub string: u64,
}

impl Sizes {
    /// The largest pod the README promises the policy stays within budget for: 10 containers
    /// with 50 env vars and 20 mounts each (2 of them of Secret or CSI volumes, with one Secret
    /// item or projected source each; 2 env vars naming credential locations), 50 volumes,
    /// 8 of anything else (ports, labels, annotations... per container or pod; a Role of 8
    /// rules, a NetworkPolicy of 8 egress rules of 8 peers), paths of 8 parts, strings up to
    /// 256 characters.
    pub const PROMISED: Sizes = Sizes {
        containers: 10,
        env: 50,
        mounts: 20,
        volumes: 50,
        other: 8,
        path_parts: 8,
        secret_items: 1,
        auth_env: 2,
        credential_mounts: 2,
        string: 256,
    };

    /// Values (JSON nodes) in a pod of this size, for whole-object equality.
    fn object_values(&self) -> u64 {
        let per_container = 20 + 3 * self.env + 4 * self.mounts + 4 * self.other;
        100 + self.containers * per_container + 6 * self.volumes
    }
}

/// The estimated cost of each part of a policy.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// `(name, cost)` of each variable.
    pub variables: Vec<(String, u64)>,
    /// `(rule part, expression cost, messageExpression cost)` of each validation.
    pub validations: Vec<(String, u64, u64)>,
}

impl Estimate {
    /// The most one expression costs.
    pub fn max_expression(&self) -> u64 {
        let v = self.variables.iter().map(|(_, c)| *c);
        let checks = self.validations.iter().flat_map(|(_, e, m)| [*e, *m]);
        v.chain(checks).max().unwrap_or(0)
    }

    /// One evaluation: every variable, every validation, and the one message Kubernetes
    /// evaluates (the costliest, to bound it).
    pub fn per_evaluation(&self) -> u64 {
        let variables: u64 = self.variables.iter().map(|(_, c)| c).sum();
        let checks: u64 = self.validations.iter().map(|(_, e, _)| e).sum();
        let message = self
            .validations
            .iter()
            .map(|(_, _, m)| *m)
            .max()
            .unwrap_or(0);
        variables + checks + message
    }
}

/// Estimates every expression of a policy.
pub fn estimate(vap: &Vap, sizes: &Sizes) -> Estimate {
    Estimate {
        variables: vap
            .variables
            .iter()
            .map(|v| (v.name.clone(), expression_cost(&v.expression, sizes)))
            .collect(),
        validations: vap
            .validations
            .iter()
            .map(|v| {
                (
                    format!("{} {}", v.rule, v.part),
                    expression_cost(&v.expression, sizes),
                    expression_cost(&v.message_expression, sizes),
                )
            })
            .collect(),
    }
}

/// The estimated cost of one expression (`u64::MAX` when it does not parse).
pub fn expression_cost(source: &str, sizes: &Sizes) -> u64 {
    match Program::compile(source) {
        Ok(p) => Walk { sizes }.cost(p.expression()),
        Err(_) => u64::MAX,
    }
}

struct Walk<'s> {
    sizes: &'s Sizes,
}

impl Walk<'_> {
    fn string_cost(&self) -> u64 {
        self.sizes.string.div_ceil(10).max(1)
    }

    fn cost(&self, e: &IdedExpr) -> u64 {
        match &e.expr {
            Expr::Literal(_) | Expr::Unspecified => 0,
            Expr::Ident(_) => 1,
            Expr::Select(s) => 1 + self.cost(&s.operand),
            Expr::List(l) => 1 + l.elements.iter().map(|x| self.cost(x)).sum::<u64>(),
            Expr::Map(m) => {
                1 + m
                    .entries
                    .iter()
                    .map(|entry| match &entry.expr {
                        kube_cel::cel::common::ast::EntryExpr::MapEntry(me) => {
                            self.cost(&me.key) + self.cost(&me.value)
                        }
                        kube_cel::cel::common::ast::EntryExpr::StructField(_) => 1,
                    })
                    .sum::<u64>()
            }
            Expr::Struct(_) => 1,
            Expr::Call(call) => self.call_cost(call),
            Expr::Comprehension(c) => {
                let n = self.range_size(&c.iter_range);
                let step = self.cost(&c.loop_cond) + self.cost(&c.loop_step) + 1;
                self.cost(&c.iter_range)
                    + self.cost(&c.accu_init)
                    + n.saturating_mul(step)
                    + self.cost(&c.result)
            }
        }
    }

    fn call_cost(&self, call: &CallExpr) -> u64 {
        // A conditional evaluates one branch: the costlier bounds it.
        if call.func_name == "_?_:_"
            && let [cond, then, otherwise] = call.args.as_slice()
        {
            return 1 + self.cost(cond) + self.cost(then).max(self.cost(otherwise));
        }
        let args: u64 = call.target.iter().map(|t| self.cost(t)).sum::<u64>()
            + call.args.iter().map(|a| self.cost(a)).sum::<u64>();
        let own = match call.func_name.as_str() {
            "matches" => {
                let pattern = call.args.last().map_or(0, |p| match &p.expr {
                    Expr::Literal(LiteralValue::String(s)) => s.inner().len() as u64,
                    _ => self.sizes.string,
                });
                self.string_cost() * pattern.div_ceil(4).max(1)
            }
            "startsWith" | "endsWith" | "contains" | "lowerAscii" | "upperAscii" | "split"
            | "string" | "_+_" => self.string_cost(),
            "_==_" | "_!=_" => {
                // Comparing whole objects (an UPDATE's pod spec with the old one).
                let whole = call.args.iter().any(|a| match &a.expr {
                    Expr::Call(c) if c.func_name == "_[_]" => matches!(
                        c.args.first().map(|x| &x.expr),
                        Some(Expr::Ident(n)) if n == "object" || n == "oldObject"
                    ),
                    _ => false,
                });
                if whole {
                    self.sizes.object_values()
                } else {
                    self.string_cost()
                }
            }
            "@in" => match call.args.get(1).map(|a| &a.expr) {
                Some(Expr::List(l)) => l.elements.len() as u64 * self.string_cost(),
                Some(_) => call.args.get(1).map_or(0, |a| self.range_size(a)) * self.string_cost(),
                None => 1,
            },
            _ => 1,
        };
        own + args
    }

    /// The most elements a comprehension's range can hold, read from what it ranges over.
    fn range_size(&self, range: &IdedExpr) -> u64 {
        let s = self.sizes;
        match &range.expr {
            // `[x].all(v, ...)`: a binding, one step.
            Expr::List(l) => l.elements.len() as u64,
            Expr::Select(sel) => match sel.field.as_str() {
                "containers" | "regular" | "dindContainers" => s.containers,
                "ephemeral" => s.containers,
                "env" => s.env,
                "volumeMounts" => s.mounts,
                "volumes" => s.volumes,
                "images" => s.containers + s.volumes,
                "credentialVolumes" | "credentialVolumeNames" => s.volumes,
                "items" | "sources" => s.secret_items,
                _ => s.other,
            },
            Expr::Call(c) => match c.func_name.as_str() {
                // `present ? field : default`: the field's size.
                "_?_:_" => c.args.get(1).map_or(s.other, |a| self.range_size(a)),
                "_+_" => c.args.iter().map(|a| self.range_size(a)).sum(),
                "split" => s.path_parts,
                _ => s.other,
            },
            // The env vars, and their pairs, that name credential locations (`ae`, `w`).
            Expr::Comprehension(c) if c.iter_var == "ae" || c.iter_var == "w" => s.auth_env,
            Expr::Comprehension(c) if c.iter_var == "cm" => s.credential_mounts,
            // A list built by map() or filter() of another range.
            Expr::Comprehension(c) => self.range_size(&c.iter_range),
            // A bound list: auth locations from env vars, or path parts.
            Expr::Ident(name) if name == "dl" || name == "ks" => s.auth_env,
            Expr::Ident(_) => s.path_parts,
            _ => s.other,
        }
    }
}
