#!/usr/bin/env bash
# How the client's ingest scales with shards: N = 1, 2 and 4 processes (`run --shard`,
# started together) against the simulator's emitter sending flat out, merged; prints
# each N's output tokens/s and its ratio to one process. Client and emitter share this
# machine's cores, so the curve flattens where the cores run out, not the harness.
#   LLM_LOADTEST=target/release/llm-loadtest bash scripts/shard-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${LLM_LOADTEST:-target/release/llm-loadtest}")"
work=$(mktemp -d)
# EMIT_INTERVAL_MS=0 (the default) sends whole responses; 1 streams a token per chunk
# every millisecond (one chunk per token, the client's per-chunk cost).
"$bin" sim --port 0 --emit-interval-ms "${EMIT_INTERVAL_MS:-0}" > "$work/sim.out" &
sim=$!
trap 'kill $sim; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q http "$work/sim.out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/sim.out" | head -1)
plan="--server $url --model m --concurrency ${CONCURRENCY:-32} --duration ${DURATION_S:-10} --input-len 16 --output-len ${OUTPUT_LEN:-1024} --warmup 32 --seed 3"
one=""
for n in 1 2 4; do
  start=$(date -u -d "+3 seconds" +%Y-%m-%dT%H:%M:%S.%3NZ)
  pids=()
  for i in $(seq 0 $((n - 1))); do
    "$bin" run $plan --shard "$i/$n" --start-at "$start" --output "$work/n$n-$i.json" >/dev/null 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  "$bin" merge "$work"/n$n-*.json --output "$work/n$n.json" >/dev/null
  rate=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['points'][0]['throughput']['output_tokens_per_s']))" "$work/n$n.json")
  one=${one:-$rate}
  echo "N=$n: $rate output tokens/s, $(python3 -c "print(round($rate / $one, 2))")x one process"
done
