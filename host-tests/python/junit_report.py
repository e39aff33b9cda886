"""JUnit XML reports of `runner-policy check|replay|test --junit`, read by junitparser (PyPI).

Prints one JSON object per file given, what a JUnit reader makes of it:

  {"suites": [{"name", "tests", "failures", "errors", "skipped",
               "cases": [{"classname", "name", "result": "passed" | "failure" | ...,
                          "message", "text"}]}]}

host-tests/tests/python_hosts.rs compares that with what the CLI judged.
Run through hosts.sh's virtualenv: bash host-tests/python/hosts.sh --junit FILE...
"""

import json
import sys

from junitparser import Failure, JUnitXml, TestSuite


def case_of(case):
    results = list(case.result)
    failures = [r for r in results if isinstance(r, Failure)]
    if failures:
        result = "failure"
    elif results:
        result = type(results[0]).__name__.lower()
    else:
        result = "passed"
    first = failures[0] if failures else None
    return {
        "classname": case.classname,
        "name": case.name,
        "result": result,
        "failures": len(failures),
        "message": first.message if first is not None else None,
        "text": first.text if first is not None else None,
    }


def suite_of(suite):
    return {
        "name": suite.name,
        "tests": suite.tests,
        "failures": suite.failures,
        "errors": suite.errors,
        "skipped": suite.skipped,
        "cases": [case_of(case) for case in suite],
    }


def report(path):
    xml = JUnitXml.fromfile(path)
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    return {"suites": [suite_of(suite) for suite in suites]}


def main(paths):
    if not paths:
        sys.exit("usage: junit_report.py FILE...")
    for path in paths:
        print(json.dumps(report(path)))


if __name__ == "__main__":
    main(sys.argv[1:])
