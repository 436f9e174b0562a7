#!/usr/bin/env bash
# Set up, then launch the Prism studio on the built-in synthetic shop.
# First start with no run: the app generates the shop and trains a small model (progress shown).
# It listens on 127.0.0.1 only (.streamlit/config.toml); docs/deploy.md serves it to a team.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/streamlit run dashboard/app.py --browser.gatherUsageStats false "$@"
