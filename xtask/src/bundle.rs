//! `bundles/dist/bundle.tar.gz`: the module as an OPA bundle, the way `opa build -t wasm`
//! lays one out and OPA's bundle plugin (and the Go SDK's wasm resolvers) load it.
//!
//! - `/.manifest`: `bundles/opa/manifest.json` (roots, one `wasm` resolver per entrypoint,
//!   metadata) plus a `revision` derived from the bytes it ships, so a bundle server's ETag
//!   and OPA's status API change exactly when the content does.
//! - `/policy.wasm`: `bundles/dist/policy.wasm`, byte for byte.
//! - `/data.json`: `bundles/settings.example.yaml` as JSON (the data document is the settings).
//!
//! Roots are `[""]`: the settings' keys sit at the top of the data document, so the bundle owns
//! the whole tree (a narrower root such as `runners` would make OPA reject `data.org`).
//! The tarball is reproducible: fixed order, mtime 0, mode 0644, no owner names.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

/// Where the manifest's fixed part lives, relative to the workspace root.
pub const MANIFEST_SOURCE: &str = "bundles/opa/manifest.json";
/// The settings shipped as `/data.json`, relative to the workspace root.
pub const SETTINGS: &str = "bundles/settings.example.yaml";
/// The bundle written by [`write`], relative to the workspace root.
pub const OUTPUT: &str = "bundles/dist/bundle.tar.gz";

/// Writes `bundles/dist/bundle.tar.gz` for the module at `wasm`; returns its path.
///
/// # Errors
/// When a source file cannot be read or parsed, the manifest lacks a `wasm` list, or the
/// tarball cannot be written.
pub fn write(root: &Path, wasm: &Path) -> Result<PathBuf> {
    let module = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let settings = settings_json(root)?;
    let manifest = manifest(root, &module, &settings)?;

    let out = root.join(OUTPUT);
    let file = fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::best()));
    for (name, bytes) in [
        ("/.manifest", manifest.as_slice()),
        ("/policy.wasm", module.as_slice()),
        ("/data.json", settings.as_slice()),
    ] {
        append(&mut tar, name, bytes).with_context(|| format!("adding {name} to {OUTPUT}"))?;
    }
    let mut gz = tar.into_inner().context("finishing the tar stream")?;
    gz.flush()?;
    gz.finish().context("finishing the gzip stream")?;
    Ok(out)
}

/// The example settings as compact JSON text.
fn settings_json(root: &Path) -> Result<Vec<u8>> {
    let path = root.join(SETTINGS);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(serde_json::to_vec(&value)?)
}

/// The manifest: the checked-in source plus the revision.
fn manifest(root: &Path, module: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let path = root.join(MANIFEST_SOURCE);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut manifest: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let object = manifest
        .as_object_mut()
        .with_context(|| format!("{} is not a JSON object", path.display()))?;
    ensure!(
        object.get("wasm").is_some_and(Value::is_array),
        "{} has no `wasm` list of resolvers",
        path.display()
    );
    let revision = format!(
        "{}+{:016x}",
        env!("CARGO_PKG_VERSION"),
        fnv1a(&[module, data])
    );
    object.insert("revision".into(), Value::String(revision));
    Ok(serde_json::to_vec_pretty(&manifest)?)
}

/// Appends one regular file. The tar crate refuses absolute names through `set_path`, but OPA
/// writes (and expects) `/`-prefixed names, so the name goes into the header directly.
fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut header = tar::Header::new_ustar();
    let field = &mut header.as_old_mut().name;
    ensure!(
        name.len() < field.len(),
        "tar entry name `{name}` is too long"
    );
    field.fill(0);
    field
        .get_mut(..name.len())
        .context("tar entry name")?
        .copy_from_slice(name.as_bytes());
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    tar.append(&header, bytes)?;
    Ok(())
}

/// 64-bit FNV-1a over the parts, in order: a content hash without a crypto dependency.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
