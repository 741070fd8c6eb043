#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer, the nightly toolchain) for
# SECONDS each (default 600), one after another, and prints for each its executions per
# second, corpus size and any crash. The corpora stay in fuzz/corpus/ (git-ignored), so a
# second run goes on from the first; a crash is saved in fuzz/artifacts/TARGET/ and makes
# the script exit 1 (turn it into a regression test, then delete it).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     targets: scenario sse result histogram
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario sse result histogram)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal

# Seeds: the shipped scenarios, the result fixtures, a recorded SSE stream.
mkdir -p fuzz/corpus/{scenario,sse,result,histogram}
cp scenarios/*.json fuzz/corpus/scenario/
cp tests/fixtures/*.result.json fuzz/corpus/result/
printf '\x40data: {"choices":[{"index":0,"delta":{"content":" hi"}}]}\n\ndata: [DONE]\n\n' \
  >fuzz/corpus/sse/chunk

status=0
for target in "${targets[@]}"; do
  log="fuzz/$target.log"
  echo "fuzzing $target for $seconds s (log: $log)"
  if cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1; then
    outcome="no crash"
  else
    outcome="CRASH (see $log and fuzz/artifacts/$target/)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  echo "  $target: $outcome; $runs runs, $rate per second; corpus of $corpus inputs"
done
exit "$status"
