#!/usr/bin/env bash
# Fail when generated/ is not exactly what the generator makes from the snapshot.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/scripts/generate.sh" "$tmp/toloka_pipeline_api"
if ! diff -r -x __pycache__ "$tmp/toloka_pipeline_api" "$root/generated/toloka_pipeline_api"; then
  echo "generated/ differs from what openapi/v2-beta.yaml generates: run 'make generate'" >&2
  exit 1
fi
echo "generated/ matches the snapshot"
