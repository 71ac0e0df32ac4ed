# guestlink: LTI 1.3 tool. Two stages: build the release binary, then copy it
# into a slim Debian image that holds only the shared libraries it links to.
#
#   docker build -t guestlink .
#   docker run -p 127.0.0.1:8080:8080 -e GUESTLINK_PUBLIC_URL=https://media.example.edu \
#       -e GUESTLINK_SECRET_KEY="$(cat guestlink-secret.key)" guestlink
#
# Without DATABASE_URL the tool keeps its data in an SQLite file in the volume
# /var/lib/guestlink; docker-compose.yml runs it with PostgreSQL instead.

FROM rust:1-bookworm AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# templates/, static/ and migrations/ are compiled into the binary.
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations

RUN cargo build --release --locked \
    && cp target/release/guestlink /usr/local/bin/guestlink


FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates curl \
       libjs-janus-gateway libjs-webrtc-adapter \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid so that a bind-mounted data directory can be chowned to it.
RUN groupadd --system --gid 10001 guestlink \
    && useradd --system --uid 10001 --gid guestlink --home-dir /var/lib/guestlink \
        --no-create-home --shell /usr/sbin/nologin guestlink \
    && mkdir -p /var/lib/guestlink \
    && chown guestlink:guestlink /var/lib/guestlink \
    && chmod 700 /var/lib/guestlink

COPY --from=build /usr/local/bin/guestlink /usr/local/bin/guestlink

ENV GUESTLINK_BIND=0.0.0.0:8080 \
    GUESTLINK_DATA_DIR=/var/lib/guestlink

USER guestlink
WORKDIR /var/lib/guestlink
VOLUME /var/lib/guestlink
EXPOSE 8080

# /healthz answers 200 while the database answers, 503 otherwise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1

ENTRYPOINT ["guestlink"]
CMD ["serve"]
