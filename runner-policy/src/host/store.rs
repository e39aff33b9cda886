//! A store and an instance of the module, and export calls bounded by the time limit.

use std::time::Duration;

use wasmtime::{Memory, MemoryType, Store, Trap, TypedFunc};

use super::TICK;
use super::error::{HostError, HostResult, WasmError};
use super::imports::HostState;
use super::runtime::{Runtime, memory_import};

/// A fresh store with the module's memory and an instance, before any export is called.
pub(crate) fn instantiate_raw(
    runtime: &Runtime,
) -> HostResult<(Store<HostState>, Memory, wasmtime::Instance)> {
    let mut store = Store::new(&runtime.engine, HostState::new(&runtime.limits));
    store.limiter(|state| &mut state.limits);
    store.set_epoch_deadline(timeout_ticks(runtime.limits.timeout));
    let min_pages = memory_import(&runtime.module).unwrap_or(1);
    let min_pages = u32::try_from(min_pages)
        .map_err(|_| HostError::TooLarge("memory import minimum is too large"))?;
    let memory = Memory::new(&mut store, MemoryType::new(min_pages, None))
        .map_err(|e| HostError::bad_module("cannot create the module's memory", e))?;
    store.data_mut().memory = Some(memory);
    let mut linker = runtime.linker.clone();
    linker
        .define(&store, "env", "memory", memory)
        .map_err(|e| HostError::bad_module("cannot define the module's memory", e))?;
    let pre = linker
        .instantiate_pre(&runtime.module)
        .map_err(|e| HostError::AbiMismatch {
            what: "the module's imports do not match the OPA ABI".to_owned(),
            source: Some(Box::new(WasmError::from(e))),
        })?;
    let instance = pre
        .instantiate(&mut store)
        .map_err(|e| HostError::bad_module("cannot instantiate the module", e))?;
    Ok((store, memory, instance))
}

/// Calls `func` with the time limit re-armed; a trap becomes an error that says why
/// (interrupted, `opa_abort` and its message, or another trap).
pub(crate) fn call_bounded<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
    store: &mut Store<HostState>,
    timeout_ticks: u64,
    name: &str,
    func: &TypedFunc<P, R>,
    params: P,
) -> HostResult<R> {
    store.set_epoch_deadline(timeout_ticks);
    let aborts = store.data().aborts.len();
    func.call(&mut *store, params).map_err(|e| {
        let interrupted = e.downcast_ref::<Trap>() == Some(&Trap::Interrupt);
        let export = name.to_owned();
        let source = WasmError::from(e);
        if interrupted {
            HostError::Interrupted { export, source }
        } else if let Some(message) = store.data().aborts.get(aborts) {
            HostError::Aborted {
                export,
                message: message.clone(),
                source,
            }
        } else {
            HostError::Trap { export, source }
        }
    })
}

pub(crate) fn timeout_ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_millis().div_ceil(TICK.as_millis()).max(1);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}
