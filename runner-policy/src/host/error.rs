//! What goes wrong at the host boundary, as variants callers branch on; the messages say what
//! happened and, where there is one, what to do.

use std::path::PathBuf;

/// An error of the host: loading, instantiating or calling the module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// wasmtime rejected the engine configuration (an unsupported host).
    #[error("cannot configure wasmtime: {0}")]
    Engine(String),
    /// The module file does not exist.
    #[error("{} not found: run `cargo xtask dist` to build the policy module", .0.display())]
    ModuleNotFound(PathBuf),
    /// The module file exists but cannot be read.
    #[error("cannot read {}", path.display())]
    ReadModule {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The module at `path` cannot be used; `source` says why.
    #[error("cannot load {}", path.display())]
    LoadModule {
        path: PathBuf,
        #[source]
        source: Box<HostError>,
    },
    /// The bytes are not a wasm module this host can compile and instantiate.
    #[error("{what}")]
    BadModule {
        what: String,
        #[source]
        source: Option<WasmError>,
    },
    /// The module does not have the shape of the OPA ABI: imports, exports or what they return.
    #[error("{what}")]
    AbiMismatch {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An export ran past [`Limits::timeout`](super::Limits::timeout).
    #[error("{export} ran past the time limit and was interrupted (a runaway module?)")]
    Interrupted {
        export: String,
        #[source]
        source: WasmError,
    },
    /// The module called `opa_abort`.
    #[error("{export} aborted: {message}")]
    Aborted {
        export: String,
        message: String,
        #[source]
        source: WasmError,
    },
    /// Any other trap (a host import's error, unreachable, out-of-bounds access...).
    #[error("{export} trapped")]
    Trap {
        export: String,
        #[source]
        source: WasmError,
    },
    /// The module has no entrypoint of that name.
    #[error("the module has no entrypoint `{name}` (it has: {})", known.join(", "))]
    UnknownEntrypoint { name: String, known: Vec<String> },
    /// The module could not parse a document the host gave it (`opa_json_parse` returned 0).
    #[error("the module could not parse the {0} (opa_json_parse returned 0)")]
    Unparsable(Document),
    /// An input or allocation too large for the module's 32-bit address space.
    #[error("{0}")]
    TooLarge(&'static str),
    /// A memory access outside linear memory, or memory that cannot grow.
    #[error("{what}")]
    Memory {
        what: String,
        #[source]
        source: Option<WasmError>,
    },
    /// `eval` returned an OPA error code other than `OPA_ERR_OK`.
    #[error("eval returned OPA error code {0}")]
    EvalCode(i32),
    /// What an entrypoint returned is not the one-element result set of the ABI.
    #[error("{context}")]
    BadResult {
        context: String,
        #[source]
        source: Box<HostError>,
    },
    /// The text is not a result set `[{"result": X}]`.
    #[error("{what}")]
    NotAResultSet {
        what: String,
        #[source]
        source: Option<serde_json::Error>,
    },
}

/// The documents the host has the module parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The data document (the settings), parsed once per instance.
    Data,
    /// The input of one evaluation (ABI 1.0 context path).
    Input,
}

impl std::fmt::Display for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Document::Data => "data document",
            Document::Input => "input as JSON",
        })
    }
}

/// A wasmtime error with its chain, as a standard error (wasmtime's is `anyhow::Error`).
#[derive(Debug)]
pub struct WasmError(pub anyhow::Error);

impl std::fmt::Display for WasmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<wasmtime::Error> for WasmError {
    fn from(error: wasmtime::Error) -> Self {
        WasmError(anyhow::Error::from(error))
    }
}

impl std::error::Error for WasmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl HostError {
    /// The error under the context wrappers ([`HostError::LoadModule`],
    /// [`HostError::BadResult`]): what to branch on.
    pub fn root(&self) -> &HostError {
        match self {
            HostError::LoadModule { source, .. } | HostError::BadResult { source, .. } => {
                source.root()
            }
            other => other,
        }
    }

    pub(crate) fn bad_module(what: impl Into<String>, source: wasmtime::Error) -> Self {
        HostError::BadModule {
            what: what.into(),
            source: Some(WasmError::from(source)),
        }
    }

    pub(crate) fn abi(what: impl Into<String>) -> Self {
        HostError::AbiMismatch {
            what: what.into(),
            source: None,
        }
    }

    pub(crate) fn abi_because(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        HostError::AbiMismatch {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn memory(what: impl Into<String>) -> Self {
        HostError::Memory {
            what: what.into(),
            source: None,
        }
    }

    pub(crate) fn not_a_result_set(what: impl Into<String>) -> Self {
        HostError::NotAResultSet {
            what: what.into(),
            source: None,
        }
    }
}

/// The result type of the host.
pub type HostResult<T> = std::result::Result<T, HostError>;
