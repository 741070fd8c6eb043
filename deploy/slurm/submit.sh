#!/usr/bin/env bash
# Runs SCENARIO as SHARDS array tasks that start measuring together LEAD_S seconds from now
# (default 60), then merges them in a job that depends on the array. Prints the merge
# job's id; the merged result is RESULTS/result.json.
#   SHARDS=4 deploy/slurm/submit.sh scenario.json results/
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scenario="$(realpath "${1:?usage: submit.sh SCENARIO RESULTS_DIR}")"
results="$(mkdir -p "${2:?usage: submit.sh SCENARIO RESULTS_DIR}" && realpath "$2")"
shards="${SHARDS:-4}"
start_at=$(date -u -d "+${LEAD_S:-60} seconds" +%Y-%m-%dT%H:%M:%SZ)
export SCENARIO="$scenario" RESULTS="$results" START_AT="$start_at"
array=$(sbatch --parsable --array="0-$((shards - 1))" --export=ALL \
  --output="$results/shard-%a.log" "$here/shard.sbatch")
sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --export=ALL \
  --output="$results/merge.log" "$here/merge.sbatch"
