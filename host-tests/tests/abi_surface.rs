//! The module's surface is exactly OPA Wasm ABI 1.3 (docs/design.md, the ABI): its imports,
//! its exports with their signatures, the version globals, the memory import and the size
//! budget. Reads `bundles/dist/policy.wasm`, which `cargo xtask dist` builds.

use std::collections::BTreeMap;
use std::path::PathBuf;

use wasmparser::{CompositeInnerType, ExternalKind, Operator, Parser, Payload, TypeRef, ValType};

const I32: ValType = ValType::I32;

/// The size budget `cargo xtask dist` enforces: 150 KB.
const MAX_MODULE_BYTES: usize = 150_000;

/// A function signature: parameters and results.
type Sig = (Vec<ValType>, Vec<ValType>);

fn sig(params: usize, results: usize) -> Sig {
    (vec![I32; params], vec![I32; results])
}

/// The host functions the module must import from `env`, with their OPA signatures.
fn expected_imports() -> BTreeMap<&'static str, Sig> {
    BTreeMap::from([
        ("opa_abort", sig(1, 0)),
        ("opa_println", sig(1, 0)),
        ("opa_builtin0", sig(2, 1)),
        ("opa_builtin1", sig(3, 1)),
        ("opa_builtin2", sig(4, 1)),
        ("opa_builtin3", sig(5, 1)),
        ("opa_builtin4", sig(6, 1)),
    ])
}

/// The functions of the ABI 1.3 export set, with their signatures.
fn expected_function_exports() -> BTreeMap<&'static str, Sig> {
    BTreeMap::from([
        ("eval", sig(1, 1)),
        ("builtins", sig(0, 1)),
        ("entrypoints", sig(0, 1)),
        ("opa_eval_ctx_new", sig(0, 1)),
        ("opa_eval_ctx_set_input", sig(2, 0)),
        ("opa_eval_ctx_set_data", sig(2, 0)),
        ("opa_eval_ctx_set_entrypoint", sig(2, 0)),
        ("opa_eval_ctx_get_result", sig(1, 1)),
        ("opa_malloc", sig(1, 1)),
        ("opa_free", sig(1, 0)),
        ("opa_json_parse", sig(2, 1)),
        ("opa_value_parse", sig(2, 1)),
        ("opa_json_dump", sig(1, 1)),
        ("opa_value_dump", sig(1, 1)),
        ("opa_heap_ptr_set", sig(1, 0)),
        ("opa_heap_ptr_get", sig(0, 1)),
        ("opa_value_add_path", sig(3, 1)),
        ("opa_value_remove_path", sig(2, 1)),
        ("opa_value_free", sig(1, 0)),
        ("opa_heap_blocks_stash", sig(0, 0)),
        ("opa_heap_blocks_restore", sig(0, 0)),
        ("opa_heap_stash_clear", sig(0, 0)),
        ("opa_eval", sig(7, 1)),
    ])
}

/// What the test reads out of the module.
#[derive(Default)]
struct Surface {
    size: usize,
    /// Function imports: (module, name) -> signature.
    func_imports: BTreeMap<(String, String), Sig>,
    /// Memory imports: (module, name) -> (initial pages, maximum pages).
    memory_imports: BTreeMap<(String, String), (u64, Option<u64>)>,
    /// Other imports (tables, globals, tags): (module, name).
    other_imports: Vec<(String, String)>,
    /// Exports: name -> (kind, index).
    exports: BTreeMap<String, (ExternalKind, u32)>,
    /// Signatures of all functions, imported first.
    func_sigs: Vec<Sig>,
    /// Globals defined by the module: (mutable, type, i32 constant initialiser).
    globals: Vec<(bool, ValType, Option<i32>)>,
}

fn module_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bundles/dist/policy.wasm")
}

fn surface() -> Surface {
    let path = module_path();
    let bytes = std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; run `cargo xtask dist`",
            path.display()
        )
    });
    wasmparser::validate(&bytes).expect("the module is valid wasm");

    let mut s = Surface {
        size: bytes.len(),
        ..Surface::default()
    };
    let mut types: Vec<Sig> = Vec::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("the module parses") {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.expect("type").into_types() {
                        match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => {
                                types.push((f.params().to_vec(), f.results().to_vec()))
                            }
                            other => panic!("unexpected non-function type {other:?}"),
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader {
                    let import = import.expect("import");
                    let key = (import.module.to_owned(), import.name.to_owned());
                    match import.ty {
                        TypeRef::Func(ty) => {
                            let sig = types[ty as usize].clone();
                            s.func_sigs.push(sig.clone());
                            s.func_imports.insert(key, sig);
                        }
                        TypeRef::Memory(m) => {
                            s.memory_imports.insert(key, (m.initial, m.maximum));
                        }
                        _ => s.other_imports.push(key),
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    s.func_sigs
                        .push(types[ty.expect("function") as usize].clone());
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global.expect("global");
                    let mut ops = global.init_expr.get_operators_reader();
                    let value = match ops.read().expect("init expression") {
                        Operator::I32Const { value } => Some(value),
                        _ => None,
                    };
                    s.globals
                        .push((global.ty.mutable, global.ty.content_type, value));
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.expect("export");
                    s.exports
                        .insert(export.name.to_owned(), (export.kind, export.index));
                }
            }
            _ => {}
        }
    }
    s
}

#[test]
fn imports_are_env_memory_and_the_opa_host_functions() {
    let s = surface();
    let env = |name: &str| ("env".to_owned(), name.to_owned());

    assert_eq!(
        s.memory_imports.keys().cloned().collect::<Vec<_>>(),
        vec![env("memory")],
        "the only memory is imported as env.memory"
    );
    let (initial, maximum) = s.memory_imports[&env("memory")];
    assert!(
        initial <= 2,
        "env.memory minimum is {initial} pages, at most 2 allowed"
    );
    assert_eq!(maximum, None, "env.memory must have no maximum");
    assert!(
        s.other_imports.is_empty(),
        "unexpected imports: {:?}",
        s.other_imports
    );

    let expected: BTreeMap<_, _> = expected_imports()
        .into_iter()
        .map(|(name, sig)| (env(name), sig))
        .collect();
    assert_eq!(s.func_imports, expected, "function imports");
}

#[test]
fn exports_are_exactly_the_abi_1_3_set() {
    let s = surface();
    let mut expected: Vec<String> = expected_function_exports()
        .keys()
        .map(|n| n.to_string())
        .collect();
    expected.extend(
        [
            "memory",
            "opa_wasm_abi_version",
            "opa_wasm_abi_minor_version",
        ]
        .map(String::from),
    );
    expected.sort();
    assert_eq!(s.exports.keys().cloned().collect::<Vec<_>>(), expected);

    assert_eq!(
        s.exports["memory"],
        (ExternalKind::Memory, 0),
        "memory exports the imported memory"
    );
    for (name, sig) in expected_function_exports() {
        let (kind, index) = s.exports[name];
        assert_eq!(kind, ExternalKind::Func, "{name} is a function");
        assert_eq!(s.func_sigs[index as usize], sig, "signature of {name}");
    }
}

#[test]
fn abi_version_globals_are_immutable_i32_1_and_3() {
    let s = surface();
    for (name, value) in [
        ("opa_wasm_abi_version", 1),
        ("opa_wasm_abi_minor_version", 3),
    ] {
        let (kind, index) = s.exports[name];
        assert_eq!(kind, ExternalKind::Global, "{name} is a global");
        // The module imports no globals, so the index is into its own global section.
        let (mutable, ty, init) = s.globals[index as usize];
        assert!(!mutable, "{name} is immutable");
        assert_eq!(ty, I32, "{name} is an i32");
        assert_eq!(init, Some(value), "{name} = {value}");
    }
}

#[test]
fn module_stays_under_the_size_ceiling() {
    let s = surface();
    assert!(
        s.size <= MAX_MODULE_BYTES,
        "module is {} bytes, over the {MAX_MODULE_BYTES}-byte ceiling",
        s.size
    );
}
