#!/usr/bin/env bash
# Set everything up, then serve the page (app.py) on http://localhost:${PORT:-8501}, loading the
# index and the model as the server starts (`policyqa page`; more options: --corpus, --index,
# --database, --host). The first run builds the search index (about 20 s, with a progress bar in
# the page).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/policyqa page --port "${PORT:-8501}" "$@"
