"""Decisions of bundles/dist/policy.wasm through the Python hosts of the OPA Wasm ABI.

Loads the module with `opa-wasmtime` (OPAPolicy: ABI 1.2+ `opa_eval` fast path, JSON in and
out) and `opa-py-wasm` (OpaWasmPolicy: a pool of wasmtime instances), sets the example
settings as data and prints one JSON line per recorded request of host-tests/requests/suite.yaml:

  {"host": "opa-wasmtime" | "opa-py-wasm", "name": case, "decision": <runners/decision>,
   "main": <runners/main>}

host-tests/tests/python_hosts.rs compares these with the wasmtime host.
Run through hosts.sh, which installs the packages: bash host-tests/python/hosts.sh
"""

import argparse
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENTRYPOINTS = {"decision": "runners/decision", "main": "runners/main"}


def result_of(result_set, host, entrypoint):
    if isinstance(result_set, list) and len(result_set) == 1 and "result" in result_set[0]:
        return result_set[0]["result"]
    sys.exit(f"{host}: {entrypoint}: not a one-element result set: {result_set!r}")


def opa_wasmtime_host(wasm, data):
    from opa_wasmtime import OPAPolicy

    policy = OPAPolicy(str(wasm))
    policy.set_data(data)
    return lambda value, entrypoint: policy.evaluate(value, entrypoint)


def opa_py_wasm_host(wasm, data):
    from opapywasm import OpaWasmPolicy

    policy = OpaWasmPolicy.from_wasm_file(wasm)
    policy.set_data(data)
    return lambda value, entrypoint: policy.evaluate_raw(value, entrypoint)


HOSTS = {"opa-wasmtime": opa_wasmtime_host, "opa-py-wasm": opa_py_wasm_host}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wasm", default=ROOT / "bundles/dist/policy.wasm", type=pathlib.Path)
    parser.add_argument("--settings", default=ROOT / "bundles/settings.example.yaml", type=pathlib.Path)
    parser.add_argument("--suite", default=ROOT / "host-tests/requests/suite.yaml", type=pathlib.Path)
    parser.add_argument("--host", choices=sorted(HOSTS), action="append")
    args = parser.parse_args()

    data = yaml.safe_load(args.settings.read_text())
    suite = yaml.safe_load(args.suite.read_text())
    cases = [
        (case["name"], json.loads((args.suite.parent / case["request"]).read_text()))
        for case in suite["cases"]
    ]
    for host in args.host or sorted(HOSTS):
        evaluate = HOSTS[host](args.wasm, data)
        for name, request in cases:
            line = {"host": host, "name": name}
            for key, entrypoint in ENTRYPOINTS.items():
                line[key] = result_of(evaluate(request, entrypoint), host, entrypoint)
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
