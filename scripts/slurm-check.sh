#!/usr/bin/env bash
# A real Slurm on this one machine: Debian's slurm-wlm (installed when missing), munged,
# slurmctld and slurmd started here with a one-node configuration of their own. The job
# array of deploy/slurm runs four shards of a small scenario against the embedded
# simulator, the dependent job merges them, and the merged result is checked. Everything
# it started is stopped at the end.
#   LLM_LOADTEST=target/debug/llm-loadtest bash scripts/slurm-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${LLM_LOADTEST:-target/debug/llm-loadtest}")"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
work=$(mktemp -d)
node=$(hostname -s)
pids=()
cleanup() {
  scontrol shutdown >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/munge/munged.pid" ] && kill "$(cat "$work/munge/munged.pid")" 2>/dev/null || true
}
trap cleanup EXIT

# munge: a key of its own and a daemon on a socket of its own.
mkdir -p "$work/munge"
dd if=/dev/urandom bs=1 count=1024 of="$work/munge/munge.key" status=none
chmod 700 "$work/munge"; chmod 400 "$work/munge/munge.key"
munged --force --socket="$work/munge/socket" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed"

mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=llmlt
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=8 RealMemory=1000 State=UNKNOWN
PartitionName=batch Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -i
slurmd
for _ in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o %t | grep -q idle || { echo "slurm: the node never became idle" >&2; tail "$work"/*.log >&2; exit 1; }

# The simulator the shards measure.
"$bin" sim --port 0 --profile fixed-20ms > "$work/sim.out" &
pids+=($!)
for _ in $(seq 50); do grep -q http "$work/sim.out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/sim.out" | head -1)
cat > "$work/scenario.json" <<JSON
{"name": "slurm-shards", "target": {"base_url": "$url", "model": "m"},
 "workload": {"input_tokens": [64], "output_tokens": 16, "prompt": {"seed": 11}},
 "load": {"concurrency": [8], "duration_s": 4, "warmup": 4}}
JSON

export LLM_LOADTEST="$bin"
merge_job=$(SHARDS=4 LEAD_S=10 deploy/slurm/submit.sh "$work/scenario.json" "$work/results")
for _ in $(seq 120); do
  state=$(scontrol show job "$merge_job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) break ;; esac
  sleep 1
done
echo "merge job $merge_job: $state"
cat "$work/results/merge.log"
[ "$state" = COMPLETED ] || { tail -n 20 "$work/results"/*.log "$work"/*.log >&2; exit 1; }
python3 - "$work/results/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
shards = r["shards"]
assert [s["index"] for s in shards] == [0, 1, 2, 3], shards
point = r["points"][0]
ok, total = point["requests"]["ok"], point["requests"]["total"]
assert total > 0 and ok == total, point["requests"]
assert point["tokens"]["output_mean"] == 16.0, point["tokens"]
late = max(s.get("late_ms", 0) for s in shards)
print(f"slurm: 4 shards merged, {ok} requests, shards {late:.0f} ms late at most, "
      f"TTFT p50 {point['latency_ms']['ttft']['p50']} ms")
PY
