// End-to-end checks of bundles/dist/policy.wasm through the raw ABI and the official JS SDK:
// hostile addresses never trap, Rego value text parses, result sets are well formed for
// valid / non-JSON / truncated / 3 MiB inputs, path patching answers OPA's error codes, and
// the heap stays flat over many SDK evaluations.
//
// usage: node abi-checks.mjs [--wasm FILE] [--evaluations N]   (default N = 100000)
// run:   cargo xtask dist && cd host-tests/js && npm ci && node abi-checks.mjs

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import opa from "@open-policy-agent/opa-wasm";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const wasm = readFileSync(option("--wasm", join(ROOT, "bundles/dist/policy.wasm")));
const EVALUATIONS = Number(option("--evaluations", "100000"));

const SETTINGS = {
  org: "example",
  runners: [{ type: "docker", serviceAccount: "gitlab-runner-docker" }],
};
const REVIEW = {
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "u-1",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace: "example-runners",
    operation: "CREATE",
    userInfo: { username: "system:serviceaccount:example-runners:gitlab-runner-docker" },
    object: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "runner-x", namespace: "example-runners" },
      spec: { containers: [{ name: "build", image: "alpine", securityContext: { privileged: true } }] },
    },
  },
};
const enc = (s) => new TextEncoder().encode(s);

/** A raw instance with a tiny host. */
async function instantiate() {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const text = (addr) => {
    const bytes = new Uint8Array(memory.buffer);
    let end = addr;
    while (end < bytes.length && bytes[end] !== 0) end++;
    assert.ok(end < bytes.length, "dumps are NUL-terminated");
    return new TextDecoder().decode(bytes.subarray(addr, end));
  };
  const trapHost = (name) => () => {
    throw new Error(`module called ${name}`);
  };
  const env = { memory };
  for (const name of ["opa_abort", "opa_println", ...[0, 1, 2, 3, 4].map((n) => `opa_builtin${n}`)]) {
    env[name] = trapHost(name);
  }
  const { instance } = await WebAssembly.instantiate(wasm, { env });
  const x = instance.exports;
  const write = (bytes) => {
    const addr = x.opa_malloc(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, addr);
    return addr;
  };
  const json = (s) => x.opa_json_parse(write(enc(s)), enc(s).length);
  const value = (s) => x.opa_value_parse(write(enc(s)), enc(s).length);
  const dump = (v) => text(x.opa_json_dump(v));
  const vdump = (v) => text(x.opa_value_dump(v));
  return { x, memory, text, write, json, value, dump, vdump };
}

async function rawChecks() {
  const m = await instantiate();
  const { x } = m;
  assert.equal(x.opa_wasm_abi_version.value, 1);
  assert.equal(x.opa_wasm_abi_minor_version.value, 3);
  assert.deepEqual(JSON.parse(m.dump(x.entrypoints())), {
    "runners/main": 0,
    "runners/violation": 1,
    "runners/decision": 2,
  });
  assert.equal(m.dump(x.builtins()), "{}");

  // Hostile addresses: never a trap, always a well-formed answer.
  const bad = [0, 1, 7, -1, -8, 0x7fffffff, 0x10000, x.opa_heap_ptr_get() + 3];
  for (const a of bad) {
    assert.equal(m.dump(a), "null", `opa_json_dump(${a})`);
    assert.equal(m.vdump(a), "null", `opa_value_dump(${a})`);
    assert.equal(x.opa_json_parse(a, 100), 0, `opa_json_parse(${a}, 100)`);
    assert.equal(x.opa_json_parse(a, -1), 0);
    assert.equal(x.opa_value_parse(a, 0x7fffffff), 0);
    assert.equal(x.opa_value_add_path(a, a, a), 1);
    assert.equal(x.opa_value_remove_path(a, a), 1);
    x.opa_eval_ctx_set_input(a, a);
    x.opa_eval_ctx_set_data(a, a);
    x.opa_eval_ctx_set_entrypoint(a, a);
    assert.equal(x.eval(a), 1);
    assert.equal(JSON.parse(m.dump(x.opa_eval_ctx_get_result(a))).length, 1);
    x.opa_free(a);
    x.opa_value_free(a);
    const rs = m.text(x.opa_eval(0, 0, a, a, 100, 0, 0));
    assert.equal(JSON.parse(rs).length, 1, `opa_eval with bad addresses ${a}`);
  }
  assert.equal(x.opa_malloc(-5), 0);
  x.opa_heap_blocks_stash();
  x.opa_heap_blocks_restore();
  x.opa_heap_stash_clear();

  // JSON parsing: invalid JSON is 0, valid JSON round-trips.
  assert.equal(m.json("{\"a\": "), 0);
  assert.equal(m.json("{1}"), 0);
  assert.deepEqual(JSON.parse(m.dump(m.json(' {"a": [1, 2.5, "x", null, true]} '))), { a: [1, 2.5, "x", null, true] });

  // Rego value text: sets, non-string keys, Go escapes, raw strings, trailing commas.
  const rego = String.raw`{"set": {1, 2, 3}, "empty": set(), "obj": {1: "one", "k": [true,],},
    "go": "\x41\a\v\U0001F600\u00e9\101\"\\", "raw": ` + "`a\\nb`" + String.raw`, "pair": "\ud83d\ude00"}`;
  const parsed = JSON.parse(m.dump(m.value(rego)));
  assert.deepEqual(parsed, {
    set: [1, 2, 3],
    empty: [],
    obj: { 1: "one", k: [true] },
    go: "A\x07\x0b\u{1F600}\u00e9A\"\\",
    raw: "a\\nb",
    pair: "\u{1F600}",
  });
  for (const badText of ["{1, 2", "set(", "\"\\q\"", "`open", "{\"a\" 1}", "[1 2]", "01x", ""]) {
    assert.equal(m.value(badText), 0, `opa_value_parse(${badText})`);
  }
  assert.equal(m.value("[".repeat(5000) + "]".repeat(5000)), 0, "deep values are refused, not a stack overflow");
  assert.notEqual(m.value("[".repeat(90) + "]".repeat(90)), 0);

  // add_path / remove_path, with OPA's error codes.
  const data = m.json('{"a": {"b": 123}, "n": 5}');
  assert.equal(x.opa_value_add_path(data, m.json('["a", "x", "y"]'), m.json('{"foo": "bar"}')), 0);
  assert.deepEqual(JSON.parse(m.dump(data)), { a: { b: 123, x: { y: { foo: "bar" } } }, n: 5 });
  assert.equal(x.opa_value_add_path(data, m.json("[]"), m.json("1")), 3);
  assert.equal(x.opa_value_add_path(data, m.json('"a"'), m.json("1")), 3);
  assert.equal(x.opa_value_add_path(data, m.json('["a", 1]'), m.json("1")), 3);
  assert.equal(x.opa_value_add_path(data, m.json('["n", "z"]'), m.json("1")), 2);
  assert.equal(x.opa_value_add_path(m.json("[1]"), m.json('["a"]'), m.json("1")), 2);
  assert.equal(x.opa_value_remove_path(data, m.json('["a", "b"]')), 0);
  assert.equal(x.opa_value_remove_path(data, m.json('["missing", "b"]')), 0);
  assert.equal(x.opa_value_remove_path(data, m.json('["n", "b"]')), 2);
  assert.deepEqual(JSON.parse(m.dump(data)), { a: { x: { y: { foo: "bar" } } }, n: 5 });

  // opa_eval: Rego value input (as the Go SDK sends it), value-format output.
  const dataAddr = m.json(JSON.stringify(SETTINGS));
  const heap = x.opa_heap_ptr_get();
  const input = enc(JSON.stringify(REVIEW).replace('"u-1"', '"\\x75-1"'));
  assert.equal(m.json(new TextDecoder().decode(input)), 0, "the input is not JSON");
  new Uint8Array(m.memory.buffer).set(input, heap);
  const valueOut = m.text(x.opa_eval(0, 2, dataAddr, heap, input.length, heap + input.length, 1));
  assert.match(valueOut, /^\{\{"result":.*\}\}$/s, "format 1 is a Rego set");
  const jsonOut = JSON.parse(m.text(x.opa_eval(0, 2, dataAddr, heap, input.length, heap + input.length, 0)));
  assert.equal(jsonOut.length, 1);
  assert.equal(valueOut, `{${JSON.stringify(jsonOut[0])}}`);
  // An entrypoint id the module does not have: a denial, not a trap or an empty set.
  const unknown = JSON.parse(m.text(x.opa_eval(0, 7, dataAddr, heap, input.length, heap + input.length, 0)));
  assert.equal(unknown[0].result.allowed, false);
  assert.equal(unknown[0].result.violations[0].rule, "valid-request");

  // The ctx path with no input, and get_result before eval.
  const ctx = x.opa_eval_ctx_new();
  x.opa_eval_ctx_set_data(ctx, dataAddr);
  assert.equal(JSON.parse(m.dump(x.opa_eval_ctx_get_result(ctx))).length, 1);
  return "raw ABI checks passed";
}

async function sdkChecks() {
  const policy = await opa.loadPolicy(wasm);
  policy.setData(SETTINGS);
  const valid = enc(JSON.stringify(REVIEW));
  const big = structuredClone(REVIEW);
  big.request.object.metadata.annotations = { big: "x".repeat(3 * 1024 * 1024) };
  const inputs = {
    valid,
    "non-JSON": enc("this is not json"),
    truncated: valid.slice(0, valid.length / 2),
    empty: new Uint8Array(0),
    "3 MiB": enc(JSON.stringify(big)),
  };
  const lines = [];
  for (const [name, bytes] of Object.entries(inputs)) {
    for (const ep of ["runners/main", "runners/violation", "runners/decision"]) {
      const rs = policy.evaluate(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), ep);
      assert.ok(Array.isArray(rs) && rs.length === 1 && "result" in rs[0], `${name} ${ep}: ${JSON.stringify(rs)}`);
    }
    lines.push(`${name} (${bytes.length} bytes): ok`);
  }

  // Heap flat: after a warm-up, N evaluations must not grow the memory.
  const valBuf = valid.buffer.slice(valid.byteOffset, valid.byteOffset + valid.byteLength);
  const fresh = await opa.loadPolicy(wasm);
  fresh.setData(SETTINGS);
  for (let i = 0; i < 100; i++) fresh.evaluate(valBuf, "runners/main");
  const before = fresh.mem.buffer.byteLength;
  const heapBefore = fresh.wasmInstance.exports.opa_heap_ptr_get();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < EVALUATIONS; i++) fresh.evaluate(valBuf, i % 3);
  const micros = Number(process.hrtime.bigint() - t0) / 1000 / EVALUATIONS;
  const after = fresh.mem.buffer.byteLength;
  assert.equal(after, before, `memory grew from ${before} to ${after} bytes`);
  lines.push(
    `heap flat over ${EVALUATIONS} SDK evaluations: memory ${after} bytes, heap ptr ` +
      `${heapBefore} -> ${fresh.wasmInstance.exports.opa_heap_ptr_get()}, ${micros.toFixed(2)} us/eval`,
  );
  return lines.join("\n");
}

console.log(await rawChecks());
console.log(await sdkChecks());
