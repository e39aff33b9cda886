//! Lists that validations judge item by item, and how their messages name an item.

use crate::cel::{bind_value, get};

/// A CEL list whose items a validation judges one by one: `var` ranges over `list`, and `bad`
/// (which reads `var`) says whether an item fails.
pub struct Items {
    list: String,
    var: &'static str,
    bad: String,
}

impl Items {
    pub fn new(list: impl Into<String>, var: &'static str, bad: impl Into<String>) -> Self {
        Items {
            list: list.into(),
            var,
            bad: bad.into(),
        }
    }

    /// The containers the pod rules judge (`c`), bad when an item of their `sub` list is.
    pub fn containers_with(sub: &Items) -> Self {
        Items::new("variables.containers", "c", sub.exist())
    }

    /// Whether some item is bad.
    pub fn exist(&self) -> String {
        format!("{}.exists({}, {})", self.list, self.var, self.bad)
    }

    /// The first bad item.
    pub fn first(&self) -> String {
        format!("{}.filter({}, {})[0]", self.list, self.var, self.bad)
    }

    /// `body` with the variable bound to the first bad item.
    pub fn with_first(&self, body: &str) -> String {
        bind_value(self.var, &self.first(), body)
    }
}

/// The requested object, as the module's messages name it.
pub const SUBJECT: &str = "variables.subject";

/// An item of the requested object (`var`: a container, a volume) as the module's messages
/// name it: `<kind> "<name>" of <subject>`.
pub fn item_of(kind: &str, var: &str) -> String {
    format!(
        "'{kind} \"' + {} + '\" of ' + {SUBJECT}",
        get(var, "name", "''")
    )
}

/// `<what> (requested by <who>`: the parenthesis is closed by the text that follows.
pub fn requested_by(what: &str) -> String {
    format!("{what} + ' (requested by ' + variables.who")
}
