//! The OPA Go SDK's call sequence (`internal/wasm/sdk/internal/wasm/vm.go`, used by OPA's bundle
//! wasm resolvers), reproduced call for call on `bundles/dist/policy.wasm`, agrees with the
//! wasmtime host's normal path on every recorded request and every entrypoint.
//!
//! What the Go SDK does, and so what [`GoVm`] does:
//! - `newVM`: instantiate, read the ABI version globals (1.1 or 1.3 only), `opa_malloc(0)` to
//!   initialise the heap, `opa_heap_ptr_get` (base heap), the data through `toRegoJSON`
//!   (`opa_malloc` + copy + `opa_value_parse` + `opa_free`), `opa_heap_ptr_get` (eval heap),
//!   `builtins()` and `entrypoints()` through `fromRegoJSON` (`opa_json_dump` + `opa_free`);
//! - `Eval` (ABI >= 1.2): the input as Rego text (`ast.Value.String()`: Go-quoted strings)
//!   written at the eval heap pointer WITHOUT `opa_malloc`, then `opa_eval(0, entrypoint, data,
//!   input, len, eval_heap + len, 1)`; the result is Rego value text, parsed as a set;
//! - `SetDataPath`/`RemoveDataPath`: `opa_heap_ptr_set(eval heap)`, `opa_heap_blocks_restore`,
//!   value and path through `toRegoJSON`, `opa_value_add_path`/`opa_value_remove_path`,
//!   `opa_value_free(path)`, `opa_heap_blocks_stash`, `opa_heap_ptr_get` (new eval heap);
//! - `SetPolicyData` (same module, new data): `opa_heap_stash_clear`, `opa_heap_ptr_set(base)`,
//!   data through `toRegoJSON`, `opa_heap_blocks_stash`, `opa_heap_ptr_get`.

mod common;
mod go_sdk;

use runner_policy::host::{Runtime, default_module_path};
use serde_json::{Value, json};

use go_sdk::quote::{go_quote, rego_text};
use go_sdk::rego::{Rego, RegoParser};
use go_sdk::vm::GoVm;

const ENTRYPOINTS: [&str; 3] = ["runners/main", "runners/violation", "runners/decision"];

#[test]
fn go_quote_follows_strconv_quote() {
    assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
    assert_eq!(go_quote("\u{7}\u{b}\u{1}\u{7f}"), r#""\a\v\x01\x7f""#);
    assert_eq!(go_quote("é ü 中 😀"), "\"é ü 中 😀\"");
    assert_eq!(
        go_quote("\u{200b}\u{feff}\u{85}"),
        r#""\u200b\ufeff\u0085""#
    );
    assert_eq!(go_quote("\u{f0000}"), r#""\U000f0000""#);
    assert_eq!(
        rego_text(&json!({"a": [1, "x\ty", null, true], "b": {}})),
        r#"{"a": [1, "x\ty", null, true], "b": {}}"#
    );
}

#[test]
fn rego_results_parse() {
    let set = RegoParser::parse(r#"{{"result": [{"a": "x\x41\u00e9", "b": set()}]}}"#);
    assert_eq!(
        set,
        Rego::Set(vec![Rego::Object(vec![(
            Rego::Json(json!("result")),
            Rego::Array(vec![Rego::Object(vec![
                (Rego::Json(json!("a")), Rego::Json(json!("xAé"))),
                (Rego::Json(json!("b")), Rego::Set(vec![])),
            ])])
        )])])
    );
}

/// Checks every request at every entrypoint against the wasmtime host with `settings`.
fn agree(vm: &mut GoVm, runtime: &Runtime, settings: &Value, label: &str) {
    let mut host = runtime.instantiate(settings).unwrap();
    let mut disagree = Vec::new();
    for (name, request) in common::requests() {
        let bytes = serde_json::to_vec(&request).unwrap();
        for entrypoint in ENTRYPOINTS {
            let (_, go) = vm.eval(entrypoint, &request);
            let expected = host.evaluate(entrypoint, &bytes).unwrap();
            if go != expected {
                disagree.push(format!(
                    "{label}: {name} {entrypoint}:\n  go   {go}\n  host {expected}"
                ));
            }
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// The recorded request of the suite case `name`.
fn recorded(name: &str) -> Value {
    common::requests()
        .into_iter()
        .find(|(case, _)| case == name)
        .map(|(_, request)| request)
        .unwrap_or_else(|| panic!("no recorded request {name}"))
}

fn load() -> (Runtime, Value) {
    let runtime = Runtime::load(&default_module_path()).unwrap();
    let settings = runner_policy::settings::example().unwrap();
    (runtime, settings)
}

#[test]
fn go_sdk_sequence_agrees_with_the_wasmtime_host() {
    let (runtime, settings) = load();
    // The resolver's data: json.Marshal of the settings, sent through opa_value_parse.
    let mut vm = GoVm::new(&runtime, &serde_json::to_vec(&settings).unwrap());
    assert_eq!(
        vm.calls,
        [
            "opa_malloc",
            "opa_heap_ptr_get",
            "opa_malloc",
            "opa_value_parse",
            "opa_free",
            "opa_heap_ptr_get",
            "builtins",
            "opa_json_dump",
            "opa_free",
            "entrypoints",
            "opa_json_dump",
            "opa_free"
        ]
    );
    let names: Vec<&str> = vm.entrypoints.keys().map(String::as_str).collect();
    for entrypoint in ENTRYPOINTS {
        assert!(names.contains(&entrypoint), "{names:?}");
    }
    agree(&mut vm, &runtime, &settings, "example settings");
    // Evaluations are stateless: the same again from the same eval heap.
    agree(
        &mut vm,
        &runtime,
        &settings,
        "example settings, second round",
    );
}

/// Rego value text with a key given twice is refused, as the JSON reader refuses it: the rules
/// must not see another value than any other reader of the text.
#[test]
fn rego_text_with_a_key_given_twice_is_refused() {
    let (runtime, settings) = load();
    let mut vm = GoVm::new(&runtime, &serde_json::to_vec(&settings).unwrap());
    let privileged = recorded("docker-runner-privileged-pod");
    // A trailing comma makes the text Rego but not JSON, so the module's Rego reader reads it.
    let rego_only = |text: &str| format!("{},}}", text.strip_suffix('}').unwrap());
    let text = rego_text(&privileged);
    let once = "\"privileged\": true";
    assert!(text.contains(once), "{text}");
    let (_, denied) = vm.eval_text("runners/decision", &rego_only(&text));
    assert_eq!(denied["violations"][0]["rule"], "dind-only-privilege");
    let twice = text.replacen(once, "\"privileged\": true, \"privileged\": false", 1);
    let (_, refused) = vm.eval_text("runners/decision", &rego_only(&twice));
    assert_eq!(refused["allowed"], false, "{refused}");
    assert_eq!(
        refused["violations"][0]["rule"], "valid-request",
        "{refused}"
    );
}

#[test]
fn data_patches_through_add_and_remove_path() {
    let (runtime, settings) = load();
    let mut vm = GoVm::new(&runtime, &serde_json::to_vec(&settings).unwrap());
    // An admin's privileged workload: exemptUsers names operators, never runners.
    let privileged = recorded("admin-privileged-stateful-set");
    let user = privileged["request"]["userInfo"]["username"].clone();
    let decision = |vm: &mut GoVm| vm.eval("runners/decision", &privileged).1;
    assert_eq!(decision(&mut vm)["allowed"], false);

    // OPA writes the `kubernetes`-style keys engines add: ignored by the policy.
    assert_eq!(
        vm.set_data_path(&["kubernetes"], &json!({"namespaces": {}})),
        0
    );
    let mut patched = settings.clone();
    patched["kubernetes"] = json!({"namespaces": {}});
    agree(&mut vm, &runtime, &patched, "with data.kubernetes");

    // Patch a settings path: the privileged pod's requester becomes exempt.
    assert_eq!(vm.set_data_path(&["exemptUsers"], &json!([user])), 0);
    assert_eq!(decision(&mut vm)["allowed"], true, "{user} is exempt now");
    patched["exemptUsers"] = json!([user]);
    agree(&mut vm, &runtime, &patched, "with exemptUsers patched");

    // Remove it again: the default (no exempt users) applies.
    assert_eq!(vm.remove_data_path(&["exemptUsers"]), 0);
    assert_eq!(decision(&mut vm)["allowed"], false);
    patched.as_object_mut().unwrap().remove("exemptUsers");
    agree(&mut vm, &runtime, &patched, "with exemptUsers removed");

    // A path through a non-object is refused (OPA_ERR_INVALID_TYPE) and changes nothing.
    assert_eq!(vm.set_data_path(&["org", "x"], &json!(1)), 2);
    agree(&mut vm, &runtime, &patched, "after a refused patch");

    // SetPolicyData: the whole data document replaced in the same VM.
    vm.set_policy_data(&serde_json::to_vec(&settings).unwrap());
    agree(&mut vm, &runtime, &settings, "after SetPolicyData");
    let calls = &vm.calls;
    for export in [
        "opa_value_add_path",
        "opa_value_remove_path",
        "opa_value_free",
        "opa_heap_blocks_stash",
        "opa_heap_blocks_restore",
        "opa_heap_stash_clear",
        "opa_heap_ptr_set",
    ] {
        assert!(calls.contains(&export), "{export} was not exercised");
    }
}

#[test]
fn go_quoted_input_strings_reach_the_policy_intact() {
    // Annotations and labels with characters strconv.Quote escapes (\a \v \x01, \u200b) or
    // keeps raw (é, 中): the Go path and the JSON path must read the same object.
    let (runtime, settings) = load();
    let mut vm = GoVm::new(&runtime, &serde_json::to_vec(&settings).unwrap());
    let mut host = runtime.instantiate(&settings).unwrap();
    let mut request = recorded("docker-runner-privileged-pod");
    request["request"]["object"]["metadata"]["annotations"] =
        json!({"note": "bell\u{7} tab\u{b} ctl\u{1} zw\u{200b} é 中 😀 \"q\" \\"});
    let (text, go) = vm.eval("runners/decision", &request);
    let expected = host
        .evaluate("runners/decision", &serde_json::to_vec(&request).unwrap())
        .unwrap();
    assert_eq!(go, expected, "{text}");
    assert!(rego_text(&request).contains(r#"bell\a tab\v ctl\x01 zw\u200b é 中 😀"#));
}
