#!/usr/bin/env bash
# Starts Debian's docker-registry (the OCI distribution registry) on loopback, for the local
# builder, the chart publisher and their tests. Usage: scripts/registry.sh start|stop [dir]
# Port: BATON_REGISTRY_PORT, default 5000. Prints the env line to export.
set -euo pipefail
cmd=${1:-start}
dir=${2:-${TMPDIR:-/tmp}/baton-registry}
port=${BATON_REGISTRY_PORT:-5000}
bin=$(command -v docker-registry || true)
case "$cmd" in
  start)
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then
      echo "export BATON_REGISTRY=127.0.0.1:$port"; exit 0
    fi
    [ -n "$bin" ] || { echo "registry: docker-registry not found; install it with: apt-get install -y docker-registry" >&2; exit 1; }
    mkdir -p "$dir/data"
    cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
    setsid "$bin" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    echo $! >"$dir/registry.pid"
    for _ in $(seq 1 50); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then
        echo "export BATON_REGISTRY=127.0.0.1:$port"; exit 0
      fi
      sleep 0.2
    done
    echo "registry: did not answer on 127.0.0.1:$port; see $dir/registry.log" >&2; exit 1
    ;;
  stop)
    if [ -f "$dir/registry.pid" ]; then kill "$(cat "$dir/registry.pid")" 2>/dev/null || true; rm -f "$dir/registry.pid"; fi
    ;;
  *) echo "usage: $0 start|stop [dir]" >&2; exit 2 ;;
esac
