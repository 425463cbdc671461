#!/usr/bin/env bash
# The platform on a local kind cluster under Istio, for the integration tests.
#   up    create the cluster (if missing), install Istio, build and deploy with skaffold
#   test  up, run tests/integration against it (AGYN_TARGET=kind), always tear down,
#         and exit with the tests' status
#   down  delete the cluster
# Needs docker, kind, kubectl, istioctl and skaffold on PATH, and the workspace synced
# (the Makefile targets do that).
set -euo pipefail

CLUSTER="${AGYN_KIND_CLUSTER:-agyn}"
CONTEXT="kind-${CLUSTER}"
NAMESPACE="agyn"  # skaffold.yaml installs the release here
NODE_IMAGE="${AGYN_KIND_NODE_IMAGE:-kindest/node:v1.31.2}"
GATEWAY_PORT="${AGYN_KIND_GATEWAY_PORT:-18080}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${ROOT}/.venv/bin"

log() { printf 'kind.sh: %s\n' "$*" >&2; }

require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool is required"; exit 2; }
  done
}

kube() { kubectl --context "$CONTEXT" "$@"; }

up() {
  require docker kind kubectl istioctl skaffold
  if ! kind get clusters | grep -qx "$CLUSTER"; then
    log "creating cluster $CLUSTER ($NODE_IMAGE)"
    kind create cluster --name "$CLUSTER" --image "$NODE_IMAGE" --wait 180s
  fi
  log "installing Istio"
  istioctl install --context "$CONTEXT" --skip-confirmation --set profile=minimal
  kube create namespace "$NAMESPACE" --dry-run=client --output yaml | kube apply --filename -
  kube label namespace "$NAMESPACE" istio-injection=enabled --overwrite
  log "building chart dependencies, images, and deploying"
  (cd "$ROOT" && "$VENV/python" -m agyn_deploy charts >/dev/null)
  (cd "$ROOT" && skaffold run --kube-context "$CONTEXT" --profile kind --status-check=true)
  kube --namespace "$NAMESPACE" wait deployment --all --for=condition=Available --timeout=300s
}

wait_for_port() {
  local attempt
  for attempt in $(seq 1 60); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    log "waiting for port $1 ($attempt)"
    sleep 1
  done
  return 1
}

run_tests() {
  local forward status=0
  kube --namespace "$NAMESPACE" port-forward service/gateway "${GATEWAY_PORT}:8080" >/dev/null &
  forward=$!
  wait_for_port "$GATEWAY_PORT" || status=$?
  if [ "$status" -eq 0 ]; then
    AGYN_TARGET=kind \
      AGYN_GATEWAY_ADDRESS="127.0.0.1:${GATEWAY_PORT}" \
      AGYN_KUBE_CONTEXT="$CONTEXT" \
      AGYN_KUBE_NAMESPACE="$NAMESPACE" \
      "$VENV/pytest" "$ROOT/tests/integration" || status=$?
  fi
  kill "$forward" 2>/dev/null || true
  return "$status"
}

down() {
  require kind
  log "deleting cluster $CLUSTER"
  kind delete cluster --name "$CLUSTER"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  test)
    # Whatever happens from here on, the cluster goes; the exit status is the tests'.
    trap down EXIT
    up
    status=0
    run_tests || status=$?
    exit "$status"
    ;;
  *)
    log "usage: $0 up|test|down"
    exit 2
    ;;
esac
