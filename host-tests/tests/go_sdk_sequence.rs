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

use std::collections::BTreeMap;

use runner_policy::host::{Runtime, default_module_path};
use serde_json::{Map, Value, json};
use wasmtime::{Instance, Memory, Store, Val};

const ENTRYPOINTS: [&str; 3] = ["runners/main", "runners/violation", "runners/decision"];

// ---- Go's strconv.Quote and ast.Value.String() ----------------------------------------------

/// `strconv.Quote`: printable runes stay raw UTF-8; `\a \b \f \n \r \t \v`, `\\`, `\"`;
/// other control characters and DEL as `\xHH`; other non-printable runes as `\uHHHH` or
/// `\UHHHHHHHH`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, closely enough for these inputs: letters, marks, numbers,
/// punctuation, symbols and the ASCII space; not controls, other spaces, format characters
/// (such as U+200B..U+200F, U+FEFF), surrogates or private use.
fn go_printable(c: char) -> bool {
    let u = c as u32;
    match u {
        0x20..=0x7e => true,
        0..=0x1f | 0x7f..=0xa0 | 0xad => false,
        0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f | 0x3000 | 0xfeff => false,
        0xe000..=0xf8ff | 0xfff0..=0xfffb | 0xf0000.. => false,
        _ => !c.is_control() && !c.is_whitespace(),
    }
}

/// `ast.Value.String()` of a JSON value (Rego text, Go-quoted strings).
fn rego_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_quote(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(rego_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", go_quote(k), rego_text(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

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

// ---- Rego value text back into JSON (ast.ParseTerm, enough for results) ---------------------

/// A Rego value: JSON plus sets.
#[derive(Debug, Clone, PartialEq)]
enum Rego {
    Json(Value),
    Set(Vec<Rego>),
    Object(Vec<(Rego, Rego)>),
    Array(Vec<Rego>),
}

impl Rego {
    fn into_json(self) -> Value {
        match self {
            Rego::Json(v) => v,
            Rego::Set(items) | Rego::Array(items) => {
                Value::Array(items.into_iter().map(Rego::into_json).collect())
            }
            Rego::Object(pairs) => {
                let mut map = Map::new();
                for (k, v) in pairs {
                    let key = match k.into_json() {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    map.insert(key, v.into_json());
                }
                Value::Object(map)
            }
        }
    }
}

struct RegoParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl RegoParser<'_> {
    fn parse(text: &str) -> Rego {
        let mut p = RegoParser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing text in {text}");
        v
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Rego {
        self.ws();
        let rest = &self.s[self.i..];
        match rest[0] {
            b'{' => {
                self.i += 1;
                if self.eat(b'}') {
                    return Rego::Object(Vec::new());
                }
                let first = self.value();
                if self.eat(b':') {
                    let mut pairs = vec![(first, self.value())];
                    while self.eat(b',') {
                        let k = self.value();
                        assert!(self.eat(b':'), "object key without value");
                        pairs.push((k, self.value()));
                    }
                    assert!(self.eat(b'}'), "unclosed object");
                    Rego::Object(pairs)
                } else {
                    let mut items = vec![first];
                    while self.eat(b',') {
                        items.push(self.value());
                    }
                    assert!(self.eat(b'}'), "unclosed set");
                    Rego::Set(items)
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    items.push(self.value());
                    while self.eat(b',') {
                        items.push(self.value());
                    }
                    assert!(self.eat(b']'), "unclosed array");
                }
                Rego::Array(items)
            }
            b'"' => Rego::Json(Value::String(self.string())),
            _ if rest.starts_with(b"set()") => {
                self.i += 5;
                Rego::Set(Vec::new())
            }
            _ => {
                // null, true, false or a number: a JSON scalar up to a delimiter.
                let end = rest
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}' | b':') || b.is_ascii_whitespace())
                    .unwrap_or(rest.len());
                let token = std::str::from_utf8(&rest[..end]).unwrap();
                self.i += end;
                Rego::Json(serde_json::from_str(token).unwrap_or_else(|_| panic!("{token}")))
            }
        }
    }

    /// `n` hex digits.
    fn hex(&mut self, n: usize) -> u32 {
        let h = std::str::from_utf8(&self.s[self.i..self.i + n]).unwrap();
        self.i += n;
        u32::from_str_radix(h, 16).unwrap()
    }

    /// A Go- or JSON-quoted string.
    fn string(&mut self) -> String {
        self.i += 1;
        let mut bytes = Vec::new();
        loop {
            let b = self.s[self.i];
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(bytes).unwrap(),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;

                    let c = match e {
                        b'a' => 7,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => 10,
                        b'r' => 13,
                        b't' => 9,
                        b'v' => 11,
                        b'x' => {
                            bytes.push(u8::try_from(self.hex(2)).unwrap());
                            continue;
                        }
                        b'u' => {
                            let hi = self.hex(4);
                            if (0xd800..0xdc00).contains(&hi) && self.s[self.i] == b'\\' {
                                self.i += 2;
                                let lo = self.hex(4);
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            }
                        }
                        b'U' => self.hex(8),
                        other => u32::from(other), // \" \\ \/
                    };
                    let mut buf = [0; 4];
                    let c = char::from_u32(c).unwrap();
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b => bytes.push(b),
            }
        }
    }
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

// ---- the Go SDK's VM --------------------------------------------------------------------------

/// One Go SDK VM (`wasm.VM`) on a wasmtime store of its own.
struct GoVm {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    data_addr: i32,
    base_heap_ptr: i32,
    eval_heap_ptr: i32,
    entrypoints: BTreeMap<String, i32>,
    /// Every export called, in order (the test checks the sequence).
    calls: Vec<&'static str>,
}

impl GoVm {
    fn call(&mut self, name: &'static str, args: &[i32]) -> Option<i32> {
        self.calls.push(name);
        let func = self.instance.get_func(&mut self.store, name).unwrap();
        let params: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
        let mut results = vec![Val::I32(0); func.ty(&self.store).results().len()];
        func.call(&mut self.store, &params, &mut results)
            .unwrap_or_else(|e| panic!("{name} trapped: {e:?}"));
        results.first().map(|v| v.unwrap_i32())
    }

    fn call1(&mut self, name: &'static str, args: &[i32]) -> i32 {
        self.call(name, args).unwrap()
    }

    fn cstr(&self, addr: i32) -> String {
        common::cstr(&self.memory, &self.store, addr)
    }

    /// `newVM`.
    fn new(runtime: &Runtime, data: &[u8]) -> Self {
        let (mut store, instance, _) = common::instantiate(runtime, None);

        // getABIVersion: 1.1 or 1.3, else the SDK refuses the module.
        let mut global = |name| match instance
            .get_global(&mut store, name)
            .map(|g| g.get(&mut store))
        {
            Some(Val::I32(v)) => v,
            other => panic!("{name}: {other:?}"),
        };
        let abi = (
            global("opa_wasm_abi_version"),
            global("opa_wasm_abi_minor_version"),
        );
        assert!(
            abi == (1, 1) || abi == (1, 3),
            "the Go SDK refuses ABI {abi:?}"
        );
        // "re-exported import, or just plain export if memory wasn't imported"
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("memory export");

        let mut vm = GoVm {
            store,
            instance,
            memory,
            data_addr: 0,
            base_heap_ptr: 0,
            eval_heap_ptr: 0,
            entrypoints: BTreeMap::new(),
            calls: Vec::new(),
        };
        vm.call1("opa_malloc", &[0]); // "Initialize the heap."
        vm.base_heap_ptr = vm.call1("opa_heap_ptr_get", &[]);
        vm.data_addr = vm.send_rego_json(data, true);
        vm.eval_heap_ptr = vm.call1("opa_heap_ptr_get", &[]);

        let builtins = vm.call1("builtins", &[]);
        assert_eq!(
            vm.read_rego_json(builtins),
            json!({}),
            "the policy needs no builtins"
        );
        let entrypoints = vm.call1("entrypoints", &[]);
        let entrypoints = vm.read_rego_json(entrypoints);
        vm.entrypoints = serde_json::from_value(entrypoints).unwrap();
        vm
    }

    /// `toRegoJSON` (named so for clippy): malloc, copy, `opa_value_parse`, free.
    fn send_rego_json(&mut self, raw: &[u8], free: bool) -> i32 {
        let n = i32::try_from(raw.len()).unwrap();
        let p = self.call1("opa_malloc", &[n]);
        self.memory
            .write(&mut self.store, usize::try_from(p).unwrap(), raw)
            .unwrap();
        let addr = self.call1("opa_value_parse", &[p, n]);
        assert_ne!(
            addr,
            0,
            "opa_value_parse failed on {}",
            String::from_utf8_lossy(raw)
        );
        if free {
            self.call("opa_free", &[p]);
        }
        addr
    }

    /// `fromRegoJSON` (named so for clippy): `opa_json_dump`, parse, free.
    fn read_rego_json(&mut self, addr: i32) -> Value {
        let serialized = self.call1("opa_json_dump", &[addr]);
        let value = serde_json::from_str(&self.cstr(serialized)).unwrap();
        self.call("opa_free", &[serialized]);
        value
    }

    /// `Eval` (ABI >= 1.2), returning the raw result text and its `result`.
    fn eval(&mut self, entrypoint: &str, input: &Value) -> (String, Value) {
        self.eval_text(entrypoint, &rego_text(input))
    }

    /// `Eval` of input given as Rego value text.
    fn eval_text(&mut self, entrypoint: &str, raw: &str) -> (String, Value) {
        let id = self.entrypoints[entrypoint];
        let input_len = i32::try_from(raw.len()).unwrap();
        let input_addr = self.eval_heap_ptr;
        let end = usize::try_from(input_addr + input_len).unwrap();
        let size = self.memory.data_size(&self.store);
        if end > size {
            let pages = (end - size).div_ceil(65536);
            self.memory.grow(&mut self.store, pages as u64).unwrap();
        }
        self.memory
            .write(
                &mut self.store,
                usize::try_from(input_addr).unwrap(),
                raw.as_bytes(),
            )
            .unwrap();
        let heap_ptr = self.eval_heap_ptr + input_len;
        let args = [0, id, self.data_addr, input_addr, input_len, heap_ptr, 1];
        let result = self.call1("opa_eval", &args);
        let text = self.cstr(result);
        let value = match RegoParser::parse(&text) {
            Rego::Set(mut items) if items.len() == 1 => match items.pop().unwrap().into_json() {
                Value::Object(mut binding) if binding.len() == 1 => {
                    binding.remove("result").unwrap()
                }
                other => panic!("not {{\"result\": X}}: {other}"),
            },
            other => panic!("{entrypoint}: the result is not a one-element Rego set: {other:?}"),
        };
        (text, value)
    }

    /// `SetDataPath`.
    fn set_data_path(&mut self, path: &[&str], value: &Value) -> i32 {
        self.call("opa_heap_ptr_set", &[self.eval_heap_ptr]);
        self.call("opa_heap_blocks_restore", &[]);
        let value_addr = self.send_rego_json(&serde_json::to_vec(value).unwrap(), true);
        let path_addr = self.send_rego_json(&serde_json::to_vec(path).unwrap(), true);
        let code = self.call1(
            "opa_value_add_path",
            &[self.data_addr, path_addr, value_addr],
        );
        self.call("opa_value_free", &[path_addr]);
        self.call("opa_heap_blocks_stash", &[]);
        self.eval_heap_ptr = self.call1("opa_heap_ptr_get", &[]);
        code
    }

    /// `RemoveDataPath`.
    fn remove_data_path(&mut self, path: &[&str]) -> i32 {
        self.call("opa_heap_ptr_set", &[self.eval_heap_ptr]);
        self.call("opa_heap_blocks_restore", &[]);
        let path_addr = self.send_rego_json(&serde_json::to_vec(path).unwrap(), true);
        let code = self.call1("opa_value_remove_path", &[self.data_addr, path_addr]);
        self.call("opa_value_free", &[path_addr]);
        self.call("opa_heap_blocks_stash", &[]);
        self.eval_heap_ptr = self.call1("opa_heap_ptr_get", &[]);
        code
    }

    /// `SetPolicyData` with the same module and new data.
    fn set_policy_data(&mut self, data: &[u8]) {
        self.data_addr = 0;
        self.call("opa_heap_stash_clear", &[]);
        self.call("opa_heap_ptr_set", &[self.base_heap_ptr]);
        self.data_addr = self.send_rego_json(data, true);
        self.call("opa_heap_blocks_stash", &[]);
        self.eval_heap_ptr = self.call1("opa_heap_ptr_get", &[]);
    }
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
