//! The OPA Wasm ABI 1.3 (OPA's `docs/wasm.md`): how engines drive [`crate::decide`].
//!
//! Only compiled for `wasm32`. It holds no policy logic: it moves bytes between the host's
//! shared memory and [`crate::decide`], and speaks OPA's value and result-set formats.
//!
//! - [`cache`]: the settings kept between evaluations, in the heap's pinned areas.
//! - [`heap`]: the global bump allocator and the `opa_heap_*` / `opa_malloc` / `opa_free` exports.
//! - [`mem`]: bounds-checked views of host memory (every address a host passes is untrusted).
//! - [`value`]: heap values addressed by an i32, and their JSON / Rego-value dumps.
//! - [`rego`]: the Rego value text parser (`opa_value_parse`, Go SDK inputs).
//! - [`tree`]: parsed values and their JSON text.
//! - [`path`]: `opa_value_add_path` / `opa_value_remove_path`.
//! - [`exports`]: one wrapper per evaluation export (`opa_eval`, the ctx path, `entrypoints`...).
//! - [`imports`]: the host functions every OPA module imports.
//!
//! No panic may cross the boundary: every export accepts null or garbage addresses and answers
//! with a well-formed value (or 0 where OPA's ABI uses 0 for "no value").

mod cache;
mod exports;
mod heap;
mod imports;
mod mem;
mod path;
mod rego;
mod tree;
mod value;

/// A panic is a trap: the lint wall keeps panics out of the module's code, and the few that
/// `core` and `alloc` keep (allocation failure) end the evaluation without formatting a message
/// no host would see.
#[panic_handler]
fn trap(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
