# syntax=docker/dockerfile:1
# The leaderwatch worker image: one image, every stage; LEADERWATCH_STAGES picks what a container runs.
#   docker build -t leaderwatch:dev .
#   docker run --rm -e LEADERWATCH_BROKER=kafka://broker:9092 -e LEADERWATCH_STAGES=clean leaderwatch:dev
# See docs/deploy.md.

# ---- build: the project and its dependencies, installed under /install (wheels only, no compiler)
FROM python:3.11.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md* ./
COPY agents/ agents/
# the JSON Schemas ship inside the package too (pyproject maps schemas/ to leaderwatch/schemas_files)
COPY schemas/ schemas/
RUN pip install --prefix=/install --only-binary=:all: .

# ---- run: slim Python, the installed tree, the schemas; no build tools, not root
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEADERWATCH_SCHEMAS_DIR=/app/schemas \
    LEADERWATCH_DATADIR=/app/var \
    LEADERWATCH_WEB_PORT=6066

RUN groupadd --system --gid 10001 leaderwatch \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin leaderwatch

COPY --from=build /install /usr/local
WORKDIR /app
COPY schemas/ schemas/
# the datadir exists and belongs to the worker, so a named volume mounted here starts writable
RUN mkdir -p /app/var && chown 10001:10001 /app/var

USER 10001:10001
EXPOSE 6066
# 200 once this worker owns partitions; 503 while it joins the group or rebalances
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/' % os.environ.get('LEADERWATCH_WEB_PORT', '6066'), timeout=4)"]

ENTRYPOINT ["leaderwatch"]
CMD ["worker", "-l", "info"]
