#!/usr/bin/env bash
# Set everything up and run the main job: answer a sample question from the policies.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/policyqa ask "${1:-How should I keep participant records?}"
