# syntax=docker/dockerfile:1
#
# One image for both services and the migrations:
#   docker run IMAGE movies                       the movie API on :8000
#   docker run IMAGE mailer                       the mail consumer, health/metrics on :8001
#   docker run IMAGE python -m movies migrate     the database migrations
#
# Build from the repository root:  docker build -t reelmail:0.1.0 .
# The Python minor version is the one CI tests (3.11); the base is pinned by tag.

ARG PYTHON_IMAGE=python:3.11.14-slim-trixie

# ---- build: resolve the locked dependencies into a virtual environment --------------
FROM ${PYTHON_IMAGE} AS build

ARG UV_VERSION=0.13.8
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/reelmail/venv

RUN pip install "uv==${UV_VERSION}"

WORKDIR /src
# Dependencies first, from the lock file alone, so a code change reuses this layer.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself, installed as a wheel (not editable): the runtime stage
# copies only the environment, never the sources. uv keys its cached build of a local
# project on pyproject.toml alone, so without --reinstall-package a code change would
# install the wheel built from the old code, kept in the cache mount.
COPY README.md ./
COPY services ./services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --reinstall-package reelmail

# ---- runtime: the interpreter, the environment, nothing to build with ---------------
FROM ${PYTHON_IMAGE} AS runtime

# Re-declared so the label below can name the base (ARGs before FROM are not in scope).
ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="reelmail" \
      org.opencontainers.image.description="Movie catalogue API and the Kafka consumer that mails its one-time sign-in codes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"

# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 reelmail \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin reelmail

# Owned by root and read-only to the app user: the code cannot be rewritten at run time.
COPY --from=build --chown=root:root /opt/reelmail/venv /opt/reelmail/venv

# Bytecode is compiled at build time and nothing else is written outside /tmp, so the
# root filesystem can be mounted read-only (give /tmp an emptyDir or a tmpfs).
ENV PATH=/opt/reelmail/venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    MOVIES_HOST=0.0.0.0 \
    MAILER_HOST=0.0.0.0

# The working directory is the writable one, so relative paths (the SQLite fallback) work.
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000 8001
# Both processes drain and exit 0 on SIGTERM; run them directly, as PID 1, to receive it.
STOPSIGNAL SIGTERM
CMD ["movies"]
