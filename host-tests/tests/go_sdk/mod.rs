//! The OPA Go SDK's side of its call sequence, reproduced for `go_sdk_sequence`: Go's quoting of
//! Rego text, the Rego value text it reads results from, and its VM.

pub mod quote;
pub mod rego;
pub mod vm;
