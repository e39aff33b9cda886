//! A lint of the generated CEL: constructs on which evaluators disagree, or that need a newer
//! Kubernetes than [`super::KUBERNETES_MIN_VERSION`], are refused.
//!
//! - `size()` of a string: Kubernetes (cel-go) and cel-cpp count code points, cel-rust bytes.
//!   `size()` is allowed only where the argument is provably a list or map.
//! - Perl classes and lookaround in regexes (`\d`, `\w`, `\s`, `\b`, `\p`, `(?=`): RE2's `\d` is
//!   ASCII, Rust's `regex` Unicode; RE2 has no lookaround. Patterns must be literals.
//! - Double literals: `1 == 1.0` is true in cel-go and cel-cpp, false in cel-rust; the policy
//!   compares integers and strings only.
//! - Two-variable comprehensions (`all(k, v, ...)`, `transformMap`): Kubernetes 1.32+.
//! - Any function outside the set every evaluator has at 1.30: the base environment, the
//!   strings extension's `lowerAscii`, `upperAscii`, `split`, `join`, `replace`, and (in
//!   messages only, which fall
//!   back to the static message when they fail) the lists library's `indexOf`.
//! - Selecting a field named by a CEL reserved word (`x.namespace`) except on `request`: read
//!   such fields by index (`x['namespace']`).

use std::collections::HashSet;

use kube_cel::cel::Program;
use kube_cel::cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue};
use policy_vap::Vap;

/// Functions (and operators) every evaluator has at Kubernetes 1.30.
const ALLOWED: [&str; 29] = [
    "_&&_",
    "_||_",
    "!_",
    "-_",
    "_==_",
    "_!=_",
    "_<_",
    "_<=_",
    "_>_",
    "_>=_",
    "_+_",
    "_-_",
    "_*_",
    "@in",
    "_[_]",
    "_?_:_",
    "@not_strictly_false",
    "size",
    "matches",
    "startsWith",
    "endsWith",
    "contains",
    "lowerAscii",
    "upperAscii",
    "split",
    "string",
    "int",
    "join",
    "replace",
];

/// Functions allowed in message expressions only.
const MESSAGE_ONLY: [&str; 1] = ["indexOf"];

/// Regex syntax that RE2 and Rust's `regex` read differently, or one of them not at all.
const REGEX_REFUSED: [&str; 16] = [
    r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", r"\b", r"\B", r"\p", r"\P", "(?=", "(?!", "(?<=",
    "(?<!", "[[", r"\1",
];

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which expression (`validation 3 (no-host-access host ports)`, `variable ns`).
    pub place: String,
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.problem)
    }
}

/// Every finding in a generated policy.
pub fn lint_policy(vap: &Vap) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut one = |place: String, source: &str, message: bool| {
        for problem in lint_expression(source, message) {
            out.push(Finding {
                place: place.clone(),
                problem,
            });
        }
    };
    for c in &vap.match_conditions {
        one(format!("matchCondition {}", c.name), &c.expression, false);
    }
    for v in &vap.variables {
        one(format!("variable {}", v.name), &v.expression, false);
    }
    for (i, v) in vap.validations.iter().enumerate() {
        let place = format!("validation {i} ({} {})", v.rule, v.part);
        one(place.clone(), &v.expression, false);
        one(
            format!("{place} messageExpression"),
            &v.message_expression,
            true,
        );
    }
    out
}

/// The problems of one expression (`message`: a messageExpression).
pub fn lint_expression(source: &str, message: bool) -> Vec<String> {
    let program = match Program::compile(source) {
        Ok(p) => p,
        Err(e) => return vec![format!("does not parse: {e}")],
    };
    let mut lint = Lint {
        message,
        lists: HashSet::new(),
        out: Vec::new(),
    };
    lint.walk(program.expression());
    lint.out
}

struct Lint {
    message: bool,
    /// Comprehension variables bound to a list (the one-element-list binding idiom).
    lists: HashSet<String>,
    out: Vec<String>,
}

impl Lint {
    fn walk(&mut self, e: &IdedExpr) {
        match &e.expr {
            Expr::Literal(LiteralValue::Double(d)) => self.out.push(format!(
                "double literal {d:?}: evaluators disagree on int/double equality (`1 == 1.0`)"
            )),
            Expr::Call(call) => self.call(call),
            Expr::Select(s) => {
                let on_request = matches!(&s.operand.expr, Expr::Ident(n) if n == "request");
                if policy_vap::cel::RESERVED.contains(&s.field.as_str()) && !on_request {
                    self.out.push(format!(
                        "`.{}` selects a reserved word: read it by index (['{}'])",
                        s.field, s.field
                    ));
                }
                self.walk(&s.operand);
            }
            Expr::Comprehension(c) => {
                if let Some(v2) = &c.iter_var2 {
                    self.out.push(format!(
                        "two-variable comprehension ({}, {v2}) needs Kubernetes 1.32",
                        c.iter_var
                    ));
                }
                self.walk(&c.iter_range);
                // `[x].all(v, ...)` binds v to x: a list when x is one.
                let binds_list = match &c.iter_range.expr {
                    Expr::List(l) => l.elements.len() == 1 && self.is_list(&l.elements[0]),
                    _ => false,
                };
                let added = binds_list && self.lists.insert(c.iter_var.clone());
                self.walk(&c.accu_init);
                self.walk(&c.loop_cond);
                self.walk(&c.loop_step);
                self.walk(&c.result);
                if added {
                    self.lists.remove(&c.iter_var);
                }
            }
            Expr::List(l) => l.elements.iter().for_each(|x| self.walk(x)),
            Expr::Map(m) => {
                for entry in &m.entries {
                    if let kube_cel::cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                        self.walk(&me.key);
                        self.walk(&me.value);
                    }
                }
            }
            Expr::Struct(_) => self.out.push("struct literals are not used".to_owned()),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn call(&mut self, call: &CallExpr) {
        let f = call.func_name.as_str();
        let allowed = ALLOWED.contains(&f) || (self.message && MESSAGE_ONLY.contains(&f));
        if !allowed {
            self.out.push(format!(
                "function `{f}` is not in every evaluator's environment at Kubernetes {}{}",
                super::KUBERNETES_MIN_VERSION,
                if MESSAGE_ONLY.contains(&f) {
                    " (allowed in messages only)"
                } else {
                    ""
                }
            ));
        }
        let subject = call.target.as_deref().or(call.args.first());
        if f == "size"
            && let Some(arg) = subject
            && !self.is_list(arg)
        {
            self.out.push(
                "size() of something not provably a list or map: a string's size differs between evaluators (code points or bytes)"
                    .to_owned(),
            );
        }
        if f == "matches" {
            let pattern = if call.target.is_some() {
                call.args.first()
            } else {
                call.args.get(1)
            };
            match pattern.map(|p| &p.expr) {
                Some(Expr::Literal(LiteralValue::String(s))) => {
                    let s: &str = s.inner();
                    for bad in REGEX_REFUSED {
                        // `\[[` is an escaped bracket before a class, not a nested class.
                        let found = s.match_indices(bad).any(|(i, _)| {
                            !(bad == "[[" && i > 0 && s.as_bytes().get(i - 1) == Some(&b'\\'))
                        });
                        if found {
                            self.out.push(format!(
                                "regex `{s}` uses `{bad}`, which RE2 and Rust's regex read differently (or not at all)"
                            ));
                        }
                    }
                }
                _ => self
                    .out
                    .push("matches() with a pattern that is not a string literal".to_owned()),
            }
        }
        if let Some(t) = &call.target {
            self.walk(t);
        }
        call.args.iter().for_each(|a| self.walk(a));
    }

    /// Whether an expression is provably a list or a map.
    fn is_list(&self, e: &IdedExpr) -> bool {
        match &e.expr {
            Expr::List(_) | Expr::Map(_) => true,
            Expr::Ident(name) => self.lists.contains(name),
            // map() and filter() build a list; exists() and all() a bool.
            Expr::Comprehension(c) => matches!(c.accu_init.expr, Expr::List(_)),
            Expr::Call(call) => match call.func_name.as_str() {
                "split" => true,
                // `present ? field : []`: a list whichever branch is taken, if the field is.
                "_?_:_" => call.args.iter().skip(1).any(|a| self.is_list(a)),
                "_+_" => call.args.iter().any(|a| self.is_list(a)),
                _ => false,
            },
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lint_expression;

    #[test]
    fn refuses_what_evaluators_disagree_on() {
        assert!(!lint_expression("'é'.size() == 1", false).is_empty());
        assert!(!lint_expression("size(object.metadata.name) < 10", false).is_empty());
        assert!(!lint_expression(r"object.x.matches('\\d+')", false).is_empty());
        assert!(!lint_expression("object.x == 1.0", false).is_empty());
        assert!(!lint_expression("object.m.all(k, v, v != '')", false).is_empty());
        assert!(!lint_expression("object.metadata.namespace == ''", false).is_empty());
        assert!(!lint_expression("[1].indexOf(1) == 0", false).is_empty());
        assert!(!lint_expression("object.x.matches(object.y)", false).is_empty());
    }

    #[test]
    fn accepts_the_idioms_of_the_generated_policy() {
        for ok in [
            "size([1, 2]) == 2",
            "size(has(o.to) ? o.to : []) == 0",
            "['a/b'.split('/')].all(ps, size(ps) > 1)",
            "object.x.matches(r'^[0-9]+$')",
            "request.namespace == '' && object.metadata['namespace'] == ''",
        ] {
            assert_eq!(lint_expression(ok, false), Vec::<String>::new(), "{ok}");
        }
        assert!(lint_expression("[1].indexOf(1) == 0", true).is_empty());
    }
}
