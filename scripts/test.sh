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
# The declared minimum versions (constraints/min.txt): re-rankers, metrics and data tests in
# .venv-min (about 2 minutes the first time, 20 s after). PRISM_SKIP_MIN=1 skips it.
if [ "${PRISM_SKIP_MIN:-0}" != 1 ]; then
  scripts/test-min.sh
fi
# Two steps: everything but the real-browser tests on ${PRISM_TEST_WORKERS:-2} workers, then
# the browser tests one at a time, so a Streamlit server never competes with the other
# workers' model fits for the CPU while a browser waits on it. Exit code 5 (nothing collected,
# e.g. when "$@" names files without browser tests) counts as success.
run_step() {
  local rc=0
  .venv/bin/python -m pytest "$@" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then exit "$rc"; fi
}
run_step -n "${PRISM_TEST_WORKERS:-2}" -m "not browser" "$@"
run_step -p no:xdist -m browser "$@"
