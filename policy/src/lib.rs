//! runner-policy: the security model of a GitLab Runner fleet on Kubernetes, as admission rules.
//!
//! Data flows one way: bytes -> [`request`] model -> [`rules`] -> [`decision`] -> the caller's
//! [`dialect`]. [`decide`] judges one input and [`Outcome::render`] answers for an entrypoint;
//! [`SettingsCache`] keeps settings between evaluations. On `wasm32` the `abi` module exposes
//! them through the OPA Wasm ABI.

// No std: its panic machinery (hook, payload formatting, thread-local panic count) is linked
// even with `panic = "abort"`, and the module has no use for it (`abi::trap`).
#![cfg_attr(target_arch = "wasm32", no_std)]
// The lint wall: nothing in the policy path may panic, because a panic in the module is a trap
// that crosses the ABI. Tests may relax it.
#![cfg_attr(not(test), deny(clippy::unwrap_used))] // a None/Err must become a denial
#![cfg_attr(not(test), deny(clippy::expect_used))] // same: no panicking accessors
#![cfg_attr(not(test), deny(clippy::panic))] // no explicit panics
#![cfg_attr(not(test), deny(clippy::indexing_slicing))] // out-of-range index panics; use get()
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // overflow panics in debug builds
#![cfg_attr(not(test), deny(clippy::unreachable))] // unreachable!() is a panic too
#![cfg_attr(not(test), deny(clippy::todo, clippy::unimplemented))] // no stubs
#![deny(unsafe_op_in_unsafe_fn)] // the ABI module keeps every unsafe step visible

extern crate alloc;

pub mod cache;
pub mod decision;
pub mod dialect;
pub mod entrypoint;
pub mod eval;
mod join;
pub mod json_text;
mod order;
pub mod request;
pub mod rule_name;
pub mod rules;
pub mod settings;
// The rule tests' kit: requests built by field, whole inputs evaluated.
#[cfg(test)]
mod testing;

#[cfg(target_arch = "wasm32")]
mod abi;

pub use cache::SettingsCache;
pub use entrypoint::Entrypoint;
pub use eval::{Outcome, decide};
