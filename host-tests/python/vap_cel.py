"""Evaluates a generated ValidatingAdmissionPolicy (runner-policy vap) with the C++ CEL
(cel-expr-python, RE2 regexes) on every request of a suite, as the API server would: the
request bound as `request` (every field present), `object` and `oldObject` (null when absent),
match conditions first, then the variables in order, then the validations until one fails.

Prints one JSON line per case: {"name", "allowed", "index" (the first failing validation),
"message", "error"}. An expression that fails to evaluate is reported as an error (the API
server, with failurePolicy Fail, would deny).
"""

import argparse
import json
import os
import sys

import yaml
from cel_expr_python import cel
from cel_expr_python.ext import ext_strings


def admission_request(doc):
    """The AdmissionRequest of an input document in any of the module's dialects."""
    if not isinstance(doc, dict):
        return None
    for key in ("review", "request"):
        if isinstance(doc.get(key), dict):
            return doc[key]
    return None


def bind_request(r):
    def s(v):
        return v if isinstance(v, str) else ""

    def gvk(v, last):
        v = v if isinstance(v, dict) else {}
        return {"group": s(v.get("group")), "version": s(v.get("version")), last: s(v.get(last))}

    user = r.get("userInfo") if isinstance(r.get("userInfo"), dict) else {}
    bound = {
        "kind": gvk(r.get("kind"), "kind"),
        "resource": gvk(r.get("resource"), "resource"),
        "subResource": s(r.get("subResource")),
        "requestKind": gvk(r.get("requestKind"), "kind"),
        "requestResource": gvk(r.get("requestResource"), "resource"),
        "requestSubResource": s(r.get("requestSubResource")),
        "name": s(r.get("name")),
        "namespace": s(r.get("namespace")),
        "operation": s(r.get("operation")),
        "userInfo": {
            "username": s(user.get("username")),
            "uid": s(user.get("uid")),
            "groups": user.get("groups") if isinstance(user.get("groups"), list) else [],
            "extra": user.get("extra") if isinstance(user.get("extra"), dict) else {},
        },
        "dryRun": r.get("dryRun") is True,
    }
    if r.get("options") is not None:
        bound["options"] = r["options"]
    return bound, r.get("object"), r.get("oldObject")


class Policy:
    def __init__(self, policy):
        spec = policy["spec"]
        names = {"request": cel.Type.DYN, "object": cel.Type.DYN, "oldObject": cel.Type.DYN,
                 "params": cel.Type.DYN, "variables": cel.Type.DYN}
        self.env = cel.NewEnv(variables=names, extensions=[ext_strings.ExtStrings()])
        compile_ = lambda src: self.env.compile(src, disable_check=True)
        self.conditions = [compile_(c["expression"]) for c in spec.get("matchConditions", [])]
        self.variables = [(v["name"], compile_(v["expression"])) for v in spec.get("variables", [])]
        self.validations = []
        for v in spec["validations"]:
            message = None
            try:
                message = compile_(v["messageExpression"])
            except Exception:  # a message that does not compile falls back to `message`
                pass
            self.validations.append((compile_(v["expression"]), message, v.get("message", "")))

    @staticmethod
    def value(result):
        if result.type() == cel.Type.ERROR:
            raise ValueError(str(result.value()))
        # Plain Python values, so that a variable's value can be bound again.
        return result.plain_value()

    def judge(self, request):
        bound, obj, old = bind_request(request)
        data = {"request": bound, "object": obj, "oldObject": old, "params": None, "variables": {}}
        for c in self.conditions:
            if self.value(c.eval(data=data)) is not True:
                return {"allowed": True}
        values = {}
        for name, expr in self.variables:
            data["variables"] = values
            try:
                values[name] = self.value(expr.eval(data=data))
            except ValueError as e:
                return {"allowed": False, "error": f"variable {name}: {e}"}
        data["variables"] = values
        for index, (check, message, fallback) in enumerate(self.validations):
            try:
                ok = self.value(check.eval(data=data))
            except ValueError as e:
                return {"allowed": False, "index": index, "error": str(e)}
            if ok is not True:
                text = fallback
                if message is not None:
                    try:
                        text = self.value(message.eval(data=data))
                    except ValueError:
                        pass
                return {"allowed": False, "index": index, "message": text}
        return {"allowed": True}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policy", required=True, help="the generated YAML stream")
    parser.add_argument("--suite", required=True, help="host-tests/requests/suite.yaml")
    args = parser.parse_args()
    with open(args.policy) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    policy = next(d for d in docs if d.get("kind") == "ValidatingAdmissionPolicy")
    judge = Policy(policy)
    with open(args.suite) as f:
        suite = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(args.suite))
    for case in suite["cases"]:
        with open(os.path.join(base, case["request"]), "rb") as f:
            try:
                doc = json.loads(f.read())
            except ValueError:
                doc = None
        request = admission_request(doc)
        line = {"name": case["name"]}
        if request is None:
            line["skipped"] = "no admission request"
        else:
            line.update(judge.judge(request))
        print(json.dumps(line))


if __name__ == "__main__":
    sys.exit(main())
