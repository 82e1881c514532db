#!/usr/bin/env bash
# Regenerate the low-level v2-beta client from the snapshot.
#   scripts/generate.sh [OUTPUT_DIR]   (default: generated/toloka_pipeline_api)
# The pinned ruff must be first on PATH: openapi-python-client's post-hooks call it,
# and silently skip formatting (different output) when it is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/generated/toloka_pipeline_api}
export PATH="$root/.venv/bin:$PATH"
command -v ruff >/dev/null || { echo "ruff not found in $root/.venv/bin" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Generate next to nothing else, then swap in: a failed run never leaves half a package.
openapi-python-client generate \
  --path "$root/openapi/v2-beta.yaml" \
  --config "$root/openapi/codegen.yaml" \
  --custom-template-path "$root/openapi/templates" \
  --meta none \
  --output-path "$tmp/toloka_pipeline_api" \
  --overwrite --fail-on-warning >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
if grep -qi "warning" "$tmp/log"; then cat "$tmp/log" >&2; exit 1; fi
# The snapshot's identity travels with the code made from it, so the extension layer can
# name the snapshot version in ApiDriftError.
"$root/.venv/bin/python" "$root/scripts/snapshot_module.py" "$root/openapi/v2-beta.yaml" \
  > "$tmp/toloka_pipeline_api/_snapshot.py"
# Typed package: the extension layer is checked with mypy --strict against it.
: > "$tmp/toloka_pipeline_api/py.typed"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r "$tmp/toloka_pipeline_api" "$out"
find "$out" -name __pycache__ -prune -exec rm -rf {} +
