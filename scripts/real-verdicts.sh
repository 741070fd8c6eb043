#!/usr/bin/env bash
# Checks compare's verdict against the real llama-server (scripts/llama-server.sh): builds a
# baseline with a history of HISTORY earlier runs, then makes COMPARISONS A/A comparisons
# (identical runs, each against the baseline as it is) and one comparison with the server
# slowed down by fewer threads (--threads 1). Every run restarts the server, as a CI job
# would, and measures one trial: 32 requests of 256 prompt tokens and 64 output tokens at
# concurrency 4. Prints one line per comparison: exit code, rows regressed / warning /
# inconclusive, and TPOT p50, TTFT p50 and throughput against the baseline (the mean of its
# accepted runs, as compare judges them).
#
#   scripts/real-verdicts.sh [COMPARISONS (10)] [HISTORY (5)]
#
# Uses target/release/llm-loadtest (cargo build --release first) or $LLM_LOADTEST_BIN.
# Takes about 40 s a run on 2 cores.
set -euo pipefail
comparisons="${1:-10}"
history="${2:-5}"
bin="${LLM_LOADTEST_BIN:-target/release/llm-loadtest}"
port="${PORT:-18090}"
work=$(mktemp -d)
trap 'bash scripts/llama-server.sh stop "$port"; rm -rf "$work"' EXIT

restart() {
  bash scripts/llama-server.sh stop "$port"
  while curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.2; done
  LLAMA_SERVER_ARGS="$1" bash scripts/llama-server.sh start "$port" >/dev/null
}

# measure FILE [SERVER_ARGS]: one run on a freshly started server.
measure() {
  restart "${2:-}"
  "$bin" run --server "http://127.0.0.1:$port" --model SmolLM2-135M-Instruct \
    --concurrency 4 --num-prompts 32 --input-len 256 --output-len 64 --warmup 2 \
    --output "$1" >/dev/null
}

# judge NAME FILE: compares FILE with the baseline; one line of figures.
judge() {
  local code=0
  "$bin" compare "$2" --baselines "$work/baselines" --reports "$work/reports" \
    >"$work/compare.txt" 2>&1 || code=$?
  python3 - "$1" "$code" "$work/baselines"/*.json "$2" "$work/compare.txt" <<'EOF'
import json, sys
name, code, baseline, current, table = sys.argv[1:6]
b, c = json.load(open(baseline)), json.load(open(current))["points"][0]
# What compare judges against: the mean of the baseline's accepted runs.
runs = [entry["points"][c["id"]] for entry in b["history"]]
figures = {"tpot_ms.p50": c["latency_ms"]["tpot"]["p50"],
           "ttft_ms.p50": c["latency_ms"]["ttft"]["p50"],
           "output_tokens_per_s": c["throughput"]["output_tokens_per_s"]}
change = lambda m: 100 * (figures[m] * len(runs) / sum(r[m] for r in runs) - 1)
rows = [line for line in open(table) if line.startswith("│")]
count = lambda word: sum(word in line for line in rows)
print(f"| {name} | {code} | {count('regressed')} | {count('warning')} | "
      f"{count('inconclusive')} | {change('tpot_ms.p50'):+.1f}% | "
      f"{change('ttft_ms.p50'):+.1f}% | {change('output_tokens_per_s'):+.1f}% |")
EOF
}

for i in $(seq 1 "$history"); do
  measure "$work/history-$i.json"
  "$bin" baseline update "$work/history-$i.json" --baselines "$work/baselines" >/dev/null
  echo "history run $i of $history accepted" >&2
done
echo "| comparison | exit | regressed | warning | inconclusive | TPOT p50 | TTFT p50 | tokens/s |"
echo "|--|--:|--:|--:|--:|--:|--:|--:|"
for i in $(seq 1 "$comparisons"); do
  measure "$work/aa-$i.json"
  judge "A/A $i" "$work/aa-$i.json"
done
measure "$work/slow.json" "--threads 1"
judge "--threads 1" "$work/slow.json"
