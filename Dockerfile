# mlready bot image, in two stages:
#   build   - CPU-only torch, sentence-transformers and the bundled embedding model build the
#             knowledge index and export the query encoder to ONNX (`mlready index`);
#   runtime - the answer-only install (onnxruntime, no torch) and that index, so a container
#             never downloads anything and never loads torch.
#
#   docker build -t mlready .
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu -t mlready .
#
# Runs `mlready serve --http --port 3000` as a non-root user; GET /healthz is the health check.

# ---- build: the index and the ONNX query encoder -----------------------------------------
FROM python:3.11-slim-bookworm AS build

# Where torch comes from: PyTorch's CPU-only wheel index by default; the normal package
# index would bring several GB of CUDA libraries. The version matches scripts/install.sh.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1 \
    MLREADY_INDEX_DIR=/build/index \
    MLREADY_CACHE_DIR=/build/cache

# hadolint ignore=DL3013
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch${TORCH_VERSION:+==$TORCH_VERSION}"

COPY pyproject.toml README.md /tmp/src/
COPY bot /tmp/src/bot
COPY indexer /tmp/src/indexer
COPY fake_slack /tmp/src/fake_slack
COPY knowledge /tmp/src/knowledge
RUN pip install "/tmp/src[index]" \
    && mlready index \
    && python -c "import json, pathlib; d = pathlib.Path('/build/index'); b = (d / 'CURRENT').read_text().strip(); assert json.loads((d / 'builds' / b / 'manifest.json').read_text())['query_encoder']"

# ---- runtime: answer only ----------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

# Quiet logs and the index inside the image. (hadolint's DL3064 takes TOKENIZERS_PARALLELISM
# for a secret because of its name.)
# hadolint ignore=DL3064
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    MLREADY_INDEX_DIR=/app/index

# 1. The dependencies as their own layer, exactly as locked (versions and hashes, no extras:
#    no torch), so an image built later gets the same packages and editing the code does not
#    reinstall them. Regenerate the lock after changing pyproject.toml's dependencies:
#      pip-compile --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
#        --no-emit-find-links --output-file requirements/runtime.lock pyproject.toml
COPY requirements/runtime.lock /tmp/runtime.lock
RUN pip install --require-hashes --no-deps -r /tmp/runtime.lock \
    && rm /tmp/runtime.lock

# 2. mlready itself (the wheel includes the shipped knowledge); the sources are not kept.
COPY README.md /tmp/src/
COPY bot /tmp/src/bot
COPY indexer /tmp/src/indexer
COPY fake_slack /tmp/src/fake_slack
COPY knowledge /tmp/src/knowledge
RUN pip install --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && python -c "import onnxruntime, tokenizers, faiss, bm25s, bot.cli; from importlib.util import find_spec; assert find_spec('torch') is None"

# 3. A non-root user that owns the working directory and the index. USER is numeric so that
#    Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 mlready \
    && useradd --uid 10001 --gid mlready --create-home --shell /usr/sbin/nologin mlready \
    && install -d -o mlready -g mlready /app /app/index
WORKDIR /app
USER 10001:10001

# 4. The index and its query encoder from the build stage, owned by the runtime user.
#    Containers start from it; a named volume mounted on /app/index is filled with it on first use.
COPY --from=build --chown=10001:10001 /build/index /app/index

EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]
CMD ["mlready", "serve", "--http", "--port", "3000"]
