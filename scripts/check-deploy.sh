#!/usr/bin/env bash
# Checks the deployment files: the Kubernetes manifests (as written and as run.sh rewrites
# them) against Kubernetes' schemas with kubernetes-validate (PyPI, installed when
# missing), the ConfigMap's scenario with `llm-loadtest validate`, and the Dockerfile
# built where a container builder answers (said when none does).
#   LLM_LOADTEST=target/debug/llm-loadtest bash scripts/check-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
command -v kubernetes-validate >/dev/null || python3 -m pip install -q kubernetes-validate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
k8s=deploy/kubernetes
kubernetes-validate --strict --quiet "$k8s"/*.yaml
# The Job as run.sh applies it: 8 shards, a start time.
sed -e "s/[0-9][0-9]* # shards$/8 # shards/" -e "s/\"[0-9]*\" # shards$/\"8\" # shards/" \
    -e "s/\"[^\"]*\" # start-at$/\"2026-12-01T12:00:00Z\" # start-at/" "$k8s/shards-job.yaml" > "$work/job.yaml"
grep -q 'completions: 8 # shards' "$work/job.yaml" && grep -q '"2026-12-01T12:00:00Z" # start-at' "$work/job.yaml"
kubernetes-validate --strict --quiet "$work/job.yaml"
python3 - "$k8s/configmap.yaml" "$work/scenario.json" <<'PY'
import sys, yaml
open(sys.argv[2], "w").write(yaml.safe_load(open(sys.argv[1]))["data"]["scenario.json"])
PY
"${LLM_LOADTEST:-target/debug/llm-loadtest}" validate "$work/scenario.json"
echo "kubernetes: the manifests and the rewritten Job pass kubernetes-validate --strict"
if docker info >/dev/null 2>&1; then
  docker build --quiet -t llm-loadtest:check . >/dev/null
  docker run --rm llm-loadtest:check --version
else
  echo "docker: no daemon answers here; the Dockerfile was not built"
fi
