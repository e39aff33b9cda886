//! One instance of the module with its data loaded, and the two ways to evaluate through it.

use std::collections::BTreeMap;

use serde_json::Value;
use wasmtime::{Memory, Store, Val};

use super::error::{Document, HostError, HostResult};
use super::exports::{Exports, TypedExports};
use super::imports::HostState;
use super::memory::len_u32;
use super::result::result_of;
use super::runtime::Runtime;
use super::store::{instantiate_raw, timeout_ticks};
use super::types::{AbiVersion, Addr, EntrypointId, Format, ValueAddr};

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
    pub(crate) abi_version: Option<AbiVersion>,
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
    pub fn new(runtime: &Runtime, data: &Value) -> HostResult<Self> {
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
            .zip(global(&mut store, "opa_wasm_abi_minor_version"))
            .map(|(major, minor)| AbiVersion { major, minor });
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

    pub(crate) fn read_entrypoints(&mut self) -> HostResult<BTreeMap<String, EntrypointId>> {
        let value = self.entrypoints_value()?;
        let json = self.opa_json_dump(value)?;
        let map: BTreeMap<String, i32> = serde_json::from_slice(self.read_cstr(json)?)
            .map_err(|e| HostError::abi_because("entrypoints() is not a JSON object of ids", e))?;
        Ok(map
            .into_iter()
            .map(|(name, id)| (name, EntrypointId(id)))
            .collect())
    }

    pub(crate) fn load_data(&mut self, data: &Value) -> HostResult<ValueAddr> {
        let text = serde_json::to_vec(data).map_err(|_| HostError::Unparsable(Document::Data))?;
        let addr = self.opa_malloc(len_u32(text.len())?)?;
        self.write(addr, &text)?;
        self.opa_json_parse(addr, len_u32(text.len())?)?
            .ok_or(HostError::Unparsable(Document::Data))
    }

    /// The ABI version from the `opa_wasm_abi_version`/`opa_wasm_abi_minor_version` globals.
    pub fn abi_version(&self) -> Option<AbiVersion> {
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
    pub fn entrypoint(&self, name: &str) -> HostResult<EntrypointId> {
        self.entrypoints
            .get(name)
            .copied()
            .ok_or_else(|| HostError::UnknownEntrypoint {
                name: name.to_owned(),
                known: self.entrypoints.keys().cloned().collect(),
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

    // Evaluation.

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
    ) -> HostResult<()> {
        let len = len_u32(input.len())?;
        let input_addr = self.base_heap;
        let heap = input_addr.0.checked_add(len).ok_or(HostError::TooLarge(
            "input does not fit in a 32-bit address space",
        ))?;
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
    pub fn evaluate(&mut self, name: &str, input: &[u8]) -> HostResult<Value> {
        let id = self.entrypoint(name)?;
        let mut out = Vec::new();
        self.eval_raw(id, input, &mut out)?;
        result_of(&out).map_err(|e| HostError::BadResult {
            context: format!("result of `{name}`"),
            source: Box::new(e),
        })
    }

    /// The same evaluation through the ABI 1.0 context path (what burrego/Kubewarden use):
    /// reset the heap, `opa_malloc` + `opa_json_parse` the input, `opa_eval_ctx_*`, `eval`,
    /// `opa_json_dump` of the result set.
    ///
    /// # Errors
    /// When the entrypoint is unknown, the module cannot parse `input` as JSON (the host must
    /// parse first on this path), `eval` returns an error code, or a call traps.
    pub fn evaluate_ctx(&mut self, name: &str, input: &[u8]) -> HostResult<Value> {
        let id = self.entrypoint(name)?;
        let input = self.parse_input(input)?;
        let ctx = self.opa_eval_ctx_new()?;
        self.opa_eval_ctx_set_data(ctx, self.data)?;
        self.opa_eval_ctx_set_input(ctx, input)?;
        self.opa_eval_ctx_set_entrypoint(ctx, id)?;
        let code = self.eval(ctx)?;
        if code != 0 {
            return Err(HostError::EvalCode(code));
        }
        let result = self.opa_eval_ctx_get_result(ctx)?;
        let text = self.opa_json_dump(result)?;
        result_of(self.read_cstr(text)?).map_err(|e| HostError::BadResult {
            context: format!("result of `{name}` (ctx path)"),
            source: Box::new(e),
        })
    }

    /// The first half of the ABI 1.0 path: resets the heap to just after the data document, and
    /// has the module parse `input` (`opa_malloc`, then `opa_json_parse`).
    ///
    /// # Errors
    /// When the module cannot parse `input` as JSON, or a call traps.
    pub fn parse_input(&mut self, input: &[u8]) -> HostResult<ValueAddr> {
        self.opa_heap_ptr_set(self.base_heap)?;
        let len = len_u32(input.len())?;
        let addr = self.opa_malloc(len)?;
        self.write(addr, input)?;
        self.opa_json_parse(addr, len)?
            .ok_or(HostError::Unparsable(Document::Input))
    }

    /// The `builtins()` map (must be empty for this policy).
    ///
    /// # Errors
    /// When a call traps or the value is not a JSON object.
    pub fn builtins(&mut self) -> HostResult<BTreeMap<String, i32>> {
        let value = self.builtins_value()?;
        let text = self.opa_json_dump(value)?;
        serde_json::from_slice(self.read_cstr(text)?)
            .map_err(|e| HostError::abi_because("builtins() is not a JSON object", e))
    }
}
