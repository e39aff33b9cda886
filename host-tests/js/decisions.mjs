// Prints the decisions of bundles/dist/policy.wasm for recorded requests, one JSON line each:
//   {"request": path, "decision": <runners/decision result>, "main": <runners/main result>}
//
// The module is loaded with the official OPA JS SDK (@open-policy-agent/opa-wasm, which uses
// the ABI 1.2 `opa_eval` path), or with --ctx through the raw ABI 1.0 exports (opa_malloc,
// opa_json_parse, opa_eval_ctx_*, eval, opa_json_dump), as Kubewarden's burrego does.
//
// usage: node decisions.mjs [--ctx] [--settings FILE] [--wasm FILE] (--suite | REQUEST...)
//   --settings FILE  the data document (default: bundles/settings.example.yaml)
//   --suite          every `cases[].request` of host-tests/requests/suite.yaml
// Request files are sent as their raw bytes (JSON, or anything: malformed inputs are allowed);
// files ending in .yaml/.yml are parsed and sent as JSON.
//
// run: cd host-tests/js && npm ci && node decisions.mjs --suite

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import opa from "@open-policy-agent/opa-wasm";
import yaml from "js-yaml";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRYPOINTS = { decision: "runners/decision", main: "runners/main" };

function parseArgs(argv) {
  const opts = {
    ctx: false,
    suite: false,
    settings: join(ROOT, "bundles/settings.example.yaml"),
    wasm: join(ROOT, "bundles/dist/policy.wasm"),
    requests: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--ctx") opts.ctx = true;
    else if (arg === "--suite") opts.suite = true;
    else if (arg === "--settings") opts.settings = argv[++i];
    else if (arg === "--wasm") opts.wasm = argv[++i];
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else opts.requests.push(arg);
  }
  if (opts.suite) {
    const suitePath = join(ROOT, "host-tests/requests/suite.yaml");
    const suite = yaml.load(readFileSync(suitePath, "utf8"));
    for (const c of suite.cases ?? []) {
      opts.requests.push(join(dirname(suitePath), c.request));
    }
  }
  if (opts.requests.length === 0) {
    throw new Error("no requests: give request files or --suite");
  }
  return opts;
}

/** The request file's bytes as the input: raw, or YAML re-encoded as JSON. */
function inputBytes(path) {
  if (/\.ya?ml$/.test(path)) {
    return new TextEncoder().encode(JSON.stringify(yaml.load(readFileSync(path, "utf8"))));
  }
  return new Uint8Array(readFileSync(path));
}

/** The `result` of a one-element result set, or an error describing what came back. */
function resultOf(resultSet) {
  if (Array.isArray(resultSet) && resultSet.length === 1 && "result" in resultSet[0]) {
    return resultSet[0].result;
  }
  throw new Error(`not a result set with one result: ${JSON.stringify(resultSet)}`);
}

/** Evaluator through the SDK (ABI 1.2 `opa_eval`). */
async function sdkEvaluator(wasm, data) {
  const policy = await opa.loadPolicy(wasm);
  policy.setData(data);
  return (input, entrypoint) => {
    const buf = input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
    return policy.evaluate(buf, entrypoint);
  };
}

/** Evaluator through the raw ABI 1.0 ctx exports. */
export async function ctxEvaluator(wasm, data) {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const text = (addr) => {
    const bytes = new Uint8Array(memory.buffer);
    let end = addr;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(addr, end));
  };
  const fail = (what) => () => {
    throw new Error(`the module called ${what}`);
  };
  const env = {
    memory,
    opa_abort: (addr) => {
      throw new Error(`opa_abort: ${text(addr)}`);
    },
    opa_println: (addr) => console.error(text(addr)),
    opa_builtin0: fail("opa_builtin0"),
    opa_builtin1: fail("opa_builtin1"),
    opa_builtin2: fail("opa_builtin2"),
    opa_builtin3: fail("opa_builtin3"),
    opa_builtin4: fail("opa_builtin4"),
  };
  const { instance } = await WebAssembly.instantiate(wasm, { env });
  const x = instance.exports;
  const load = (bytes) => {
    const addr = x.opa_malloc(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, addr);
    return x.opa_json_parse(addr, bytes.length); // 0 if not JSON: no input
  };
  const dump = (valueAddr) => JSON.parse(text(x.opa_json_dump(valueAddr)));

  const entrypoints = dump(x.entrypoints());
  const dataAddr = load(new TextEncoder().encode(JSON.stringify(data)));
  const heapBase = x.opa_heap_ptr_get();
  return (input, entrypoint) => {
    if (!(entrypoint in entrypoints)) throw new Error(`no entrypoint ${entrypoint}`);
    x.opa_heap_ptr_set(heapBase); // every evaluation starts from the same heap
    const inputAddr = load(input);
    const ctx = x.opa_eval_ctx_new();
    x.opa_eval_ctx_set_input(ctx, inputAddr);
    x.opa_eval_ctx_set_data(ctx, dataAddr);
    x.opa_eval_ctx_set_entrypoint(ctx, entrypoints[entrypoint]);
    x.eval(ctx);
    return dump(x.opa_eval_ctx_get_result(ctx));
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const wasm = readFileSync(opts.wasm);
  const data = yaml.load(readFileSync(opts.settings, "utf8"));
  const evaluate = await (opts.ctx ? ctxEvaluator : sdkEvaluator)(wasm, data);
  for (const path of opts.requests) {
    const input = inputBytes(path);
    const line = { request: path };
    for (const [key, entrypoint] of Object.entries(ENTRYPOINTS)) {
      line[key] = resultOf(evaluate(input, entrypoint));
    }
    console.log(JSON.stringify(line));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err?.stack ?? String(err));
    process.exit(1);
  });
}
