//! Small builders of CEL text, so that every expression reads absent and null fields the same
//! way the policy's request model does (an absent or null field is its default).

/// A CEL string literal.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A CEL raw string literal, for regular expressions (no escape is read inside it).
pub fn re(pattern: &str) -> String {
    debug_assert!(!pattern.contains('\''), "{pattern}");
    format!("r'{pattern}'")
}

/// A CEL list of string literals.
pub fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| lit(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// A CEL map of string literals.
pub fn map<K: AsRef<str>, V: AsRef<str>>(items: impl IntoIterator<Item = (K, V)>) -> String {
    let items: Vec<String> = items
        .into_iter()
        .map(|(k, v)| format!("{}: {}", lit(k.as_ref()), lit(v.as_ref())))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// Words CEL reserves: a field with such a name is read by index (`m['namespace']`), which
/// every evaluator parses, and not by selection.
pub const RESERVED: [&str; 21] = [
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "namespace",
    "null",
    "package",
    "return",
    "true",
    "var",
    "void",
    "while",
];

/// `base.field`, or `base['field']` for a reserved word.
pub fn select(base: &str, field: &str) -> String {
    if RESERVED.contains(&field) {
        format!("{base}[{}]", lit(field))
    } else {
        format!("{base}.{field}")
    }
}

/// Whether `base.field` is present and not null.
pub fn present(base: &str, field: &str) -> String {
    let at = select(base, field);
    if RESERVED.contains(&field) {
        format!("({} in {base} && {at} != null)", lit(field))
    } else {
        format!("(has({at}) && {at} != null)")
    }
}

/// `base.field`, or `default` when it is absent or null.
pub fn get(base: &str, field: &str, default: &str) -> String {
    format!(
        "({} ? {} : {default})",
        present(base, field),
        select(base, field)
    )
}

/// Whether the nested fields `base.a.b...` are all present and not null.
pub fn present_path(base: &str, fields: &[&str]) -> String {
    let mut parts = Vec::new();
    let mut at = base.to_owned();
    for f in fields {
        parts.push(present(&at, f));
        at = select(&at, f);
    }
    format!("({})", parts.join(" && "))
}

/// `base.a.b...`, or `default` when any step is absent or null.
pub fn get_path(base: &str, fields: &[&str], default: &str) -> String {
    let at = fields.iter().fold(base.to_owned(), |at, f| select(&at, f));
    format!("({} ? {at} : {default})", present_path(base, fields))
}

/// Binds `value` to `name` inside `body`: a one-element list's `all`, the one binding form
/// every CEL evaluator has (`cel.bind` needs Kubernetes 1.30's extension library).
pub fn bind(name: &str, value: &str, body: &str) -> String {
    format!("[{value}].all({name}, {body})")
}

/// `[value].map(name, body)[0]`: `body` with `name` bound to `value`, for results that are not
/// booleans (messages); [`bind`] is for conditions.
pub fn bind_value(name: &str, value: &str, body: &str) -> String {
    format!("[{value}].map({name}, {body})[0]")
}

/// Whether any of `conds` holds.
pub fn any<S: AsRef<str>>(conds: impl IntoIterator<Item = S>) -> String {
    let conds: Vec<String> = conds.into_iter().map(|c| c.as_ref().to_owned()).collect();
    format!("({})", conds.join(" || "))
}

/// `(cond1 ? text1 : (cond2 ? text2 : ... ''))`: the text of the first condition that holds.
pub fn first_of(branches: &[(String, String)]) -> String {
    let mut out = String::from("''");
    for (cond, text) in branches.iter().rev() {
        out = format!("({cond} ? {text} : {out})");
    }
    out
}

/// `variables.name`.
pub fn var(name: &str) -> String {
    format!("variables.{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(lit(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(list(["x", "y"]), "['x', 'y']");
        assert_eq!(
            get("c", "name", "''"),
            "((has(c.name) && c.name != null) ? c.name : '')"
        );
    }
}
