# syntax=docker/dockerfile:1
# Build stage: install the locked dependencies and the service into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY app ./app
COPY migrations ./migrations
RUN /opt/venv/bin/pip install --no-deps . \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# Runtime stage: no compilers, a non-root user, `ntm serve` as the command.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 ntm \
    && useradd --system --uid 10001 --gid ntm --home-dir /srv --shell /usr/sbin/nologin ntm \
    && mkdir -p /srv/var/files && chown -R ntm:ntm /srv
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NTM_ENV=production \
    NTM_VAR_DIR=/srv/var \
    NTM_DATA_DIR=/srv/var/files
WORKDIR /srv
USER ntm
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# X-Forwarded-For is believed only from the proxies named in NTM_TRUSTED_PROXIES (none by default).
CMD ["ntm", "serve", "--host", "0.0.0.0", "--port", "8000"]
