#!/usr/bin/env bash
# install-python.sh VENV REQUIREMENTS: make a virtualenv with the interop
# test's Python packages (pyarrow, duckdb). Idempotent; installs python3-venv
# from Debian when the interpreter lacks the venv module.
set -euo pipefail
venv=$1 req=$2
py=$(command -v python3)
if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  py=/usr/bin/python3
fi
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
"$venv/bin/python" -c 'import pyarrow, duckdb; print("interop: pyarrow", pyarrow.__version__, "duckdb", duckdb.__version__)'
