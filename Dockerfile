# Dockerfile - pane as one binary on Debian 12 slim (docs/deploy.md).
#
#   docker build -t pane .
#   docker run -p 8080:8080 -v pane-data:/var/lib/pane \
#     -e PANE_TOKEN_ADMIN=... -e DATABASE_URL=postgresql://... pane
#
# Stage 1 builds with Meson (the console bundle needs Node.js for esbuild);
# stage 2 holds only the shared libraries `pane` links against, the binary,
# and a non-root user. It runs `pane serve`; `pane worker ...` and
# `pane migrate` run from the same image with another command
# (docker run pane pane worker --queues default --http https://...).

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential pkg-config meson ninja-build python3 nodejs npm ca-certificates \
      libpq-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libyaml-dev \
      libzstd-dev libpcre2-dev libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# the console's npm packages first, so a source change does not refetch them
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN meson setup /build --buildtype=release -Dwerror=false \
 && ninja -C /build pane \
 && strip /build/pane

FROM debian:12-slim
# runtime: exactly the libraries `readelf -d pane` lists as NEEDED (their own
# dependencies come along), CA certificates for https, curl for HEALTHCHECK.
# tests/integration/deploy/test_deploy.sh checks each name exists in Debian 12.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpq5 libcurl4 libmicrohttpd12 libjansson4 libsqlite3-0 libyaml-0-2 libzstd1 libpcre2-8-0 \
      libsnappy1v5 libprotobuf-c1 libssl3 zlib1g ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/pane --shell /usr/sbin/nologin pane \
 && mkdir -p /var/lib/pane /etc/pane \
 && chown pane:pane /var/lib/pane
COPY --from=build /build/pane /usr/local/bin/pane
COPY deploy/pane.yaml /etc/pane/pane.yaml
COPY deploy/pane-worker-env /usr/local/bin/pane-worker-env
ENV PANE_DATA_DIR=/var/lib/pane \
    PORT=8080 \
    PANE_LOG_FORMAT=json
VOLUME ["/var/lib/pane"]
USER pane
WORKDIR /var/lib/pane
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
# the default command; no ENTRYPOINT, so a command given to `docker run` or
# Render's dockerCommand ("pane worker ...", "pane migrate") replaces it whole
CMD ["pane", "serve", "--config", "/etc/pane/pane.yaml"]
