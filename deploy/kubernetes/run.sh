#!/usr/bin/env bash
# Runs the scenario of configmap.yaml as SHARDS pods (default 4) that start measuring
# together LEAD_S seconds from now (default 120: time for every pod to be scheduled and
# pull its image), then merges their results into result.json on the results volume.
#   SHARDS=8 LEAD_S=180 deploy/kubernetes/run.sh
set -euo pipefail
cd "$(dirname "$0")"
shards="${SHARDS:-4}"
start_at=$(date -u -d "+${LEAD_S:-120} seconds" +%Y-%m-%dT%H:%M:%SZ)
kubectl apply -f results-pvc.yaml -f configmap.yaml
kubectl delete job llm-loadtest-shards llm-loadtest-merge --ignore-not-found
sed -e "s/[0-9][0-9]* # shards$/$shards # shards/" \
    -e "s/\"[0-9]*\" # shards$/\"$shards\" # shards/" \
    -e "s/\"[^\"]*\" # start-at$/\"$start_at\" # start-at/" shards-job.yaml | kubectl apply -f -
echo "shards start measuring at $start_at"
kubectl wait --for=condition=complete --timeout=24h job/llm-loadtest-shards
kubectl apply -f merge-job.yaml
kubectl wait --for=condition=complete --timeout=10m job/llm-loadtest-merge
kubectl logs job/llm-loadtest-merge
