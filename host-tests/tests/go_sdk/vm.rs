//! The Go SDK's VM (`wasm.VM`): its calls, export for export.

use std::collections::BTreeMap;

use runner_policy::host::Runtime;
use serde_json::{Value, json};
use wasmtime::{Instance, Memory, Store, Val};

use super::quote::rego_text;
use super::rego::{Rego, RegoParser};

/// One Go SDK VM (`wasm.VM`) on a wasmtime store of its own.
pub struct GoVm {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    data_addr: i32,
    base_heap_ptr: i32,
    eval_heap_ptr: i32,
    pub entrypoints: BTreeMap<String, i32>,
    /// Every export called, in order (the test checks the sequence).
    pub calls: Vec<&'static str>,
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
        crate::common::cstr(&self.memory, &self.store, addr)
    }

    /// `newVM`.
    pub fn new(runtime: &Runtime, data: &[u8]) -> Self {
        let (mut store, instance, _) = crate::common::instantiate(runtime, None);

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
    pub fn eval(&mut self, entrypoint: &str, input: &Value) -> (String, Value) {
        self.eval_text(entrypoint, &rego_text(input))
    }

    /// `Eval` of input given as Rego value text.
    pub fn eval_text(&mut self, entrypoint: &str, raw: &str) -> (String, Value) {
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
    pub fn set_data_path(&mut self, path: &[&str], value: &Value) -> i32 {
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
    pub fn remove_data_path(&mut self, path: &[&str]) -> i32 {
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
    pub fn set_policy_data(&mut self, data: &[u8]) {
        self.data_addr = 0;
        self.call("opa_heap_stash_clear", &[]);
        self.call("opa_heap_ptr_set", &[self.base_heap_ptr]);
        self.data_addr = self.send_rego_json(data, true);
        self.call("opa_heap_blocks_stash", &[]);
        self.eval_heap_ptr = self.call1("opa_heap_ptr_get", &[]);
    }
}
