//! The module's entrypoints: the names engines select, and the ids they pass.

/// One entrypoint of the module. The discriminant is the id `entrypoints()` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entrypoint {
    /// `runners/main`: answers in the caller's dialect (id 0: Kubewarden always calls it).
    Main = 0,
    /// `runners/violation`: always the Gatekeeper violations list.
    Violation = 1,
    /// `runners/decision`: the full typed decision, for tools and the playground.
    Decision = 2,
}

impl Entrypoint {
    /// Every entrypoint, in id order.
    pub const ALL: [Entrypoint; 3] = [
        Entrypoint::Main,
        Entrypoint::Violation,
        Entrypoint::Decision,
    ];

    /// The OPA entrypoint name (a path below `data`).
    pub const fn name(self) -> &'static str {
        match self {
            Entrypoint::Main => "runners/main",
            Entrypoint::Violation => "runners/violation",
            Entrypoint::Decision => "runners/decision",
        }
    }

    /// The numeric id passed through the ABI.
    pub const fn id(self) -> i32 {
        self as i32
    }

    /// The entrypoint with this id, if there is one.
    pub fn from_id(id: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.id() == id)
    }

    /// The entrypoint with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}
