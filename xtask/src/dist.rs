//! `cargo xtask dist`: builds `bundles/dist/policy.wasm`, the module every engine loads, and
//! packages it: `bundle.tar.gz` (OPA bundle, [`crate::bundle`]) and `kubewarden-policy.wasm`
//! (Kubewarden, [`crate::kubewarden`]).
//!
//! 1. `cargo build --release --target wasm32-unknown-unknown -p policy` (the import-memory and
//!    stack-size link flags come from `.cargo/config.toml`).
//! 2. Post-link with walrus, because the linker cannot express these:
//!    - immutable i32 globals `opa_wasm_abi_version` = 1 and `opa_wasm_abi_minor_version` = 3
//!      (a `#[no_mangle] static` would export an address, not a value);
//!    - the imported memory exported again as `memory` (ABI 1.1);
//!    - only the ABI's exports kept (`__data_end`, `__heap_base`... go);
//!    - the `env.memory` import with a minimum of at most 2 pages and no maximum.
//! 3. Optimise with binaryen's `wasm-opt -Os` (the npm package `binaryen`, pinned in
//!    `xtask/wasm-opt/package-lock.json` and installed there with `npm ci` on first use), then
//!    check that the post-link invariants above still hold.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use walrus::{ConstExpr, ExportItem, Module, ValType, ir::Value};

/// The OPA Wasm ABI version this module speaks.
pub const ABI_VERSION: (i32, i32) = (1, 3);

/// The largest `env.memory` minimum (in 64 KiB pages) hosts accept without a custom memory.
pub const MAX_INITIAL_PAGES: u64 = 2;

/// The size budget of the module: 150 KB (150,000 bytes). `dist` fails on a larger module:
/// growth must be paid for where it happens.
pub const MAX_MODULE_BYTES: u64 = 150_000;

/// The functions of the ABI 1.3 export set (besides `memory` and the two version globals).
pub const ABI_FUNCTIONS: &[&str] = &[
    "opa_eval",
    "eval",
    "opa_eval_ctx_new",
    "opa_eval_ctx_set_input",
    "opa_eval_ctx_set_data",
    "opa_eval_ctx_set_entrypoint",
    "opa_eval_ctx_get_result",
    "opa_malloc",
    "opa_free",
    "opa_json_parse",
    "opa_value_parse",
    "opa_json_dump",
    "opa_value_dump",
    "opa_heap_ptr_get",
    "opa_heap_ptr_set",
    "opa_value_add_path",
    "opa_value_remove_path",
    "opa_value_free",
    "opa_heap_blocks_stash",
    "opa_heap_blocks_restore",
    "opa_heap_stash_clear",
    "entrypoints",
    "builtins",
];

pub fn run(args: &[&str]) -> Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask dist");
    }
    let root = crate::project_root();
    let module = build_module(&root)?;
    let size = fs::metadata(&module)?.len();
    println!(
        "{}: {size} bytes (budget {MAX_MODULE_BYTES})",
        module.strip_prefix(&root).unwrap_or(&module).display(),
    );
    Ok(())
}

/// Builds the policy for wasm32, post-links it into an OPA Wasm ABI 1.3 module and writes
/// `bundles/dist/policy.wasm` under `root` (the workspace root). Returns that path.
///
/// # Errors
/// If cargo fails, the module cannot be parsed, an ABI export is missing, the memory minimum
/// exceeds [`MAX_INITIAL_PAGES`] or the module exceeds [`MAX_MODULE_BYTES`].
pub fn build_module(root: &Path) -> Result<PathBuf> {
    crate::toolchain::ensure_wasm_target(root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--target",
            crate::toolchain::WASM_TARGET,
            "-p",
            "policy",
        ])
        .status()
        .context("running cargo build")?;
    ensure!(status.success(), "cargo build of the policy module failed");

    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let built = target_dir.join("wasm32-unknown-unknown/release/policy.wasm");
    let bytes = fs::read(&built).with_context(|| format!("reading {}", built.display()))?;
    let linked = post_link(&bytes)?;
    let wasm = wasm_opt(root, &target_dir, &linked)?;
    check_abi(&wasm).context("the module after wasm-opt")?;

    let dist = root.join("bundles/dist");
    fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;
    let out = dist.join("policy.wasm");
    fs::write(&out, &wasm).with_context(|| format!("writing {}", out.display()))?;
    crate::gatekeeper::generate(root, false)?;
    // The packages are written even when the size check below fails, so that the hosts and
    // tests can run on the module while it is being brought back under budget.
    for written in [
        crate::bundle::write(root, &out)?,
        crate::kubewarden::write(root, &out)?,
        crate::playground::write(root, &out)?,
        crate::vap::write(root)?,
    ] {
        println!(
            "{}",
            written.strip_prefix(root).unwrap_or(&written).display()
        );
    }
    ensure!(
        wasm.len() as u64 <= MAX_MODULE_BYTES,
        "{} is {} bytes, over the {MAX_MODULE_BYTES}-byte budget: find what grew (docs/performance.md)",
        out.display(),
        wasm.len()
    );
    Ok(out)
}

/// Turns the linker's output into the ABI module (see the module docs).
pub fn post_link(wasm: &[u8]) -> Result<Vec<u8>> {
    let mut module = Module::from_buffer(wasm).context("parsing the linked module")?;

    let memory = {
        let mut memories = module.memories.iter_mut();
        let memory = memories.next().context("the module has no memory")?;
        ensure!(
            memories.next().is_none(),
            "the module has more than one memory"
        );
        ensure!(
            memory.import.is_some(),
            "the memory is not imported (link with --import-memory)"
        );
        ensure!(
            memory.initial <= MAX_INITIAL_PAGES,
            "env.memory needs {} pages, more than {MAX_INITIAL_PAGES}: shrink the stack or static data",
            memory.initial
        );
        memory.maximum = None;
        memory.id()
    };

    // Keep only the ABI functions; everything else the linker exported goes.
    let stray: Vec<_> = module
        .exports
        .iter()
        .filter(|e| {
            !matches!(e.item, ExportItem::Function(_)) || !ABI_FUNCTIONS.contains(&e.name.as_str())
        })
        .map(|e| e.id())
        .collect();
    for id in stray {
        module.exports.delete(id);
    }
    for name in ABI_FUNCTIONS {
        module
            .exports
            .get_func(name)
            .with_context(|| format!("the module does not export `{name}`"))?;
    }

    module.exports.add("memory", memory);
    let (major, minor) = ABI_VERSION;
    for (name, version) in [
        ("opa_wasm_abi_version", major),
        ("opa_wasm_abi_minor_version", minor),
    ] {
        let global = module.globals.add_local(
            ValType::I32,
            false,
            false,
            ConstExpr::Value(Value::I32(version)),
        );
        module.exports.add(name, global);
    }

    // Nothing but the module itself: no producers section from walrus.
    module.producers.clear();
    let custom: Vec<_> = module.customs.iter().map(|(id, _)| id).collect();
    for id in custom {
        module.customs.delete(id);
    }
    Ok(module.emit_wasm())
}

/// The binaryen version `xtask/wasm-opt/package.json` pins.
const BINARYEN_VERSION: &str = "132.0.0";

/// `wasm-opt` flags: the wasm features rustc's wasm32 target enables (and the module uses), so
/// that wasm-opt accepts the module without adding any, `-Os`, then four size passes. Each of
/// the last three was measured alone after `-Os --merge-similar-functions` (bytes; instructions
/// per evaluation of the dind job pod, epoch interruption on):
/// - `--merge-similar-functions`: merges functions that differ only in constants (the `Slot`
///   readers of each field type, the rules' message builders): 2.5 KB for 0.6% more
///   instructions, when it was first measured;
/// - `--low-memory-unused`: folds a constant added to an address into the load or store, which
///   is only valid if the lowest 1 KiB of memory is never addressed. That 1 KiB is the bottom of
///   the 64 KiB stack (the linker puts the stack first); `host-tests/tests/host.rs` shows the
///   deepest inputs use under three quarters of the stack (39,464 bytes). 707 bytes and about
///   800 instructions fewer;
/// - `--const-hoisting`: a large constant used many times in a function (a data address) is
///   read from a local: 1,634 bytes, instructions unchanged (within a few dozen);
/// - `--reorder-functions`: the most-called functions get the smallest indices, so their calls
///   take fewer bytes: 1,064 bytes, instructions unchanged.
///
/// On the module rustc builds (mostly opt-level "z"), `-Os` is 1,774 bytes smaller than `-O3`
/// for about 0.9% more instructions; `-Oz` is larger than `-Os` here. Measured and not taken:
/// `--zero-filled-memory` (695 bytes: it drops the zeroed data the linker writes for statics,
/// which is only sound on a fresh memory, and the host owns the memory), `--converge` (97),
/// `--flatten --rereloop` (968 bytes; it rebuilds the control flow, its cost in instructions
/// was not measured).
const WASM_OPT_FLAGS: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-call-indirect-overlong",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "-Os",
    "--merge-similar-functions",
    "--low-memory-unused",
    "--const-hoisting",
    "--reorder-functions",
];

/// Runs binaryen's `wasm-opt` on the post-linked module, installing it first if needed.
fn wasm_opt(root: &Path, target_dir: &Path, wasm: &[u8]) -> Result<Vec<u8>> {
    let dir = root.join("xtask/wasm-opt");
    let binaryen = dir.join("node_modules/binaryen");
    let installed = fs::read_to_string(binaryen.join("package.json"))
        .is_ok_and(|text| text.contains(&format!("\"version\": \"{BINARYEN_VERSION}\"")));
    if !installed {
        crate::npm::ci(
            &dir,
            &format!("binaryen {BINARYEN_VERSION} (wasm-opt), to build the module"),
        )?;
    }
    let work = target_dir.join("wasm-opt");
    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let input = work.join("policy.linked.wasm");
    let output = work.join("policy.opt.wasm");
    fs::write(&input, wasm).with_context(|| format!("writing {}", input.display()))?;
    let status = Command::new("node")
        .arg(binaryen.join("bin/wasm-opt"))
        .args(WASM_OPT_FLAGS)
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run node ({e}): binaryen's wasm-opt needs Node 20"))?;
    ensure!(status.success(), "wasm-opt failed on {}", input.display());
    fs::read(&output).with_context(|| format!("reading {}", output.display()))
}

/// Checks the invariants of the post-link step on a finished module: exactly the ABI exports,
/// the immutable i32 version globals, and the `env.memory` import with a minimum of at most
/// [`MAX_INITIAL_PAGES`] and no maximum.
pub fn check_abi(wasm: &[u8]) -> Result<()> {
    let module = Module::from_buffer(wasm).context("parsing the module")?;
    let mut memories = module.memories.iter();
    let memory = memories.next().context("the module has no memory")?;
    ensure!(
        memories.next().is_none(),
        "the module has more than one memory"
    );
    let import = memory
        .import
        .map(|id| module.imports.get(id))
        .context("the memory is not imported")?;
    ensure!(
        (import.module.as_str(), import.name.as_str()) == ("env", "memory"),
        "the memory is imported as {}.{}, not env.memory",
        import.module,
        import.name
    );
    ensure!(
        memory.initial <= MAX_INITIAL_PAGES && memory.maximum.is_none(),
        "env.memory is {} pages minimum, maximum {:?}: at most {MAX_INITIAL_PAGES} and none wanted",
        memory.initial,
        memory.maximum
    );
    let (major, minor) = ABI_VERSION;
    let mut expected: Vec<&str> = ABI_FUNCTIONS.to_vec();
    expected.extend([
        "memory",
        "opa_wasm_abi_version",
        "opa_wasm_abi_minor_version",
    ]);
    expected.sort_unstable();
    let mut names: Vec<&str> = module.exports.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    ensure!(
        names == expected,
        "the exports are {names:?}, not the ABI set {expected:?}"
    );
    for export in module.exports.iter() {
        let ok = match export.item {
            ExportItem::Function(_) => ABI_FUNCTIONS.contains(&export.name.as_str()),
            ExportItem::Memory(id) => id == memory.id() && export.name == "memory",
            ExportItem::Global(id) => {
                let global = module.globals.get(id);
                let version = match export.name.as_str() {
                    "opa_wasm_abi_version" => major,
                    "opa_wasm_abi_minor_version" => minor,
                    _ => bail!("unexpected global export `{}`", export.name),
                };
                !global.mutable
                    && global.ty == ValType::I32
                    && matches!(
                        global.kind,
                        walrus::GlobalKind::Local(ConstExpr::Value(Value::I32(v))) if v == version
                    )
            }
            _ => false,
        };
        ensure!(ok, "export `{}` is not what the ABI wants", export.name);
    }
    Ok(())
}
