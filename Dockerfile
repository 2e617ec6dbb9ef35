# Treffpunkt's container image: the wheel (code, templates, migrations, static files and the
# .po catalogues, which compile in memory at start) in a slim Python, run as a non-root user.
# Build: docker build -t treffpunkt .   Migrate explicitly: docker run … treffpunkt migrate
# See docs/deployment.md, "Container".
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /build
COPY pyproject.toml hatch_build.py README.md ./
COPY src ./src
COPY templates ./templates
COPY migrations ./migrations
RUN python -m pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 treffpunkt \
 && useradd --system --uid 10001 --gid treffpunkt --home-dir /srv/treffpunkt --create-home \
    --shell /usr/sbin/nologin treffpunkt
COPY --from=build /wheels /tmp/wheels
RUN python -m pip install --no-cache-dir --disable-pip-version-check /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels
WORKDIR /srv/treffpunkt
# Numeric, so that an orchestrator's "run as non-root" check can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["treffpunkt"]
# The schema is never changed at start: run `migrate` once per release, before the app.
CMD ["serve", "--host", "0.0.0.0", "--no-mail-worker"]
