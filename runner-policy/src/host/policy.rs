//! One instance of the module with its data loaded: evaluations through both ABI paths.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::Value;
use wasmtime::{Memory, MemoryType, Store, Trap, TypedFunc, Val};

use super::imports::{HostState, read_cstr};
use super::runtime::{Runtime, memory_import};
use super::types::{Addr, CtxAddr, EntrypointId, Format, ValueAddr};
use super::{PAGE, TICK};

/// A fresh store with the module's memory and an instance, before any export is called.
pub(crate) fn instantiate_raw(
    runtime: &Runtime,
) -> Result<(Store<HostState>, Memory, wasmtime::Instance)> {
    let mut store = Store::new(&runtime.engine, HostState::new(&runtime.limits));
    store.limiter(|state| &mut state.limits);
    store.set_epoch_deadline(timeout_ticks(runtime.limits.timeout));
    let min_pages = memory_import(&runtime.module).unwrap_or(1);
    let min_pages = u32::try_from(min_pages).context("memory import minimum is too large")?;
    let memory = wt(Memory::new(&mut store, MemoryType::new(min_pages, None)))
        .context("cannot create the module's memory")?;
    store.data_mut().memory = Some(memory);
    let mut linker = runtime.linker.clone();
    linker.define(&store, "env", "memory", memory)?;
    let pre = wt(linker.instantiate_pre(&runtime.module))
        .context("the module's imports do not match the OPA ABI")?;
    let instance = wt(pre.instantiate(&mut store)).context("cannot instantiate the module")?;
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
) -> Result<R> {
    store.set_epoch_deadline(timeout_ticks);
    let aborts = store.data().aborts.len();
    func.call(&mut *store, params).map_err(|e| {
        let interrupted = e.downcast_ref::<Trap>() == Some(&Trap::Interrupt);
        let e = anyhow::Error::from(e);
        if interrupted {
            e.context(format!(
                "{name} ran past the time limit and was interrupted (a runaway module?)"
            ))
        } else if let Some(msg) = store.data().aborts.get(aborts) {
            e.context(format!("{name} aborted: {msg}"))
        } else {
            e.context(format!("{name} trapped"))
        }
    })
}

/// `opa_eval`'s parameters: reserved, entrypoint, data, input, input length, heap, format.
pub(crate) type OpaEvalParams = (i32, i32, i32, i32, i32, i32, i32);

/// The exports this host calls, typed once at instantiation.
pub(crate) struct Exports {
    pub(crate) opa_eval: TypedFunc<OpaEvalParams, i32>,
    pub(crate) opa_malloc: TypedFunc<i32, i32>,
    pub(crate) opa_json_parse: TypedFunc<(i32, i32), i32>,
    pub(crate) opa_json_dump: TypedFunc<i32, i32>,
    pub(crate) opa_heap_ptr_get: TypedFunc<(), i32>,
    pub(crate) opa_heap_ptr_set: TypedFunc<i32, ()>,
    pub(crate) entrypoints: TypedFunc<(), i32>,
    pub(crate) builtins: TypedFunc<(), i32>,
    pub(crate) opa_eval_ctx_new: TypedFunc<(), i32>,
    pub(crate) opa_eval_ctx_set_input: TypedFunc<(i32, i32), ()>,
    pub(crate) opa_eval_ctx_set_data: TypedFunc<(i32, i32), ()>,
    pub(crate) opa_eval_ctx_set_entrypoint: TypedFunc<(i32, i32), ()>,
    pub(crate) opa_eval_ctx_get_result: TypedFunc<i32, i32>,
    pub(crate) eval: TypedFunc<i32, i32>,
}

/// One instance of the policy module with its data document loaded.
pub struct Policy {
    pub(crate) store: Store<HostState>,
    pub(crate) memory: Memory,
    pub(crate) exports: Exports,
    pub(crate) entrypoints: BTreeMap<String, EntrypointId>,
    pub(crate) data: ValueAddr,
    /// The heap pointer just after the data document: every evaluation starts here.
    pub(crate) base_heap: Addr,
    pub(crate) timeout_ticks: u64,
    pub(crate) abi_version: Option<(i32, i32)>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("entrypoints", &self.entrypoints)
            .field("data", &self.data)
            .field("base_heap", &self.base_heap)
            .field("abi_version", &self.abi_version)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// Instantiates the module of `runtime` in a fresh store and loads `data`.
    ///
    /// # Errors
    /// When instantiation fails, an export is missing or has the wrong type, or the module
    /// cannot parse `data` (`opa_json_parse` returned 0).
    ///
    /// # Examples
    /// ```no_run
    /// use runner_policy::host::{Policy, Runtime, default_module_path};
    /// let runtime = Runtime::load(&default_module_path())?;
    /// let mut policy = Policy::new(&runtime, &serde_json::json!({"org": "example", "runners": []}))?;
    /// let decision = policy.evaluate("runners/decision", br#"{"request": {}}"#)?;
    /// println!("{decision}");
    /// # anyhow::Ok(())
    /// ```
    pub fn new(runtime: &Runtime, data: &Value) -> Result<Self> {
        let (mut store, memory, instance) = instantiate_raw(runtime)?;
        let exports = {
            let mut typed = TypedExports {
                instance,
                store: &mut store,
            };
            Exports {
                opa_eval: typed.get("opa_eval")?,
                opa_malloc: typed.get("opa_malloc")?,
                opa_json_parse: typed.get("opa_json_parse")?,
                opa_json_dump: typed.get("opa_json_dump")?,
                opa_heap_ptr_get: typed.get("opa_heap_ptr_get")?,
                opa_heap_ptr_set: typed.get("opa_heap_ptr_set")?,
                entrypoints: typed.get("entrypoints")?,
                builtins: typed.get("builtins")?,
                opa_eval_ctx_new: typed.get("opa_eval_ctx_new")?,
                opa_eval_ctx_set_input: typed.get("opa_eval_ctx_set_input")?,
                opa_eval_ctx_set_data: typed.get("opa_eval_ctx_set_data")?,
                opa_eval_ctx_set_entrypoint: typed.get("opa_eval_ctx_set_entrypoint")?,
                opa_eval_ctx_get_result: typed.get("opa_eval_ctx_get_result")?,
                eval: typed.get("eval")?,
            }
        };
        let global = |store: &mut Store<HostState>, name: &str| match instance
            .get_global(&mut *store, name)
            .map(|g| g.get(&mut *store))
        {
            Some(Val::I32(v)) => Some(v),
            _ => None,
        };
        let abi_version = global(&mut store, "opa_wasm_abi_version")
            .zip(global(&mut store, "opa_wasm_abi_minor_version"));
        let mut policy = Policy {
            store,
            memory,
            exports,
            entrypoints: BTreeMap::new(),
            data: ValueAddr(0),
            base_heap: Addr(0),
            timeout_ticks: timeout_ticks(runtime.limits.timeout),
            abi_version,
        };
        policy.entrypoints = policy.read_entrypoints()?;
        policy.data = policy.load_data(data)?;
        policy.base_heap = policy.opa_heap_ptr_get()?;
        Ok(policy)
    }

    pub(crate) fn read_entrypoints(&mut self) -> Result<BTreeMap<String, EntrypointId>> {
        let value = self.entrypoints_value()?;
        let json = self.opa_json_dump(value)?;
        let map: BTreeMap<String, i32> = serde_json::from_slice(self.read_cstr(json)?)
            .context("entrypoints() is not a JSON object of ids")?;
        Ok(map
            .into_iter()
            .map(|(name, id)| (name, EntrypointId(id)))
            .collect())
    }

    pub(crate) fn load_data(&mut self, data: &Value) -> Result<ValueAddr> {
        let text = serde_json::to_vec(data)?;
        let addr = self.opa_malloc(len_u32(text.len())?)?;
        self.write(addr, &text)?;
        self.opa_json_parse(addr, len_u32(text.len())?)?
            .context("the module could not parse the data document (opa_json_parse returned 0)")
    }

    /// The ABI version from the `opa_wasm_abi_version`/`opa_wasm_abi_minor_version` globals.
    pub fn abi_version(&self) -> Option<(i32, i32)> {
        self.abi_version
    }

    /// The module's entrypoints by name.
    pub fn entrypoints(&self) -> &BTreeMap<String, EntrypointId> {
        &self.entrypoints
    }

    /// The id of the entrypoint `name`.
    ///
    /// # Errors
    /// When the module has no such entrypoint (the message lists the ones it has).
    pub fn entrypoint(&self, name: &str) -> Result<EntrypointId> {
        self.entrypoints.get(name).copied().with_context(|| {
            format!(
                "the module has no entrypoint `{name}` (it has: {})",
                self.entrypoints
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }

    /// What `opa_println` and `opa_abort` received so far.
    pub fn host_state(&self) -> &HostState {
        self.store.data()
    }

    /// Current size of linear memory in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// The heap pointer after the data document, where every evaluation starts.
    pub fn base_heap(&self) -> Addr {
        self.base_heap
    }

    /// The loaded data document.
    pub fn data(&self) -> ValueAddr {
        self.data
    }

    // ---- one wrapper per export -------------------------------------------------------------

    pub(crate) fn call<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
        f: fn(&Exports) -> &TypedFunc<P, R>,
        params: P,
    ) -> Result<R> {
        call_bounded(
            &mut self.store,
            self.timeout_ticks,
            name,
            f(&self.exports),
            params,
        )
    }

    /// `str_addr opa_eval(_ addr, entrypoint_id int32, data value_addr, input str_addr,
    /// input_len int32, heap_ptr addr, format int32)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_eval(
        &mut self,
        entrypoint: EntrypointId,
        data: ValueAddr,
        input: Addr,
        input_len: u32,
        heap_ptr: Addr,
        format: Format,
    ) -> Result<Addr> {
        let len = i32::try_from(input_len).context("input longer than 2 GiB")?;
        let params = (
            0,
            entrypoint.0,
            data.as_i32(),
            input.as_i32(),
            len,
            heap_ptr.as_i32(),
            format as i32,
        );
        self.call("opa_eval", |e| &e.opa_eval, params)
            .map(Addr::from_i32)
    }

    /// `addr opa_malloc(int32 size)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_malloc(&mut self, size: u32) -> Result<Addr> {
        let size = i32::try_from(size).context("allocation larger than 2 GiB")?;
        self.call("opa_malloc", |e| &e.opa_malloc, size)
            .map(Addr::from_i32)
    }

    /// `value_addr opa_json_parse(str_addr, size)`; `None` when the module cannot parse it.
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_json_parse(&mut self, addr: Addr, len: u32) -> Result<Option<ValueAddr>> {
        let len = i32::try_from(len).context("JSON text longer than 2 GiB")?;
        self.call(
            "opa_json_parse",
            |e| &e.opa_json_parse,
            (addr.as_i32(), len),
        )
        .map(ValueAddr::from_i32)
    }

    /// `str_addr opa_json_dump(value_addr)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_json_dump(&mut self, value: ValueAddr) -> Result<Addr> {
        self.call("opa_json_dump", |e| &e.opa_json_dump, value.as_i32())
            .map(Addr::from_i32)
    }

    /// `addr opa_heap_ptr_get(void)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_heap_ptr_get(&mut self) -> Result<Addr> {
        self.call("opa_heap_ptr_get", |e| &e.opa_heap_ptr_get, ())
            .map(Addr::from_i32)
    }

    /// `void opa_heap_ptr_set(addr)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_heap_ptr_set(&mut self, addr: Addr) -> Result<()> {
        self.call("opa_heap_ptr_set", |e| &e.opa_heap_ptr_set, addr.as_i32())
    }

    /// `value_addr entrypoints(void)`
    ///
    /// # Errors
    /// When the call traps or returns 0.
    pub fn entrypoints_value(&mut self) -> Result<ValueAddr> {
        let raw = self.call("entrypoints", |e| &e.entrypoints, ())?;
        ValueAddr::from_i32(raw).context("entrypoints() returned 0")
    }

    /// `value_addr builtins(void)`
    ///
    /// # Errors
    /// When the call traps or returns 0.
    pub fn builtins_value(&mut self) -> Result<ValueAddr> {
        let raw = self.call("builtins", |e| &e.builtins, ())?;
        ValueAddr::from_i32(raw).context("builtins() returned 0")
    }

    /// `ctx_addr opa_eval_ctx_new(void)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_eval_ctx_new(&mut self) -> Result<CtxAddr> {
        let raw = self.call("opa_eval_ctx_new", |e| &e.opa_eval_ctx_new, ())?;
        Ok(CtxAddr(Addr::from_i32(raw).0))
    }

    /// `void opa_eval_ctx_set_input(ctx_addr, value_addr)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_eval_ctx_set_input(&mut self, ctx: CtxAddr, input: ValueAddr) -> Result<()> {
        let params = (ctx.as_i32(), input.as_i32());
        self.call(
            "opa_eval_ctx_set_input",
            |e| &e.opa_eval_ctx_set_input,
            params,
        )
    }

    /// `void opa_eval_ctx_set_data(ctx_addr, value_addr)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_eval_ctx_set_data(&mut self, ctx: CtxAddr, data: ValueAddr) -> Result<()> {
        let params = (ctx.as_i32(), data.as_i32());
        self.call(
            "opa_eval_ctx_set_data",
            |e| &e.opa_eval_ctx_set_data,
            params,
        )
    }

    /// `void opa_eval_ctx_set_entrypoint(ctx_addr, entrypoint_id)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_eval_ctx_set_entrypoint(&mut self, ctx: CtxAddr, id: EntrypointId) -> Result<()> {
        let params = (ctx.as_i32(), id.0);
        self.call(
            "opa_eval_ctx_set_entrypoint",
            |e| &e.opa_eval_ctx_set_entrypoint,
            params,
        )
    }

    /// `value_addr opa_eval_ctx_get_result(ctx_addr)`
    ///
    /// # Errors
    /// When the call traps or returns 0.
    pub fn opa_eval_ctx_get_result(&mut self, ctx: CtxAddr) -> Result<ValueAddr> {
        let raw = self.call(
            "opa_eval_ctx_get_result",
            |e| &e.opa_eval_ctx_get_result,
            ctx.as_i32(),
        )?;
        ValueAddr::from_i32(raw).context("opa_eval_ctx_get_result returned 0 (no result set)")
    }

    /// `int32 eval(ctx_addr)`: an OPA error code, 0 = `OPA_ERR_OK`.
    ///
    /// # Errors
    /// When the call traps.
    pub fn eval(&mut self, ctx: CtxAddr) -> Result<i32> {
        self.call("eval", |e| &e.eval, ctx.as_i32())
    }

    // ---- memory -----------------------------------------------------------------------------

    /// Copies `bytes` into linear memory at `addr`, bounds-checked.
    ///
    /// # Errors
    /// When the range is outside memory.
    pub fn write(&mut self, addr: Addr, bytes: &[u8]) -> Result<()> {
        self.memory
            .write(&mut self.store, addr.offset(), bytes)
            .map_err(|_| {
                anyhow!(
                    "writing {} bytes at {:#x} runs past memory ({} bytes)",
                    bytes.len(),
                    addr.0,
                    self.memory_bytes()
                )
            })
    }

    /// The NUL-terminated string at `addr` (without the NUL), bounds-checked.
    ///
    /// # Errors
    /// When `addr` is outside memory or no NUL follows it.
    pub fn read_cstr(&self, addr: Addr) -> Result<&[u8]> {
        read_cstr(self.memory.data(&self.store), addr)
    }

    /// Grows memory so that `end` bytes fit.
    pub(crate) fn ensure_memory(&mut self, end: u64) -> Result<()> {
        let have = self.memory.data_size(&self.store) as u64;
        if end > have {
            let pages = (end - have).div_ceil(PAGE);
            wt(self.memory.grow(&mut self.store, pages))
                .with_context(|| format!("cannot grow memory to {end} bytes (limit reached?)"))?;
        }
        Ok(())
    }

    // ---- evaluation -------------------------------------------------------------------------

    /// The fast path (ABI 1.2 `opa_eval`): copies `input` (JSON text) to the heap just after the
    /// data document, evaluates with the heap starting after it, and appends the result set's
    /// JSON text (`[{"result": X}]`, without the NUL) to `out` after clearing it.
    ///
    /// # Errors
    /// When the module traps or its result is not a NUL-terminated string in memory.
    pub fn eval_raw(
        &mut self,
        entrypoint: EntrypointId,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let len = len_u32(input.len())?;
        let input_addr = self.base_heap;
        let heap = input_addr
            .0
            .checked_add(len)
            .context("input does not fit in a 32-bit address space")?;
        self.ensure_memory(u64::from(heap))?;
        self.write(input_addr, input)?;
        let result = self.opa_eval(
            entrypoint,
            self.data,
            input_addr,
            len,
            Addr(heap),
            Format::Json,
        )?;
        out.clear();
        out.extend_from_slice(self.read_cstr(result)?);
        Ok(())
    }

    /// Evaluates `input` (JSON text, any dialect) at the entrypoint `name` through `opa_eval`
    /// and returns `X` of the result set `[{"result": X}]`.
    ///
    /// # Errors
    /// When the entrypoint is unknown, the module traps, or the result is not a one-element
    /// result set.
    ///
    /// # Examples
    /// ```no_run
    /// # let runtime = runner_policy::host::Runtime::load(&runner_policy::host::default_module_path())?;
    /// # let mut policy = runtime.instantiate(&serde_json::json!({}))?;
    /// let decision = policy.evaluate("runners/decision", br#"not json"#)?;
    /// assert_eq!(decision["allowed"], false);
    /// # anyhow::Ok(())
    /// ```
    pub fn evaluate(&mut self, name: &str, input: &[u8]) -> Result<Value> {
        let id = self.entrypoint(name)?;
        let mut out = Vec::new();
        self.eval_raw(id, input, &mut out)?;
        result_of(&out).with_context(|| format!("result of `{name}`"))
    }

    /// The same evaluation through the ABI 1.0 context path (what burrego/Kubewarden use):
    /// reset the heap, `opa_malloc` + `opa_json_parse` the input, `opa_eval_ctx_*`, `eval`,
    /// `opa_json_dump` of the result set.
    ///
    /// # Errors
    /// When the entrypoint is unknown, the module cannot parse `input` as JSON (the host must
    /// parse first on this path), `eval` returns an error code, or a call traps.
    pub fn evaluate_ctx(&mut self, name: &str, input: &[u8]) -> Result<Value> {
        let id = self.entrypoint(name)?;
        let input = self.parse_input(input)?;
        let ctx = self.opa_eval_ctx_new()?;
        self.opa_eval_ctx_set_data(ctx, self.data)?;
        self.opa_eval_ctx_set_input(ctx, input)?;
        self.opa_eval_ctx_set_entrypoint(ctx, id)?;
        let code = self.eval(ctx)?;
        ensure!(code == 0, "eval returned OPA error code {code}");
        let result = self.opa_eval_ctx_get_result(ctx)?;
        let text = self.opa_json_dump(result)?;
        result_of(self.read_cstr(text)?).with_context(|| format!("result of `{name}` (ctx path)"))
    }

    /// The first half of the ABI 1.0 path: resets the heap to just after the data document, and
    /// has the module parse `input` (`opa_malloc`, then `opa_json_parse`).
    ///
    /// # Errors
    /// When the module cannot parse `input` as JSON, or a call traps.
    pub fn parse_input(&mut self, input: &[u8]) -> Result<ValueAddr> {
        self.opa_heap_ptr_set(self.base_heap)?;
        let len = len_u32(input.len())?;
        let addr = self.opa_malloc(len)?;
        self.write(addr, input)?;
        self.opa_json_parse(addr, len)?
            .context("the module could not parse the input as JSON (opa_json_parse returned 0)")
    }

    /// The `builtins()` map (must be empty for this policy).
    ///
    /// # Errors
    /// When a call traps or the value is not a JSON object.
    pub fn builtins(&mut self) -> Result<BTreeMap<String, i32>> {
        let value = self.builtins_value()?;
        let text = self.opa_json_dump(value)?;
        serde_json::from_slice(self.read_cstr(text)?).context("builtins() is not a JSON object")
    }
}

pub(crate) struct TypedExports<'a> {
    pub(crate) instance: wasmtime::Instance,
    pub(crate) store: &'a mut Store<HostState>,
}

impl TypedExports<'_> {
    pub(crate) fn get<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        wt(self.instance.get_typed_func(&mut *self.store, name))
            .with_context(|| format!("export `{name}` is missing or has the wrong signature"))
    }
}

/// A wasmtime result as an anyhow result (wasmtime's error type has no `Context`).
pub(crate) fn wt<T>(result: wasmtime::Result<T>) -> Result<T> {
    result.map_err(anyhow::Error::from)
}

pub(crate) fn timeout_ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_millis().div_ceil(TICK.as_millis()).max(1);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

pub(crate) fn len_u32(len: usize) -> Result<u32> {
    u32::try_from(len).context("longer than 4 GiB")
}

/// `X` of a JSON result set `[{"result": X}]`.
///
/// # Errors
/// When `text` is not JSON or not a one-element result set.
pub fn result_of(text: &[u8]) -> Result<Value> {
    let set: Value = serde_json::from_slice(text).with_context(|| {
        format!(
            "the module returned invalid JSON: {}",
            String::from_utf8_lossy(text.get(..200).unwrap_or(text))
        )
    })?;
    match set {
        Value::Array(mut items) if items.len() == 1 => match items.pop() {
            Some(Value::Object(mut binding)) if binding.len() == 1 => binding
                .remove("result")
                .context("the result set's element has no `result` key"),
            other => bail!("the result set's element is not {{\"result\": X}}: {other:?}"),
        },
        other => bail!(
            "expected a one-element result set [{{\"result\": X}}], got {}",
            truncate(&other.to_string(), 200)
        ),
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}
