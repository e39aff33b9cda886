//! The typed values that cross the ABI: addresses, ids, formats, and the limits of a store.

use std::hash::Hash;
use std::time::Duration;

/// An address in the module's linear memory (a C `addr`/`str_addr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub u32);

/// The address of an OPA value in linear memory (a C `value_addr`); never 0 when valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValueAddr(pub u32);

/// The id of an entrypoint, as reported by the module's `entrypoints()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntrypointId(pub i32);

/// The address of an evaluation context (ABI 1.0 `ctx_addr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtxAddr(pub u32);

/// The OPA Wasm ABI version a module declares (`opa_wasm_abi_version`,
/// `opa_wasm_abi_minor_version`): this policy speaks 1.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbiVersion {
    pub major: i32,
    pub minor: i32,
}

impl std::fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Result formats of `opa_eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `0`: JSON.
    Json = 0,
    /// `1`: Rego value syntax (sets as `{...}`).
    Value = 1,
}

impl Addr {
    pub(crate) fn offset(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn from_i32(raw: i32) -> Self {
        Addr(u32::from_ne_bytes(raw.to_ne_bytes()))
    }

    pub(crate) fn as_i32(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }
}

impl ValueAddr {
    pub(crate) fn from_i32(raw: i32) -> Option<Self> {
        (raw != 0).then(|| ValueAddr(u32::from_ne_bytes(raw.to_ne_bytes())))
    }

    pub(crate) fn as_i32(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }
}

impl CtxAddr {
    pub(crate) fn as_i32(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }
}

/// Bounds on one store: a runaway module cannot hang a CI job or eat the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest linear memory the module may grow to.
    pub memory_bytes: usize,
    /// Wall-clock bound of one export call (rounded up to 10 ms ticks).
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(10),
        }
    }
}
