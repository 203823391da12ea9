# streamproc worker image. CPU torch by default; GPU images pass
#   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124
FROM python:3.11-slim AS base

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false

WORKDIR /app
# torch first, from the index that matches the target (the pin in pyproject is the CPU build).
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
COPY pyproject.toml README.md ./
COPY streamproc ./streamproc
COPY schemas ./schemas
RUN pip install . && useradd --create-home --uid 10001 streamproc

USER streamproc
EXPOSE 9464
# Production: Kafka and Redis come from settings (STREAMPROC_KAFKA_BROKERS, STREAMPROC_REDIS_URL).
CMD ["streamproc", "worker", "--metrics-host", "0.0.0.0"]
