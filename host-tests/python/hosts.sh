#!/usr/bin/env bash
# The Python hosts of the OPA Wasm ABI (opa-wasmtime, opa-py-wasm from PyPI) on the module:
# creates .venv-hosts at the workspace root when it lacks them (pinned in
# requirements-hosts.txt), then runs hosts.py with the given arguments (see its --help), or
# junit_report.py on the files after `--junit`.
# CI: `cargo test -p host-tests --test python_hosts` runs this script.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-hosts"
requirements="$root/host-tests/python/requirements-hosts.txt"
if ! cmp -s "$requirements" "$venv/requirements-hosts.txt" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$venv/requirements-hosts.txt"
fi
# `--junit FILE...`: what junitparser reads in runner-policy's JUnit reports instead.
script="$root/host-tests/python/hosts.py"
if [ "${1-}" = "--junit" ]; then
  shift
  script="$root/host-tests/python/junit_report.py"
fi
exec "$venv/bin/python" "$script" "$@"
