#!/usr/bin/env bash
# Create .venv and install Prism with its dev tools. Idempotent: a second run is quick.
# CPU by default (torch 2.13.0 CPU wheel); for a GPU, install a CUDA torch into .venv first
# (see README "CPU or GPU"), and this script keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
stamp=.venv/.prism-installed
if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
  exit 0
fi
"$VPY" -m pip install --quiet --upgrade pip
if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
  echo "installing PyTorch (CPU build ${PRISM_TORCH_VERSION:-2.13.0})..."
  "$VPY" -m pip install --quiet "torch==${PRISM_TORCH_VERSION:-2.13.0}" numpy
fi
echo "installing Prism and its dependencies..."
# the studio (streamlit, plotly, Authlib), dev tools, the FAISS index (so the ANN tests run),
# TensorBoard (prism train --tensorboard) and Opacus (prism train --dp-epsilon); a serving
# host needs only `pip install .`
"$VPY" -m pip install --quiet -e ".[studio,dev,ann,tensorboard,privacy]"
touch "$stamp"
