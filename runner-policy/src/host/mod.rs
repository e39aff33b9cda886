//! A thin wasmtime host of the OPA Wasm ABI (1.0 ctx path and the 1.2 `opa_eval` fast path).
//!
//! - [`Runtime`]: the engine (configured once per process), the compiled module (cached on disk
//!   under `target/`, keyed by a hash of the wasm bytes) and a linker holding every host import.
//! - [`Policy`]: one `Store` + `Instance` with the data document loaded once; evaluations reuse
//!   it and reset the heap to the point just after the data.
//!
//! Every i32 crossing the boundary has its own type ([`Addr`], [`ValueAddr`], [`EntrypointId`]);
//! memory reads are bounds-checked.

mod error;
mod exports;
mod imports;
mod memory;
mod policy;
mod result;
mod runtime;
mod store;
mod types;

pub use error::{Document, HostError, HostResult, WasmError};
pub use imports::{HostState, link_host_imports};
pub use memory::{STACK_BYTES, STACK_PAINT};
pub use policy::Policy;
pub use result::result_of;
pub use runtime::{
    Deadline, MODULE_ENV, Runtime, default_module_path, engine, engine_for, workspace_root,
};
pub use types::{AbiVersion, Addr, CtxAddr, EntrypointId, Format, Limits, ValueAddr};

use std::time::Duration;

/// One wasm page.
pub(crate) const PAGE: u64 = 65_536;
/// The epoch ticker's period: the granularity of [`Limits::timeout`].
pub(crate) const TICK: Duration = Duration::from_millis(10);
/// Longest message read from `opa_abort`/`opa_println`.
pub(crate) const MAX_MESSAGE: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::imports::read_cstr;
    use super::store::{call_bounded, instantiate_raw, timeout_ticks};
    use super::*;

    /// A hand-assembled module that imports `env.memory`, `opa_abort`,
    /// `opa_println` and `opa_builtin0`, holds "boom\0hello\0" at address 0 and exports
    /// `abort` (opa_abort(0)), `spin` (loop forever), `builtin` (opa_builtin0(7, 0)) and `print`
    /// (opa_println(5)).
    const HOOKS: &[u8] = &[
        0, 97, 115, 109, 1, 0, 0, 0, 1, 14, 3, 96, 1, 127, 0, 96, 0, 0, 96, 2, 127, 127, 1, 127, 2,
        68, 4, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0, 1, 3, 101, 110, 118, 9,
        111, 112, 97, 95, 97, 98, 111, 114, 116, 0, 0, 3, 101, 110, 118, 11, 111, 112, 97, 95, 112,
        114, 105, 110, 116, 108, 110, 0, 0, 3, 101, 110, 118, 12, 111, 112, 97, 95, 98, 117, 105,
        108, 116, 105, 110, 48, 0, 2, 3, 5, 4, 1, 1, 1, 1, 7, 34, 4, 5, 97, 98, 111, 114, 116, 0,
        3, 4, 115, 112, 105, 110, 0, 4, 7, 98, 117, 105, 108, 116, 105, 110, 0, 5, 5, 112, 114,
        105, 110, 116, 0, 6, 10, 33, 4, 6, 0, 65, 0, 16, 0, 11, 7, 0, 3, 64, 12, 0, 11, 11, 9, 0,
        65, 7, 65, 0, 16, 2, 26, 11, 6, 0, 65, 5, 16, 1, 11, 11, 17, 1, 0, 65, 0, 11, 11, 98, 111,
        111, 109, 0, 104, 101, 108, 108, 111, 0,
    ];

    fn call(name: &str, timeout: Duration) -> (HostResult<()>, HostState) {
        let runtime = Runtime::from_bytes(HOOKS).unwrap().with_limits(Limits {
            timeout,
            ..Limits::default()
        });
        let (mut store, _memory, instance) = instantiate_raw(&runtime).unwrap();
        let func = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
        let result = call_bounded(&mut store, timeout_ticks(timeout), name, &func, ());
        (result, store.into_data())
    }

    #[test]
    fn imports_record_and_trap() {
        let (result, state) = call("abort", Duration::from_secs(5));
        let err = result.unwrap_err();
        assert!(
            matches!(&err, HostError::Aborted { export, message, .. } if export == "abort" && message == "boom"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "abort aborted: boom");
        assert_eq!(state.aborts, ["boom"]);

        let (result, state) = call("print", Duration::from_secs(5));
        result.unwrap();
        assert_eq!(state.prints, ["hello"]);

        let (result, _) = call("builtin", Duration::from_secs(5));
        let err = result.unwrap_err();
        assert!(matches!(err, HostError::Trap { .. }), "{err:?}");
        let chain = format!("{:#}", anyhow::Error::from(err));
        assert!(chain.contains("opa_builtin0 (builtin id 7)"), "{chain}");
    }

    #[test]
    fn a_runaway_module_is_interrupted() {
        let start = std::time::Instant::now();
        let (result, _) = call("spin", Duration::from_millis(50));
        let err = result.unwrap_err();
        assert!(matches!(err, HostError::Interrupted { .. }), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn memory_reads_are_bounds_checked() {
        let memory = b"ab\0cd";
        assert_eq!(read_cstr(memory, Addr(0)).unwrap(), b"ab");
        assert_eq!(read_cstr(memory, Addr(2)).unwrap(), b"");
        assert!(read_cstr(memory, Addr(3)).is_err()); // no NUL after it
        assert!(read_cstr(memory, Addr(99)).is_err()); // outside memory
    }

    #[test]
    fn result_sets_are_unwrapped() {
        assert_eq!(result_of(br#"[{"result": 1}]"#).unwrap(), 1);
        for bad in [
            &b"[]"[..],
            b"[{}]",
            br#"[{"x": 1}]"#,
            b"{}",
            b"nope",
            br#"[{"result":1},{"result":2}]"#,
        ] {
            assert!(result_of(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
