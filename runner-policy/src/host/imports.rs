//! The host imports of the ABI (`opa_abort`, `opa_println`, builtins), and what they saw.

use wasmtime::{Caller, Linker, Memory, StoreLimits, StoreLimitsBuilder};

use super::MAX_MESSAGE;
use super::error::{HostError, HostResult, WasmError};
use super::types::{Addr, Limits};

/// What the host imports saw; kept in the store.
#[derive(Debug)]
pub struct HostState {
    pub(crate) limits: StoreLimits,
    pub(crate) memory: Option<Memory>,
    /// Messages passed to `opa_abort` (each one also trapped).
    pub aborts: Vec<String>,
    /// Messages passed to `opa_println`.
    pub prints: Vec<String>,
}

impl HostState {
    pub(crate) fn new(limits: &Limits) -> Self {
        HostState {
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .instances(1)
                .build(),
            memory: None,
            aborts: Vec::new(),
            prints: Vec::new(),
        }
    }
}

/// Reads a NUL-terminated string at `addr`, bounds-checked.
pub(crate) fn read_cstr(memory: &[u8], addr: Addr) -> HostResult<&[u8]> {
    let tail = memory.get(addr.offset()..).ok_or_else(|| {
        HostError::memory(format!(
            "string address {:#x} is outside memory ({} bytes)",
            addr.0,
            memory.len()
        ))
    })?;
    // A result set is kilobytes long: `memchr` finds its end a vector at a time.
    let end = memchr::memchr(0, tail).ok_or_else(|| {
        HostError::memory(format!("string at {:#x} has no NUL terminator", addr.0))
    })?;
    Ok(tail.get(..end).unwrap_or_default())
}

/// A message from `opa_abort`/`opa_println`, lossily decoded and bounded.
pub(crate) fn message(caller: &Caller<'_, HostState>, addr: i32) -> String {
    let Some(memory) = caller.data().memory else {
        return String::from("<memory not yet available>");
    };
    match read_cstr(memory.data(caller), Addr::from_i32(addr)) {
        Ok(bytes) => {
            let bytes = bytes.get(..MAX_MESSAGE).unwrap_or(bytes);
            String::from_utf8_lossy(bytes).into_owned()
        }
        Err(e) => format!("<unreadable message: {e}>"),
    }
}

pub(crate) fn builtin_trap(arity: usize, id: i32) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "the module called opa_builtin{arity} (builtin id {id}), but this host provides no \
         builtins and the policy declares none (its `builtins()` must be {{}})"
    ))
}

/// Registers every host import the OPA ABI defines, except `env.memory` (a memory belongs to
/// one store; [`Policy::new`] defines it).
///
/// # Errors
/// Only if a name were registered twice.
pub fn link_host_imports(linker: &mut Linker<HostState>) -> HostResult<()> {
    define_host_imports(linker).map_err(|e| HostError::AbiMismatch {
        what: "cannot register the host imports".to_owned(),
        source: Some(Box::new(WasmError::from(e))),
    })
}

fn define_host_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // void opa_abort(addr): an internal error; record it and trap.
    linker.func_wrap(
        "env",
        "opa_abort",
        |mut caller: Caller<'_, HostState>, addr: i32| -> wasmtime::Result<()> {
            let msg = message(&caller, addr);
            caller.data_mut().aborts.push(msg.clone());
            Err(wasmtime::Error::msg(format!("opa_abort: {msg}")))
        },
    )?;
    // void opa_println(addr): a message from the policy; record it.
    linker.func_wrap(
        "env",
        "opa_println",
        |mut caller: Caller<'_, HostState>, addr: i32| {
            let msg = message(&caller, addr);
            caller.data_mut().prints.push(msg);
        },
    )?;
    // addr opa_builtinN(builtin_id, ctx, _1 .. _N): none declared, so every call is a bug.
    linker.func_wrap(
        "env",
        "opa_builtin0",
        |id: i32, _ctx: i32| -> wasmtime::Result<i32> { Err(builtin_trap(0, id)) },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin1",
        |id: i32, _ctx: i32, _a: i32| -> wasmtime::Result<i32> { Err(builtin_trap(1, id)) },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin2",
        |id: i32, _ctx: i32, _a: i32, _b: i32| -> wasmtime::Result<i32> {
            Err(builtin_trap(2, id))
        },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin3",
        |id: i32, _ctx: i32, _a: i32, _b: i32, _c: i32| -> wasmtime::Result<i32> {
            Err(builtin_trap(3, id))
        },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin4",
        |id: i32, _ctx: i32, _a: i32, _b: i32, _c: i32, _d: i32| -> wasmtime::Result<i32> {
            Err(builtin_trap(4, id))
        },
    )?;
    Ok(())
}
