#!/usr/bin/env bash
# Set everything up and run the whole test suite (ruff, then pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/ruff check src tests app.py 2>/dev/null || .venv/bin/ruff check src tests
.venv/bin/python -m pytest "$@"
