# opcoord container image: build in a full Rust image, run in a slim Debian as a non-root user.
# No Docker engine runs on the development machines, so this file is linted (hadolint) in CI
# but the image has not been built there.

FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends perl make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY config ./config
RUN cargo build --release --locked --bin opcoord

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/opcoord --create-home opcoord \
    && mkdir -p /var/lib/opcoord/data \
    && chown -R opcoord /var/lib/opcoord
COPY --from=build /src/target/release/opcoord /usr/local/bin/opcoord
USER 10001
WORKDIR /var/lib/opcoord
# SQLite lives in data/ by default; set DATABASE_URL=postgres://... for PostgreSQL.
VOLUME ["/var/lib/opcoord/data"]
ENV OPCOORD_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["opcoord", "healthcheck", "--addr", "127.0.0.1:8080"]
ENTRYPOINT ["opcoord"]
CMD ["serve"]
