//! Kubewarden's burrego call sequence (kubewarden/policy-evaluator, `crates/burrego/src/opa/`)
//! on `bundles/dist/policy.wasm`, in both Rego modes Kubewarden has, agrees with the wasmtime
//! host's `runners/decision` on every recorded request.
//!
//! What burrego does, and so what [`Burrego`] does:
//! - `Evaluator::new`: a 5-page memory (more than the module's minimum), instantiate;
//!   `Policy::new`: `push_json({})` (`opa_malloc` + copy + `opa_json_parse`) as the initial data,
//!   `opa_heap_ptr_get` (base heap); `builtins()` and `entrypoints()` through `pull_json`
//!   (`opa_json_dump`);
//! - `evaluate(entrypoint 0, input, data)`: `entrypoints()`, `set_data` (`opa_heap_ptr_set(base)`,
//!   `push_json(data)`, `opa_heap_ptr_get` = data heap), then `opa_heap_ptr_set(data heap)`,
//!   `push_json(input)`, `opa_eval_ctx_new`, `_set_input`, `_set_data`, `_set_entrypoint`,
//!   `eval`, `opa_eval_ctx_get_result`, `pull_json` of the result set. ABI 1.0 only: no
//!   `opa_eval`, no version check.
//!
//! Kubewarden always calls entrypoint 0 (`runners/main`), with
//! - `gatekeeper` mode: input `{"parameters": settings, "review": request}`, data `{}`; the
//!   result is a violations list, empty = allowed;
//! - `opa` mode: input `{"request": request}`, data = the settings; the result is an
//!   AdmissionReview whose `response.allowed` decides.

mod common;

use std::collections::BTreeSet;

use runner_policy::decision::Decision;
use runner_policy::host::{Runtime, default_module_path};
use serde_json::{Value, json};
use wasmtime::{Instance, Memory, Store, TypedFunc};

/// burrego's `Evaluator` + `Policy` + `StackHelper`.
struct Burrego {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    data_addr: i32,
    base_heap_ptr: i32,
    data_heap_ptr: i32,
}

impl Burrego {
    fn func<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
    ) -> TypedFunc<P, R> {
        self.instance
            .get_typed_func(&mut self.store, name)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"))
    }

    fn call<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(&mut self, name: &str, p: P) -> R {
        let f = self.func::<P, R>(name);
        f.call(&mut self.store, p)
            .unwrap_or_else(|e| panic!("{name} trapped: {e:?}"))
    }

    /// `StackHelper::push_json`.
    fn push_json(&mut self, value: &Value) -> i32 {
        let data = serde_json::to_vec(value).unwrap();
        let size = i32::try_from(data.len()).unwrap();
        let addr: i32 = self.call("opa_malloc", size);
        self.memory
            .write(&mut self.store, usize::try_from(addr).unwrap(), &data)
            .unwrap();
        let value: i32 = self.call("opa_json_parse", (addr, size));
        assert_ne!(value, 0, "Failed to load json in memory");
        value
    }

    /// `StackHelper::pull_json`.
    fn pull_json(&mut self, addr: i32) -> Value {
        let raw: i32 = self.call("opa_json_dump", addr);
        serde_json::from_str(&common::cstr(&self.memory, &self.store, raw)).unwrap()
    }

    /// `Evaluator::new`.
    fn new(runtime: &Runtime) -> Self {
        let (store, instance, memory) = common::instantiate(runtime, Some(5));
        let mut vm = Burrego {
            store,
            instance,
            memory,
            data_addr: 0,
            base_heap_ptr: 0,
            data_heap_ptr: 0,
        };
        vm.data_addr = vm.push_json(&json!({}));
        vm.base_heap_ptr = vm.call("opa_heap_ptr_get", ());
        vm.data_heap_ptr = vm.base_heap_ptr;
        let builtins: i32 = vm.call("builtins", ());
        assert_eq!(
            vm.pull_json(builtins),
            json!({}),
            "burrego would look these up"
        );
        vm
    }

    fn entrypoints(&mut self) -> Value {
        let addr: i32 = self.call("entrypoints", ());
        self.pull_json(addr)
    }

    /// `Evaluator::evaluate`: `X` of the result set `[{"result": X}]`.
    fn evaluate(&mut self, entrypoint_id: i32, input: &Value, data: &Value) -> Value {
        let entrypoints = self.entrypoints();
        assert!(
            entrypoints
                .as_object()
                .unwrap()
                .values()
                .any(|v| v == &json!(entrypoint_id)),
            "{entrypoints}"
        );
        // Policy::set_data
        let () = self.call("opa_heap_ptr_set", self.base_heap_ptr);
        self.data_addr = self.push_json(data);
        self.data_heap_ptr = self.call("opa_heap_ptr_get", ());
        // Policy::evaluate
        let () = self.call("opa_heap_ptr_set", self.data_heap_ptr);
        let input_addr = self.push_json(input);
        let ctx: i32 = self.call("opa_eval_ctx_new", ());
        let () = self.call("opa_eval_ctx_set_input", (ctx, input_addr));
        let () = self.call("opa_eval_ctx_set_data", (ctx, self.data_addr));
        let () = self.call("opa_eval_ctx_set_entrypoint", (ctx, entrypoint_id));
        let _: i32 = self.call("eval", ctx); // burrego ignores the error code
        let result: i32 = self.call("opa_eval_ctx_get_result", ctx);
        match self.pull_json(result) {
            Value::Array(mut set) if set.len() == 1 => set.pop().unwrap()["result"].take(),
            other => panic!("not a one-element result set: {other}"),
        }
    }
}

/// The wasmtime host's decision for every recorded request with the example settings.
fn host_decisions(runtime: &Runtime, settings: &Value) -> Vec<(String, Value, Decision)> {
    let mut host = runtime.instantiate(settings).unwrap();
    common::requests()
        .into_iter()
        .map(|(name, review)| {
            let bytes = serde_json::to_vec(&review).unwrap();
            let decision = host.evaluate("runners/decision", &bytes).unwrap();
            (name, review, Decision::from_value(decision).unwrap())
        })
        .collect()
}

fn setup() -> (Runtime, Value, Burrego) {
    let runtime = Runtime::load(&default_module_path()).unwrap();
    let settings = runner_policy::settings::example().unwrap();
    let vm = Burrego::new(&runtime);
    (runtime, settings, vm)
}

#[test]
fn entrypoint_zero_is_runners_main() {
    let (_, _, mut vm) = setup();
    assert_eq!(vm.entrypoints()["runners/main"], 0);
}

#[test]
fn gatekeeper_mode_agrees_with_the_wasmtime_host() {
    let (runtime, settings, mut vm) = setup();
    let mut disagree = Vec::new();
    for (name, review, decision) in host_decisions(&runtime, &settings) {
        let input = json!({"parameters": settings, "review": review["request"]});
        let violations = vm.evaluate(0, &input, &json!({}));
        let Some(list) = violations.as_array() else {
            panic!("{name}: not a violations list: {violations}");
        };
        // Kubewarden's gatekeeper mode: an empty list allows, anything else denies.
        let allowed = list.is_empty();
        let rules: BTreeSet<String> = list
            .iter()
            .map(|v| v["details"]["rule"].as_str().unwrap().to_owned())
            .collect();
        let details: Vec<Value> = list.iter().map(|v| v["details"].clone()).collect();
        // `details` is the violation without its message, which is the `msg` beside it.
        let expected: Vec<Value> = decision
            .violations
            .iter()
            .map(|v| {
                let mut details = serde_json::to_value(v).unwrap();
                details.as_object_mut().unwrap().remove("msg");
                details
            })
            .collect();
        if allowed != decision.allowed || rules != decision.rules() || details != expected {
            disagree.push(format!(
                "{name}: burrego allowed={allowed} {rules:?}, host {} {:?}",
                decision.allowed,
                decision.rules()
            ));
        }
        let messages: Vec<&Value> = list.iter().map(|v| &v["msg"]).collect();
        let expected: Vec<Value> = decision.violations.iter().map(|v| json!(v.msg)).collect();
        assert_eq!(messages, expected.iter().collect::<Vec<_>>(), "{name}");
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

#[test]
fn opa_mode_agrees_with_the_wasmtime_host() {
    let (runtime, settings, mut vm) = setup();
    let mut disagree = Vec::new();
    for (name, review, decision) in host_decisions(&runtime, &settings) {
        let input = json!({"request": review["request"]});
        let answer = vm.evaluate(0, &input, &settings);
        assert_eq!(answer["kind"], "AdmissionReview", "{name}: {answer}");
        let response = &answer["response"];
        assert_eq!(response["uid"], review["request"]["uid"], "{name}");
        let allowed = response["allowed"].as_bool().unwrap();
        let message = response["status"]["message"].as_str().unwrap_or("");
        let expected: Vec<&str> = decision.violations.iter().map(|v| v.msg.as_str()).collect();
        if allowed != decision.allowed || message != expected.join("; ") {
            disagree.push(format!(
                "{name}: burrego allowed={allowed} {message:?}, host {} {expected:?}",
                decision.allowed
            ));
        }
        if !allowed {
            assert_eq!(response["status"]["code"], 403, "{name}");
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

#[test]
fn engine_keys_in_data_change_nothing() {
    // Kubewarden puts `kubernetes` (context-aware resources) and `inventory` in the data.
    let (runtime, settings, mut vm) = setup();
    let mut data = settings.clone();
    data["kubernetes"] = json!({});
    data["inventory"] = json!({"namespace": {}});
    for (name, review, decision) in host_decisions(&runtime, &settings) {
        let answer = vm.evaluate(0, &json!({"request": review["request"]}), &data);
        assert_eq!(answer["response"]["allowed"], decision.allowed, "{name}");
    }
}
