# Seer: one image for every service of the stack (server, worker, endpoint, migrate).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SEER_DATA_DIR=/data

# libgomp: OpenMP runtime torch and DGL load on CPU.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Dependencies first (cached while only the sources change): the pinned learning stack of `.[ml]`.
COPY pyproject.toml README.md ./
COPY server/__init__.py server/__init__.py
COPY graphml/__init__.py graphml/__init__.py
COPY gremlin_ext/__init__.py gremlin_ext/__init__.py
COPY migrations/__init__.py migrations/__init__.py
RUN pip install --upgrade pip && pip install '.[ml]' && pip uninstall -y seergraph

COPY . .
RUN pip install --no-deps . \
    && useradd --create-home --uid 1000 seer \
    && mkdir -p /data/ml \
    && chown -R seer:seer /data
USER seer

VOLUME ["/data"]
EXPOSE 8182 8190
CMD ["seer", "serve"]
