//! The wasm32 target the module is built for. `rust-toolchain.toml` names it, but rustup does
//! not add a toolchain file's targets to a linked toolchain (nor where `RUSTUP_AUTO_INSTALL=0`),
//! so every task that builds the module makes sure it is there first.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Makes sure the active toolchain (for the workspace at `root`) can build for
/// [`WASM_TARGET`]: adds the target through rustup when it is missing.
///
/// # Errors
/// When the target is missing and rustup is not there to add it, or adding it fails.
pub fn ensure_wasm_target(root: &Path) -> Result<()> {
    let sysroot = sysroot(root)?;
    let lib = sysroot.join("lib/rustlib").join(WASM_TARGET);
    if lib.is_dir() {
        return Ok(());
    }
    eprintln!(
        "the Rust toolchain at {} lacks the {WASM_TARGET} target; adding it with rustup",
        sysroot.display()
    );
    let status = Command::new("rustup")
        .current_dir(root)
        .args(["target", "add", WASM_TARGET])
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => bail!(
            "`rustup target add {WASM_TARGET}` failed ({s}); add the target to the toolchain \
             at {} and run the task again",
            sysroot.display()
        ),
        Err(_) => bail!(
            "the Rust toolchain at {} has no {WASM_TARGET} target and rustup is not on PATH: \
             install the target's standard library for this toolchain (with rustup: `rustup \
             target add {WASM_TARGET}`; from a distribution: its rust-std package for \
             {WASM_TARGET}), then run the task again",
            sysroot.display()
        ),
    }
}

/// The sysroot of the `rustc` that cargo uses in `root`.
fn sysroot(root: &Path) -> Result<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .current_dir(root)
        .args(["--print", "sysroot"])
        .output()
        .with_context(|| format!("cannot run `{rustc} --print sysroot`: is Rust installed?"))?;
    if !out.status.success() {
        bail!(
            "`{rustc} --print sysroot` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}
