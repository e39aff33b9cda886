//! The exports this host calls, typed once, and one bounded wrapper per export.

use wasmtime::{Store, TypedFunc};

use super::error::{HostError, HostResult, WasmError};
use super::imports::HostState;
use super::policy::Policy;
use super::store::call_bounded;
use super::types::{Addr, CtxAddr, EntrypointId, Format, ValueAddr};

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

impl Policy {
    pub(crate) fn call<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
        f: fn(&Exports) -> &TypedFunc<P, R>,
        params: P,
    ) -> HostResult<R> {
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
    ) -> HostResult<Addr> {
        let len =
            i32::try_from(input_len).map_err(|_| HostError::TooLarge("input longer than 2 GiB"))?;
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
    pub fn opa_malloc(&mut self, size: u32) -> HostResult<Addr> {
        let size =
            i32::try_from(size).map_err(|_| HostError::TooLarge("allocation larger than 2 GiB"))?;
        self.call("opa_malloc", |e| &e.opa_malloc, size)
            .map(Addr::from_i32)
    }

    /// `value_addr opa_json_parse(str_addr, size)`; `None` when the module cannot parse it.
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_json_parse(&mut self, addr: Addr, len: u32) -> HostResult<Option<ValueAddr>> {
        let len =
            i32::try_from(len).map_err(|_| HostError::TooLarge("JSON text longer than 2 GiB"))?;
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
    pub fn opa_json_dump(&mut self, value: ValueAddr) -> HostResult<Addr> {
        self.call("opa_json_dump", |e| &e.opa_json_dump, value.as_i32())
            .map(Addr::from_i32)
    }

    /// `addr opa_heap_ptr_get(void)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_heap_ptr_get(&mut self) -> HostResult<Addr> {
        self.call("opa_heap_ptr_get", |e| &e.opa_heap_ptr_get, ())
            .map(Addr::from_i32)
    }

    /// `void opa_heap_ptr_set(addr)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_heap_ptr_set(&mut self, addr: Addr) -> HostResult<()> {
        self.call("opa_heap_ptr_set", |e| &e.opa_heap_ptr_set, addr.as_i32())
    }

    /// `value_addr entrypoints(void)`
    ///
    /// # Errors
    /// When the call traps or returns 0.
    pub fn entrypoints_value(&mut self) -> HostResult<ValueAddr> {
        let raw = self.call("entrypoints", |e| &e.entrypoints, ())?;
        ValueAddr::from_i32(raw).ok_or_else(|| HostError::abi("entrypoints() returned 0"))
    }

    /// `value_addr builtins(void)`
    ///
    /// # Errors
    /// When the call traps or returns 0.
    pub fn builtins_value(&mut self) -> HostResult<ValueAddr> {
        let raw = self.call("builtins", |e| &e.builtins, ())?;
        ValueAddr::from_i32(raw).ok_or_else(|| HostError::abi("builtins() returned 0"))
    }

    /// `ctx_addr opa_eval_ctx_new(void)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_eval_ctx_new(&mut self) -> HostResult<CtxAddr> {
        let raw = self.call("opa_eval_ctx_new", |e| &e.opa_eval_ctx_new, ())?;
        Ok(CtxAddr(Addr::from_i32(raw).0))
    }

    /// `void opa_eval_ctx_set_input(ctx_addr, value_addr)`
    ///
    /// # Errors
    /// When the call traps.
    pub fn opa_eval_ctx_set_input(&mut self, ctx: CtxAddr, input: ValueAddr) -> HostResult<()> {
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
    pub fn opa_eval_ctx_set_data(&mut self, ctx: CtxAddr, data: ValueAddr) -> HostResult<()> {
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
    pub fn opa_eval_ctx_set_entrypoint(
        &mut self,
        ctx: CtxAddr,
        id: EntrypointId,
    ) -> HostResult<()> {
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
    pub fn opa_eval_ctx_get_result(&mut self, ctx: CtxAddr) -> HostResult<ValueAddr> {
        let raw = self.call(
            "opa_eval_ctx_get_result",
            |e| &e.opa_eval_ctx_get_result,
            ctx.as_i32(),
        )?;
        ValueAddr::from_i32(raw)
            .ok_or_else(|| HostError::abi("opa_eval_ctx_get_result returned 0 (no result set)"))
    }

    /// `int32 eval(ctx_addr)`: an OPA error code, 0 = `OPA_ERR_OK`.
    ///
    /// # Errors
    /// When the call traps.
    pub fn eval(&mut self, ctx: CtxAddr) -> HostResult<i32> {
        self.call("eval", |e| &e.eval, ctx.as_i32())
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
    ) -> HostResult<TypedFunc<P, R>> {
        self.instance
            .get_typed_func(&mut *self.store, name)
            .map_err(|e| HostError::AbiMismatch {
                what: format!("export `{name}` is missing or has the wrong signature"),
                source: Some(Box::new(WasmError::from(e))),
            })
    }
}
