# mlready bot image: CPU-only torch, the bundled model package, index built at build time.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false \
    MLREADY_INDEX_DIR=/app/index
WORKDIR /app
# Pass the CPU wheel index of PyTorch as TORCH_INDEX_URL to keep the image small.
ARG TORCH_INDEX_URL=""
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch>=2.2"
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY indexer ./indexer
COPY knowledge ./knowledge
RUN pip install . && useradd --create-home mlready && mlready index && chown -R mlready /app
USER mlready
EXPOSE 3000
CMD ["mlready", "serve", "--http", "--port", "3000"]
