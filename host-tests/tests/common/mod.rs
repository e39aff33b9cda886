//! Shared by the tests that drive the module's exports the way another host does
//! (`go_sdk_sequence`, `burrego_sequence`): a bare wasmtime instance with that host's memory,
//! and the recorded requests; `reviews` generates AdmissionReviews (`rego_property`, `opa_real`).

#![allow(dead_code)] // each test crate uses a part

pub mod reviews;

use runner_policy::host::Runtime;
use runner_policy::suite::{Suite, default_suite_path};
use serde_json::Value;
use wasmtime::{Caller, ExternType, Instance, Linker, Memory, MemoryType, Store};

/// A fresh store and instance of the runtime's module, with a memory of `min_pages` (the
/// module's own minimum when `None`, as the Go SDK does; burrego always gives 5) and host
/// imports that trap: the module declares no builtins and must not abort.
pub fn instantiate(runtime: &Runtime, min_pages: Option<u32>) -> (Store<()>, Instance, Memory) {
    let engine = runtime.engine();
    let module = runtime.module();
    let mut store = Store::new(engine, ());
    store.set_epoch_deadline(1_000); // the host crate's ticker runs every 10 ms: 10 s per call
    let module_min = module
        .imports()
        .find_map(|i| match i.ty() {
            ExternType::Memory(m) => Some(m.minimum()),
            _ => None,
        })
        .expect("the module imports a memory");
    let pages = min_pages.unwrap_or_else(|| u32::try_from(module_min).unwrap());
    let memory = Memory::new(&mut store, MemoryType::new(pages, None)).unwrap();
    let mut linker: Linker<()> = Linker::new(engine);
    linker.define(&store, "env", "memory", memory).unwrap();
    let trap = |what: &str| wasmtime::Error::msg(format!("the module called {what}"));
    linker
        .func_wrap(
            "env",
            "opa_abort",
            move |_: Caller<'_, ()>, _: i32| -> wasmtime::Result<()> { Err(trap("opa_abort")) },
        )
        .unwrap();
    linker
        .func_wrap("env", "opa_println", |_: Caller<'_, ()>, _: i32| {})
        .unwrap();
    linker
        .func_wrap(
            "env",
            "opa_builtin0",
            move |_: i32, _: i32| -> wasmtime::Result<i32> { Err(trap("opa_builtin0")) },
        )
        .unwrap();
    linker
        .func_wrap(
            "env",
            "opa_builtin1",
            move |_: i32, _: i32, _: i32| -> wasmtime::Result<i32> { Err(trap("opa_builtin1")) },
        )
        .unwrap();
    linker
        .func_wrap(
            "env",
            "opa_builtin2",
            move |_: i32, _: i32, _: i32, _: i32| -> wasmtime::Result<i32> {
                Err(trap("opa_builtin2"))
            },
        )
        .unwrap();
    linker
        .func_wrap(
            "env",
            "opa_builtin3",
            move |_: i32, _: i32, _: i32, _: i32, _: i32| -> wasmtime::Result<i32> {
                Err(trap("opa_builtin3"))
            },
        )
        .unwrap();
    linker
        .func_wrap(
            "env",
            "opa_builtin4",
            move |_: i32, _: i32, _: i32, _: i32, _: i32, _: i32| -> wasmtime::Result<i32> {
                Err(trap("opa_builtin4"))
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, module).unwrap();
    (store, instance, memory)
}

/// The NUL-terminated UTF-8 string at `addr`.
pub fn cstr(memory: &Memory, store: &Store<()>, addr: i32) -> String {
    let mem = memory.data(store);
    let tail = &mem[usize::try_from(addr).unwrap()..];
    let end = tail.iter().position(|&b| b == 0).expect("NUL-terminated");
    String::from_utf8(tail[..end].to_vec()).unwrap()
}

/// Every recorded request of the suite: (case name, AdmissionReview).
pub fn requests() -> Vec<(String, Value)> {
    let suite = Suite::load(&default_suite_path()).unwrap();
    suite
        .cases
        .into_iter()
        .map(|case| {
            let text = std::fs::read(&case.request).unwrap();
            let value = serde_json::from_slice(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", case.request.display()));
            (case.name, value)
        })
        .collect()
}
