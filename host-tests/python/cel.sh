#!/usr/bin/env bash
# The ValidatingAdmissionPolicy form of the rules evaluated by the C++ CEL (cel-expr-python
# from PyPI): creates .venv-cel at the workspace root when it lacks it (pinned in
# requirements-cel.txt), then runs vap_cel.py with the given arguments (see its --help).
# CI: `cargo test -p host-tests --test vap_python` runs this script.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-cel"
requirements="$root/host-tests/python/requirements-cel.txt"
if ! cmp -s "$requirements" "$venv/requirements-cel.txt" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$venv/requirements-cel.txt"
fi
exec "$venv/bin/python" "$root/host-tests/python/vap_cel.py" "$@"
