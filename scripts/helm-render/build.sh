#!/usr/bin/env bash
# Builds helm-render offline against Debian's Go packages.
#   apt-get install -y golang-go golang-github-masterminds-sprig-dev
#   scripts/helm-render/build.sh OUTPUT_BINARY
# GOPATH mode: Debian ships sprig v3 and semver v3 under
# /usr/share/gocode/src/github.com/Masterminds/{sprig,semver} (without the /v3
# suffix of their import paths), so a throwaway GOPATH maps the /v3 paths onto
# them with symlinks. No network, no go.mod, no module cache.
set -euo pipefail
out="${1:?usage: build.sh OUTPUT_BINARY}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gocode="${DEBIAN_GOCODE:-/usr/share/gocode}"
if ! command -v go >/dev/null 2>&1; then
  echo "helm-render: 'go' not found. Install it with: apt-get install -y golang-go golang-github-masterminds-sprig-dev" >&2
  exit 127
fi
if [ ! -f "$gocode/src/github.com/Masterminds/sprig/functions.go" ]; then
  echo "helm-render: sprig v3 sources not found under $gocode. Install them with: apt-get install -y golang-github-masterminds-sprig-dev" >&2
  exit 127
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/gopath/src/github.com/Masterminds/sprig" "$work/gopath/src/github.com/Masterminds/semver"
ln -s "$gocode/src/github.com/Masterminds/sprig" "$work/gopath/src/github.com/Masterminds/sprig/v3"
ln -s "$gocode/src/github.com/Masterminds/semver" "$work/gopath/src/github.com/Masterminds/semver/v3"
mkdir -p "$(dirname "$out")"
cd "$here"
GO111MODULE=off GOPATH="$work/gopath:$gocode" GOFLAGS= GOPROXY=off \
  GOCACHE="${GOCACHE:-$work/cache}" CGO_ENABLED=0 \
  go build -o "$(cd "$(dirname "$out")" && pwd)/$(basename "$out")" .
