#!/usr/bin/env bash
# Real OPA (the Go engine Gatekeeper embeds, from PyPI as opa-golib-python-bindings) on the Rego
# twin: creates .venv at the workspace root when it lacks the engine, then runs
# opa_equivalence.py with the given arguments (see its --help; --inputs FILE for JSON lines of
# input documents). CI: `bash host-tests/python/run.sh`
# through `cargo test -p host-tests --test opa_real`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
if ! "$venv/bin/python" -c "import opa_bindings, yaml" 2>/dev/null; then
  python3 -m venv "$venv"
  wheels="$(mktemp -d)"
  trap 'rm -rf "$wheels"' EXIT
  # The wheel declares Python 3.14 but its Go library works with any CPython 3.
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.14 -d "$wheels" opa-golib-python-bindings==0.4.4
  "$venv/bin/pip" install --quiet --disable-pip-version-check --ignore-requires-python \
    "$wheels"/opa_golib_python_bindings-0.4.4-*.whl
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pyyaml>=6,<7"
fi
exec "$venv/bin/python" "$root/host-tests/python/opa_equivalence.py" "$@"
