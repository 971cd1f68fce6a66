#!/usr/bin/env bash
# Starts the Pub/Sub and Firestore emulators from the local gcloud SDK, waits until both answer,
# and prints the environment to export. Usage: scripts/emulators.sh start|stop [dir]
# Ports: PUBSUB 8085, FIRESTORE 8086 unless BATON_PUBSUB_PORT / BATON_FIRESTORE_PORT say otherwise.
set -euo pipefail
cmd=${1:-start}
dir=${2:-${TMPDIR:-/tmp}/baton-emulators}
ps_port=${BATON_PUBSUB_PORT:-8085}
fs_port=${BATON_FIRESTORE_PORT:-8086}
mkdir -p "$dir"

wait_for() { # url name
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "emulators: $2 did not answer at $1 within 60 s; see $dir/$2.log" >&2
  return 1
}

case "$cmd" in
  start)
    command -v gcloud >/dev/null || { echo "emulators: gcloud not found; install the Google Cloud SDK with the pubsub-emulator and cloud-firestore-emulator components" >&2; exit 1; }
    if ! curl -fsS -o /dev/null "http://127.0.0.1:$ps_port" 2>/dev/null; then
      setsid gcloud beta emulators pubsub start --host-port="127.0.0.1:$ps_port" --project=baton-local >"$dir/pubsub.log" 2>&1 &
      echo $! >"$dir/pubsub.pid"
    fi
    if ! curl -fsS -o /dev/null "http://127.0.0.1:$fs_port" 2>/dev/null; then
      setsid gcloud emulators firestore start --host-port="127.0.0.1:$fs_port" >"$dir/firestore.log" 2>&1 &
      echo $! >"$dir/firestore.pid"
    fi
    wait_for "http://127.0.0.1:$ps_port" pubsub
    wait_for "http://127.0.0.1:$fs_port" firestore
    echo "export PUBSUB_EMULATOR_HOST=127.0.0.1:$ps_port FIRESTORE_EMULATOR_HOST=127.0.0.1:$fs_port"
    ;;
  stop)
    for name in pubsub firestore; do
      if [ -f "$dir/$name.pid" ]; then
        kill -- -"$(cat "$dir/$name.pid")" 2>/dev/null || true
        rm -f "$dir/$name.pid"
      fi
    done
    ;;
  *) echo "usage: $0 start|stop [dir]" >&2; exit 2 ;;
esac
