#!/usr/bin/env bash
# Set everything up, then serve the page (app.py) on http://localhost:${PORT:-8501}.
# The first run builds the search index (about 20 s, with a progress bar in the page).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/streamlit run app.py --server.headless true --server.port "${PORT:-8501}" \
  --browser.gatherUsageStats false "$@"
