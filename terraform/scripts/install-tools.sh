#!/usr/bin/env bash
# Installs pinned terraform (and, with --tflint, tflint) into $BIN_DIR, checking
# each download against its published SHA-256 sum. Used by the Cloud Build
# configs in terraform/ci and terraform/cloudbuild; plan and apply must run the
# same terraform version, which is why it is pinned rather than "latest".
set -euo pipefail

TF_VERSION="${TF_VERSION:-1.11.4}"
TFLINT_VERSION="${TFLINT_VERSION:-0.59.1}"
BIN_DIR="${BIN_DIR:-/workspace/.bin}"
mkdir -p "$BIN_DIR"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# unzip is not in every image; any Python (gcloud ships one) can extract too.
unzip_to() {
  if command -v unzip >/dev/null; then unzip -q -o "$1" -d "$2"; return; fi
  local py
  py="$(command -v python3 || gcloud info --format='value(basic.python_location)' 2>/dev/null || true)"
  test -n "$py" || { echo "failed to find unzip or python to extract $1" >&2; exit 1; }
  "$py" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
}

zip="terraform_${TF_VERSION}_linux_amd64.zip"
base="https://releases.hashicorp.com/terraform/${TF_VERSION}"
curl -fsSLo "$tmp/$zip" "$base/$zip"
curl -fsSLo "$tmp/SHA256SUMS" "$base/terraform_${TF_VERSION}_SHA256SUMS"
(cd "$tmp" && grep " ${zip}\$" SHA256SUMS | sha256sum -c -)
unzip_to "$tmp/$zip" "$BIN_DIR"
chmod +x "$BIN_DIR/terraform"
"$BIN_DIR/terraform" version

if [[ "${1:-}" == "--tflint" ]]; then
  zip="tflint_linux_amd64.zip"
  base="https://github.com/terraform-linters/tflint/releases/download/v${TFLINT_VERSION}"
  curl -fsSLo "$tmp/$zip" "$base/$zip"
  curl -fsSLo "$tmp/checksums.txt" "$base/checksums.txt"
  (cd "$tmp" && grep " ${zip}\$" checksums.txt | sha256sum -c -)
  unzip_to "$tmp/$zip" "$BIN_DIR"
  chmod +x "$BIN_DIR/tflint"
  "$BIN_DIR/tflint" --version
fi
