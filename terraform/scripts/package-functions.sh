#!/usr/bin/env bash
# Builds the one source archive that every baton function deploys from:
# package.json, package-lock.json and dist/ (compiled by npm run build; the
# functions-framework main is dist/functions/index.js). Timestamps are fixed,
# so the same sources give the same bytes, and terraform (which names the
# uploaded object by the archive's MD5) redeploys only on a real change.
#
#   terraform/scripts/package-functions.sh [OUT.zip]   # default build/functions-source.zip
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/build/functions-source.zip}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

cd "$root"
npm ci --no-audit --no-fund
npm run build

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp package.json package-lock.json "$stage/"
cp -R dist "$stage/dist"
# Compiled tests are not part of the deployed package.
rm -rf "$stage/dist/test"

export TZ=UTC
find "$stage" -exec touch -h -d '1980-01-01 00:00:00' {} +
mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$stage" && find . -type f | LC_ALL=C sort | zip -X -q -@ "$out")
echo "wrote $out ($(md5sum "$out" | cut -d' ' -f1))"
