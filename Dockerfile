# syntax=docker/dockerfile:1
# The leaderwatch image: one image, every stage and every command (the embedded broker and the demo too);
# LEADERWATCH_STAGES picks what a worker container runs.
#   docker build -t leaderwatch:dev .
#   podman build --format docker -t leaderwatch:dev .   # the OCI format would drop the HEALTHCHECK
#   docker run --rm -e LEADERWATCH_BROKER=kafka://broker:9092 -e LEADERWATCH_STAGES=clean leaderwatch:dev
# scripts/test-containers builds it and runs the compose topology on it. See docs/deploy.md.

# ---- build: the project and its dependencies, installed under /install (wheels only, no compiler)
FROM python:3.11.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml ./
# The dependencies first, from pyproject.toml alone: their layer stays cached while only the code changes.
# babel (courlan's, via trafilatura) serves only courlan's URL language filter, which leaderwatch never asks
# for (no target language): its 35 MB of CLDR locale data go; Locale.parse then raises UnknownLocaleError,
# which that filter catches.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install --prefix=/install --only-binary=:all: -r /tmp/requirements.txt \
 && rm -f /install/lib/python3.11/site-packages/babel/locale-data/*.dat
COPY README.md* ./
COPY agents/ agents/
# the JSON Schemas ship inside the package too (pyproject maps schemas/ to leaderwatch/schemas_files)
COPY schemas/ schemas/
RUN pip install --prefix=/install --only-binary=:all: --no-deps .

# ---- run: slim Python, the installed tree, the schemas; no build tools, not root
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEADERWATCH_SCHEMAS_DIR=/app/schemas \
    LEADERWATCH_DATADIR=/app/var \
    LEADERWATCH_WEB_PORT=6066

# a regular (not --system) account: uid 10001 is above the system range; HOME=/app is not writable, and
# nothing needs it to be (the broker runs from where pip installed it); /tmp and /app/var are the writable places
RUN groupadd --gid 10001 leaderwatch \
 && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home --no-log-init --shell /usr/sbin/nologin leaderwatch

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
