//! A thin wasmtime host of the OPA Wasm ABI (1.0 ctx path and the 1.2 `opa_eval` fast path).
//!
//! - [`Runtime`]: the engine (configured once per process), the compiled module (cached on disk
//!   under `target/`, keyed by a hash of the wasm bytes) and a linker holding every host import.
//! - [`Policy`]: one `Store` + `Instance` with the data document loaded once; evaluations reuse
//!   it and reset the heap to the point just after the data.
//!
//! Every i32 crossing the boundary has its own type ([`Addr`], [`ValueAddr`], [`EntrypointId`]);
//! memory reads are bounds-checked.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::Value;
use wasmtime::{
    Caller, Config, Engine, ExternType, Linker, Memory, MemoryType, Module, OptLevel, Store,
    StoreLimits, StoreLimitsBuilder, Trap, TypedFunc, Val,
};

/// One wasm page.
const PAGE: u64 = 65_536;
/// The epoch ticker's period: the granularity of [`Limits::timeout`].
const TICK: Duration = Duration::from_millis(10);
/// Longest message read from `opa_abort`/`opa_println`.
const MAX_MESSAGE: usize = 64 * 1024;

/// An address in the module's linear memory (a C `addr`/`str_addr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub u32);

/// The address of an OPA value in linear memory (a C `value_addr`); never 0 when valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValueAddr(pub u32);

/// The id of an entrypoint, as reported by the module's `entrypoints()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntrypointId(pub i32);

/// The address of an evaluation context (ABI 1.0 `ctx_addr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtxAddr(pub u32);

/// Result formats of `opa_eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `0`: JSON.
    Json = 0,
    /// `1`: Rego value syntax (sets as `{...}`).
    Value = 1,
}

impl Addr {
    fn offset(self) -> usize {
        self.0 as usize
    }

    fn from_i32(raw: i32) -> Self {
        Addr(u32::from_ne_bytes(raw.to_ne_bytes()))
    }

    fn as_i32(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }
}

impl ValueAddr {
    fn from_i32(raw: i32) -> Option<Self> {
        (raw != 0).then(|| ValueAddr(u32::from_ne_bytes(raw.to_ne_bytes())))
    }

    fn as_i32(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }
}

impl CtxAddr {
    fn as_i32(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }
}

/// Bounds on one store: a runaway module cannot hang a CI job or eat the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest linear memory the module may grow to.
    pub memory_bytes: usize,
    /// Wall-clock bound of one export call (rounded up to 10 ms ticks).
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What the host imports saw; kept in the store.
#[derive(Debug)]
pub struct HostState {
    limits: StoreLimits,
    memory: Option<Memory>,
    /// Messages passed to `opa_abort` (each one also trapped).
    pub aborts: Vec<String>,
    /// Messages passed to `opa_println`.
    pub prints: Vec<String>,
}

impl HostState {
    fn new(limits: &Limits) -> Self {
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

/// The process-wide engine: cranelift at speed, epoch interruption driven by one ticker thread.
///
/// # Errors
/// When wasmtime rejects the configuration (an unsupported host).
pub fn engine() -> Result<Engine> {
    static ENGINE: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config
            .cranelift_opt_level(OptLevel::Speed)
            .epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| format!("{e:#}"))?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(|e| format!("cannot start the epoch ticker: {e}"))?;
        Ok(engine)
    });
    engine
        .clone()
        .map_err(|e| anyhow!("cannot configure wasmtime: {e}"))
}

/// The workspace root, where `bundles/` and `target/` live.
pub fn workspace_root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    dir.parent().unwrap_or(dir).to_path_buf()
}

/// The environment variable that overrides [`default_module_path`].
pub const MODULE_ENV: &str = "RUNNER_POLICY_MODULE";

/// The module to load: `$RUNNER_POLICY_MODULE` when set, else `bundles/dist/policy.wasm`
/// relative to the current directory when it exists there, else below the workspace root this
/// crate was built in.
pub fn default_module_path() -> PathBuf {
    if let Some(path) = std::env::var_os(MODULE_ENV) {
        return PathBuf::from(path);
    }
    let relative = Path::new("bundles/dist/policy.wasm");
    if relative.exists() {
        relative.to_path_buf()
    } else {
        workspace_root().join(relative)
    }
}

/// Where compiled modules are cached: `$CARGO_TARGET_DIR/opa-wasm-cache` or
/// `<workspace>/target/opa-wasm-cache`.
fn cache_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("opa-wasm-cache")
}

/// A compiled policy module plus every host import, ready to instantiate.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    module: Module,
    linker: Linker<HostState>,
    wasm_len: usize,
    limits: Limits,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("wasm_len", &self.wasm_len)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Loads and compiles (or fetches from the cache) the module at `path`.
    ///
    /// # Errors
    /// When the file is missing (the message says to run `cargo xtask dist`), is not valid
    /// wasm, or does not import a memory.
    ///
    /// # Examples
    /// ```no_run
    /// let runtime = host_tests::host::Runtime::load(&host_tests::host::default_module_path())?;
    /// println!("{} bytes of wasm", runtime.wasm_len());
    /// # anyhow::Ok(())
    /// ```
    pub fn load(path: &Path) -> Result<Self> {
        let wasm = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} not found: run `cargo xtask dist` to build the policy module",
                path.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Self::from_bytes(&wasm).with_context(|| format!("cannot load {}", path.display()))
    }

    /// Compiles (or fetches from the cache) a module from its bytes.
    ///
    /// # Errors
    /// When the bytes are not a valid wasm module or it does not import `env.memory`.
    pub fn from_bytes(wasm: &[u8]) -> Result<Self> {
        let engine = engine()?;
        let module = compile_cached(&engine, wasm)?;
        ensure!(
            memory_import(&module).is_some(),
            "the module does not import `env.memory` (build it with --import-memory)"
        );
        let mut linker = Linker::new(&engine);
        link_host_imports(&mut linker)?;
        Ok(Runtime {
            engine,
            module,
            linker,
            wasm_len: wasm.len(),
            limits: Limits::default(),
        })
    }

    /// The same runtime with other limits for the stores it creates.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Size of the wasm module in bytes.
    pub fn wasm_len(&self) -> usize {
        self.wasm_len
    }

    /// The compiled module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Instantiates the module and loads `data` as the data document.
    ///
    /// # Errors
    /// When instantiation fails, an export is missing or has the wrong type, or the module
    /// cannot parse `data`.
    pub fn instantiate(&self, data: &Value) -> Result<Policy> {
        Policy::new(self, data)
    }
}

/// The module's minimum memory import, in pages.
fn memory_import(module: &Module) -> Option<u64> {
    module.imports().find_map(
        |import| match (import.module(), import.name(), import.ty()) {
            ("env", "memory", ExternType::Memory(ty)) => Some(ty.minimum()),
            _ => None,
        },
    )
}

/// Compiles `wasm`, memoised per process and cached on disk by a hash of the bytes and of the
/// engine's compatibility settings.
fn compile_cached(engine: &Engine, wasm: &[u8]) -> Result<Module> {
    static MEMO: OnceLock<Mutex<HashMap<u64, Module>>> = OnceLock::new();
    let mut hasher = std::hash::DefaultHasher::new();
    wasm.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let key = hasher.finish();
    let memo = MEMO.get_or_init(Mutex::default);
    if let Some(module) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(module);
    }
    let file = cache_dir().join(format!("policy-{key:016x}.cwasm"));
    // SAFETY: the file was written by `Module::serialize` below for this engine configuration
    // (the key covers the engine's compatibility hash); wasmtime still checks its header and
    // we fall back to compiling on any error.
    let cached = file
        .exists()
        .then(|| unsafe { Module::deserialize_file(engine, &file) }.ok())
        .flatten();
    let module = match cached {
        Some(module) => module,
        None => {
            let module = wt(Module::new(engine, wasm)).context("not a valid wasm module")?;
            // A failed cache write only costs a recompilation next time.
            if let Ok(bytes) = module.serialize() {
                let _ = write_atomically(&file, &bytes);
            }
            module
        }
    };
    if let Ok(mut memo) = memo.lock() {
        memo.insert(key, module.clone());
    }
    Ok(module)
}

/// Writes through a temporary file and a rename, so concurrent tests never read half a file.
fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)
}

/// Reads a NUL-terminated string at `addr`, bounds-checked.
fn read_cstr(memory: &[u8], addr: Addr) -> Result<&[u8]> {
    let tail = memory.get(addr.offset()..).with_context(|| {
        format!(
            "string address {:#x} is outside memory ({} bytes)",
            addr.0,
            memory.len()
        )
    })?;
    let end = tail
        .iter()
        .position(|&b| b == 0)
        .with_context(|| format!("string at {:#x} has no NUL terminator", addr.0))?;
    Ok(tail.get(..end).unwrap_or_default())
}

/// A message from `opa_abort`/`opa_println`, lossily decoded and bounded.
fn message(caller: &Caller<'_, HostState>, addr: i32) -> String {
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

fn builtin_trap(arity: usize, id: i32) -> wasmtime::Error {
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
pub fn link_host_imports(linker: &mut Linker<HostState>) -> Result<()> {
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

/// A fresh store with the module's memory and an instance, before any export is called.
fn instantiate_raw(runtime: &Runtime) -> Result<(Store<HostState>, Memory, wasmtime::Instance)> {
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
fn call_bounded<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
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
type OpaEvalParams = (i32, i32, i32, i32, i32, i32, i32);

/// The exports this host calls, typed once at instantiation.
struct Exports {
    opa_eval: TypedFunc<OpaEvalParams, i32>,
    opa_malloc: TypedFunc<i32, i32>,
    opa_json_parse: TypedFunc<(i32, i32), i32>,
    opa_json_dump: TypedFunc<i32, i32>,
    opa_heap_ptr_get: TypedFunc<(), i32>,
    opa_heap_ptr_set: TypedFunc<i32, ()>,
    entrypoints: TypedFunc<(), i32>,
    builtins: TypedFunc<(), i32>,
    opa_eval_ctx_new: TypedFunc<(), i32>,
    opa_eval_ctx_set_input: TypedFunc<(i32, i32), ()>,
    opa_eval_ctx_set_data: TypedFunc<(i32, i32), ()>,
    opa_eval_ctx_set_entrypoint: TypedFunc<(i32, i32), ()>,
    opa_eval_ctx_get_result: TypedFunc<i32, i32>,
    eval: TypedFunc<i32, i32>,
}

/// One instance of the policy module with its data document loaded.
pub struct Policy {
    store: Store<HostState>,
    memory: Memory,
    exports: Exports,
    entrypoints: BTreeMap<String, EntrypointId>,
    data: ValueAddr,
    /// The heap pointer just after the data document: every evaluation starts here.
    base_heap: Addr,
    timeout_ticks: u64,
    abi_version: Option<(i32, i32)>,
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
    /// use host_tests::host::{Policy, Runtime, default_module_path};
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

    fn read_entrypoints(&mut self) -> Result<BTreeMap<String, EntrypointId>> {
        let value = self.entrypoints_value()?;
        let json = self.opa_json_dump(value)?;
        let map: BTreeMap<String, i32> = serde_json::from_slice(self.read_cstr(json)?)
            .context("entrypoints() is not a JSON object of ids")?;
        Ok(map
            .into_iter()
            .map(|(name, id)| (name, EntrypointId(id)))
            .collect())
    }

    fn load_data(&mut self, data: &Value) -> Result<ValueAddr> {
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

    fn call<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
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
    fn ensure_memory(&mut self, end: u64) -> Result<()> {
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
    /// # let runtime = host_tests::host::Runtime::load(&host_tests::host::default_module_path())?;
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

struct TypedExports<'a> {
    instance: wasmtime::Instance,
    store: &'a mut Store<HostState>,
}

impl TypedExports<'_> {
    fn get<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        wt(self.instance.get_typed_func(&mut *self.store, name))
            .with_context(|| format!("export `{name}` is missing or has the wrong signature"))
    }
}

/// A wasmtime result as an anyhow result (wasmtime's error type has no `Context`).
fn wt<T>(result: wasmtime::Result<T>) -> Result<T> {
    result.map_err(anyhow::Error::from)
}

fn timeout_ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_millis().div_ceil(TICK.as_millis()).max(1);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

fn len_u32(len: usize) -> Result<u32> {
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

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

#[cfg(test)]
mod tests {
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

    fn call(name: &str, timeout: Duration) -> (Result<()>, HostState) {
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
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("abort aborted: boom"), "{err}");
        assert_eq!(state.aborts, ["boom"]);

        let (result, state) = call("print", Duration::from_secs(5));
        result.unwrap();
        assert_eq!(state.prints, ["hello"]);

        let (result, _) = call("builtin", Duration::from_secs(5));
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("opa_builtin0 (builtin id 7)"), "{err}");
    }

    #[test]
    fn a_runaway_module_is_interrupted() {
        let start = std::time::Instant::now();
        let (result, _) = call("spin", Duration::from_millis(50));
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("interrupted"), "{err}");
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
