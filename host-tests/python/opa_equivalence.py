"""Evaluates the Rego twin with real OPA on every recorded request.

Loads the Rego exactly as Gatekeeper does, from the ConstraintTemplate
(bundles/gatekeeper/template.yaml, spec.targets[].code[].source.rego, Rego v1), wraps each
recorded AdmissionReview's request as {"review": request, "parameters": settings} and evaluates
data.k8srunnersecurity.violation. Prints one JSON line per case:
{"name": ..., "violations": [[rule, path], ...]} (sorted). host-tests/tests/opa_real.rs compares
these with the module's decisions.

With --inputs FILE it evaluates instead each line of FILE, a whole input document
({"review": ..., "parameters": ...}), and prints {"line": n, "violations": [...]} per line (n from
0), or {"line": n, "error": "..."} when evaluation fails.

Run through run.sh, which installs the engine: bash host-tests/python/run.sh
"""

import argparse
import json
import pathlib
import sys

import yaml
from opa_bindings import OpaEngine, OpaUndefinedError

ROOT = pathlib.Path(__file__).resolve().parents[2]


def template_rego(path):
    template = yaml.safe_load(path.read_text())
    for target in template["spec"]["targets"]:
        for code in target.get("code", []):
            if code.get("engine") == "Rego":
                return code["source"]["rego"]
    sys.exit(f"{path}: no Rego source in spec.targets[].code[]")


def violations(engine, document):
    result = engine.eval_document("k8srunnersecurity.violation", document)
    return sorted([v["details"]["rule"], v["details"]["path"]] for v in result)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=pathlib.Path, default=ROOT / "bundles/gatekeeper/template.yaml")
    parser.add_argument("--suite", type=pathlib.Path, default=ROOT / "host-tests/requests/suite.yaml")
    parser.add_argument("--inputs", type=pathlib.Path,
                        help="JSON lines of input documents to evaluate instead of the suite")
    args = parser.parse_args()

    if args.inputs:
        engine = OpaEngine()
        engine.add_policy("template.rego", template_rego(args.template))
        with args.inputs.open() as lines:
            for n, line in enumerate(lines):
                try:
                    pairs = violations(engine, json.loads(line))
                except OpaUndefinedError:
                    pairs = []
                except Exception as e:  # a Rego runtime error (a conflict): reported, not fatal
                    print(json.dumps({"line": n, "error": str(e)}))
                    continue
                print(json.dumps({"line": n, "violations": pairs}))
        return

    suite = yaml.safe_load(args.suite.read_text())
    settings = yaml.safe_load((args.suite.parent / suite["settings"]).read_text())
    engine = OpaEngine()
    engine.add_policy("template.rego", template_rego(args.template))
    for case in suite["cases"]:
        doc = json.loads((args.suite.parent / case["request"]).read_text())
        request = doc.get("review") or doc.get("request")
        try:
            pairs = violations(engine, {"review": request, "parameters": settings})
        except OpaUndefinedError:
            pairs = []
        print(json.dumps({"name": case["name"], "violations": pairs}), flush=True)


if __name__ == "__main__":
    main()
