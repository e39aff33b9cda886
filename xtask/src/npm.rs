//! npm packages the build needs (binaryen's wasm-opt, the playground's SDK and YAML reader),
//! installed from their lock files.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, ensure};

/// Installs the npm packages locked in `dir` with `npm ci`; `what` says what they are for.
///
/// # Errors
/// When npm cannot run or fails.
pub fn ci(dir: &Path, what: &str) -> Result<()> {
    println!("installing {what}: npm ci in {}", dir.display());
    let status = Command::new("npm")
        .current_dir(dir)
        .args(["ci", "--no-audit", "--no-fund"])
        .status()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run npm ({e}): `cargo xtask dist` needs Node 20 with npm for {what}"
            )
        })?;
    ensure!(
        status.success(),
        "npm ci in {} failed: it installs {what}",
        dir.display()
    );
    Ok(())
}
