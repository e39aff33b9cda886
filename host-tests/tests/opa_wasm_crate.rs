//! matrix-org's `opa-wasm` crate, the other wasmtime host of this ABI on crates.io, loads the
//! module and agrees with this project's host (`runner_policy::host`) on every recorded request.
//! It drives the module its own way (its own data loading and `opa_eval` calls), so agreement
//! here is agreement with a host nobody on this team wrote.

use runner_policy::host::{Runtime, default_module_path};
use runner_policy::suite::{Suite, default_suite_path};
use serde_json::Value;

/// `opa-wasm` returns the result set; take `X` of `[{"result": X}]`.
fn result_of(set: Value) -> Value {
    match set {
        Value::Array(mut items) if items.len() == 1 => match items.remove(0) {
            Value::Object(mut o) if o.contains_key("result") => {
                o.remove("result").unwrap_or_default()
            }
            other => other,
        },
        other => other,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn opa_wasm_crate_agrees_with_this_host_on_every_recorded_request() {
    let path = default_module_path();
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask dist`", path.display()));
    let suite = Suite::load(&default_suite_path()).unwrap();
    let settings = runner_policy::settings::load(suite.settings.as_deref()).unwrap();

    let engine = opa_wasm::wasmtime::Engine::new(&opa_wasm::wasmtime::Config::new()).unwrap();
    let module = opa_wasm::wasmtime::Module::new(&engine, &bytes).unwrap();
    let mut store = opa_wasm::wasmtime::Store::new(&engine, ());
    let runtime = opa_wasm::Runtime::new(&mut store, &module).await.unwrap();
    let entrypoints: Vec<&str> = runtime.entrypoints().into_iter().collect();
    for name in ["runners/main", "runners/violation", "runners/decision"] {
        assert!(
            entrypoints.contains(&name),
            "opa-wasm sees entrypoints {entrypoints:?}"
        );
    }
    let theirs = runtime.with_data(&mut store, &settings).await.unwrap();

    let mut ours = Runtime::load(&path)
        .unwrap()
        .instantiate(&settings)
        .unwrap();
    for case in &suite.cases {
        let text = std::fs::read(&case.request).unwrap();
        let input: Value = serde_json::from_slice(&text).unwrap();
        for entrypoint in ["runners/decision", "runners/main"] {
            let got: Value = theirs
                .evaluate(&mut store, entrypoint, &input)
                .await
                .unwrap();
            let want = ours.evaluate(entrypoint, &text).unwrap();
            assert_eq!(result_of(got), want, "{} at {entrypoint}", case.name);
        }
    }
}
