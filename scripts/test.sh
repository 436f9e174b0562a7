#!/usr/bin/env bash
# Set up, then run the whole test suite (unit, AppTest, API, and the real-browser test).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The browser tests need Debian's Chromium and a CJK font (the Chinese studio test); install
# them when we can (root + apt), else the browser tests skip.
if { [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium and fonts-noto-cjk for the browser tests..."
  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-cjk \
    >/dev/null) \
    || echo "chromium could not be installed; the browser test will skip"
fi
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/python -m pytest -n "${PRISM_TEST_WORKERS:-2}" "$@"
