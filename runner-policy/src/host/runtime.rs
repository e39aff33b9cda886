//! The engine, the module (compiled once, cached on disk) and where to find them.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;
use wasmtime::{Config, Engine, ExternType, Linker, Module, OptLevel};

use super::TICK;
use super::error::{HostError, HostResult};
use super::imports::{HostState, link_host_imports};
use super::policy::Policy;
use super::types::Limits;

/// Whether compiled code checks the host's deadline ([`super::Limits::timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deadline {
    /// Epoch interruption: a check at every loop back-edge and function entry, driven by one
    /// ticker thread. What every command runs with.
    #[default]
    Epoch,
    /// No checks and no time limit: a module that never returns hangs its caller. For
    /// measuring what the checks cost (`bench --no-deadline`), as a host without a deadline
    /// runs the module.
    Off,
}

/// The process-wide engine: cranelift at speed, epoch interruption driven by one ticker thread.
///
/// # Errors
/// When wasmtime rejects the configuration (an unsupported host).
pub fn engine() -> HostResult<Engine> {
    engine_for(Deadline::Epoch)
}

/// The process-wide engine for `deadline`.
///
/// # Errors
/// When wasmtime rejects the configuration (an unsupported host).
pub fn engine_for(deadline: Deadline) -> HostResult<Engine> {
    static EPOCH: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
    static OFF: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
    let new = |epoch: bool| -> std::result::Result<Engine, String> {
        let mut config = Config::new();
        config
            .cranelift_opt_level(OptLevel::Speed)
            .epoch_interruption(epoch);
        Engine::new(&config).map_err(|e| format!("{e:#}"))
    };
    let engine = match deadline {
        Deadline::Off => OFF.get_or_init(|| new(false)),
        Deadline::Epoch => EPOCH.get_or_init(|| {
            let engine = new(true)?;
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
        }),
    };
    engine.clone().map_err(HostError::Engine)
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
pub(crate) fn cache_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("opa-wasm-cache")
}

/// A compiled policy module plus every host import, ready to instantiate.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) module: Module,
    pub(crate) linker: Linker<HostState>,
    pub(crate) wasm_len: usize,
    pub(crate) limits: Limits,
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
    /// let runtime = runner_policy::host::Runtime::load(&runner_policy::host::default_module_path())?;
    /// println!("{} bytes of wasm", runtime.wasm_len());
    /// # anyhow::Ok(())
    /// ```
    pub fn load(path: &Path) -> HostResult<Self> {
        Self::load_with(path, Deadline::Epoch)
    }

    /// [`Runtime::load`] on the engine for `deadline`.
    ///
    /// # Errors
    /// As [`Runtime::load`].
    pub fn load_with(path: &Path, deadline: Deadline) -> HostResult<Self> {
        let wasm = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(HostError::ModuleNotFound(path.to_path_buf()));
            }
            Err(source) => {
                return Err(HostError::ReadModule {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Self::from_bytes_with(&wasm, deadline).map_err(|e| HostError::LoadModule {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Compiles (or fetches from the cache) a module from its bytes.
    ///
    /// # Errors
    /// When the bytes are not a valid wasm module or it does not import `env.memory`.
    pub fn from_bytes(wasm: &[u8]) -> HostResult<Self> {
        Self::from_bytes_with(wasm, Deadline::Epoch)
    }

    /// [`Runtime::from_bytes`] on the engine for `deadline`.
    ///
    /// # Errors
    /// As [`Runtime::from_bytes`].
    pub fn from_bytes_with(wasm: &[u8], deadline: Deadline) -> HostResult<Self> {
        let engine = engine_for(deadline)?;
        let module = compile_cached(&engine, wasm)?;
        if memory_import(&module).is_none() {
            return Err(HostError::abi(
                "the module does not import `env.memory` (build it with --import-memory)",
            ));
        }
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
    pub fn instantiate(&self, data: &Value) -> HostResult<Policy> {
        Policy::new(self, data)
    }
}

/// The module's minimum memory import, in pages.
pub(crate) fn memory_import(module: &Module) -> Option<u64> {
    module.imports().find_map(
        |import| match (import.module(), import.name(), import.ty()) {
            ("env", "memory", ExternType::Memory(ty)) => Some(ty.minimum()),
            _ => None,
        },
    )
}

/// Compiles `wasm`, memoised per process and cached on disk by a hash of the bytes and of the
/// engine's compatibility settings.
pub(crate) fn compile_cached(engine: &Engine, wasm: &[u8]) -> HostResult<Module> {
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
            let module = Module::new(engine, wasm)
                .map_err(|e| HostError::bad_module("not a valid wasm module", e))?;
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
pub(crate) fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)
}
