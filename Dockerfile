# A small image of the llm-loadtest binary: built in the Rust image, run on Debian slim
# (certificates for HTTPS targets; no toolchain). Used by deploy/kubernetes.
#   docker build -t llm-loadtest .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY src src
COPY tests tests
RUN cargo build --release --locked --bin llm-loadtest

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/llm-loadtest /usr/local/bin/llm-loadtest
RUN useradd --create-home --uid 10001 loadtest
USER loadtest
ENTRYPOINT ["llm-loadtest"]
