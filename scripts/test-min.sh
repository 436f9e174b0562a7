#!/usr/bin/env bash
# Run the fast array-level tests (re-rankers, metrics, data) against the declared minimum
# versions of the core dependencies (constraints/min.txt) in a separate .venv-min.
# torch is the local CPU build (the same as scripts/setup.sh: ${PRISM_TORCH_VERSION:-2.13.0}),
# for the re-rankers' torch path; its own floor (torch>=2.10) is not tested here, because the
# PyPI wheels of torch are CUDA builds of several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-min/bin/python ]; then
  "$PY" -m venv .venv-min
fi
VPY=.venv-min/bin/python
stamp=.venv-min/.prism-installed
if [ ! -f "$stamp" ] || [ "$stamp" -ot constraints/min.txt ] || [ "$stamp" -ot pyproject.toml ]; then
  echo "installing the minimum versions from constraints/min.txt..."
  "$VPY" -m pip install --quiet --upgrade pip
  "$VPY" -m pip install --quiet -r constraints/min.txt "pytest>=8" "hypothesis>=6.100"
  "$VPY" -m pip install --quiet -c constraints/min.txt "torch==${PRISM_TORCH_VERSION:-2.13.0}"
  "$VPY" -m pip install --quiet --no-deps -e .  # only the floors above, nothing newer
  touch "$stamp"
fi
"$VPY" -c "import numpy, pandas, scipy, sklearn, pyarrow, pydantic; print('minimum versions:', \
'numpy', numpy.__version__, 'pandas', pandas.__version__, 'scipy', scipy.__version__, \
'scikit-learn', sklearn.__version__, 'pyarrow', pyarrow.__version__, 'pydantic', pydantic.VERSION)"
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false
exec "$VPY" -m pytest -p no:cacheprovider -q tests/rerank/test_rerank.py tests/rerank/test_fuzz_rerank.py \
  tests/rerank/test_rerank_quotas.py tests/rerank/test_dpp_reference.py tests/metrics/test_metrics.py \
  tests/data/test_data_cleaning.py tests/data/test_data_schema.py tests/data/test_data_splits.py \
  tests/data/test_data_synthetic.py tests/data/test_data_io.py tests/data/test_data_importers.py \
  tests/core/test_core_config.py "$@"
