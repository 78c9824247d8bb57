# syntax=docker/dockerfile:1
#
# One image for the three services: the command picks the service.
#
#   docker build -t sec-digester .
#   docker run --rm sec-digester ingest --source replay --corpus /app/samples/edgar-corpus
#   docker run --rm sec-digester analyze
#   docker run --rm -p 8000:8000 sec-digester gateway
#
# Settings come from the environment (README, "Configuration"). deploy/compose.yaml runs the
# whole pipeline with Kafka and the registry.
#
# The image writes nothing at run time, so it runs with a read-only root filesystem. Python
# writes no bytecode (PYTHONDONTWRITEBYTECODE; the venv's modules were compiled at build time).
# HOME is /tmp so that anything that falls back to a cache under ~ (litellm's optional
# Hugging Face tokenizers, for a few providers) lands on a writable mount: give /tmp a tmpfs
# (compose) or an emptyDir (Kubernetes). Nothing else needs one.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: the project's wheel and its pinned dependencies, in a venv -----------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/venv
WORKDIR /src

# Dependencies first (their own layer: they change far less often than the code). Only the
# runtime dependencies of [project]: no test or container extras.
# sec-digester-client (a dependency) is not on the package index: it is built from
# clients/python in the same pip call, which satisfies its pin.
COPY pyproject.toml ./
COPY clients/python ./clients/python
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install ./clients/python --requirement /tmp/requirements.txt

# Then the project itself, as a wheel (what a user would install), without dependencies:
# they are exactly the pinned ones above; `pip check` proves nothing is missing.
COPY README.md ./
COPY services ./services
COPY schemas ./schemas
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-deps /wheels/*.whl \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/sec-digester --help > /dev/null

# --- runtime: Python, the venv and the recorded corpus; nothing else ------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOME=/tmp

# A fixed, numeric, unprivileged user, so Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 secdigester \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin secdigester

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The bundled EDGAR corpus: `ingest --source replay --corpus /app/samples/edgar-corpus` and the
# EDGAR emulator (`python -m services.emulator --corpus /app/samples/edgar-corpus`). Read-only,
# owned by root.
COPY samples/edgar-corpus /app/samples/edgar-corpus

USER 10001:10001

# gateway (GATEWAY_PORT), ingest's and analyze's /healthz, /readyz, /metrics
# (INGEST_HEALTH_PORT, ANALYZE_HEALTH_PORT). Kubernetes uses its own probes; compose defines
# one health check per service, since the port depends on the command.
EXPOSE 8000 8001 8002

ENTRYPOINT ["sec-digester"]
CMD ["--help"]
