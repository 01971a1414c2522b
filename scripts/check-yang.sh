#!/usr/bin/env bash
# Checks of the OCC modules that need pyang: the tree diagrams in
# yang/occ/trees are up to date, and `pyang --strict --lint` (RFC 8407
# guidelines) reports nothing on any module, submodule or deviation module.
set -euo pipefail
cd "$(dirname "$0")/.."
pyang=${PYANG:-pyang}
PYANG=$pyang yang/occ/trees/regen.sh --check
ietf=$(cd yang/ietf && pwd)
occ=$(cd yang/occ && pwd)
files=(yang/occ/*.yang yang/occ/submodules/*.yang yang/occ/deviations/*.yang)
out=$("$pyang" --strict --lint -p "$ietf" -p "$occ" "${files[@]}" 2>&1) || true
if [ -n "$out" ]; then
  echo "pyang --strict --lint reports:" >&2
  echo "$out" >&2
  exit 1
fi
echo "pyang --strict --lint: ${#files[@]} files, no messages; trees up to date"
