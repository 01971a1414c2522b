#!/usr/bin/env bash
# Start-up time of the module set: `occd check` (load + compile, nothing
# else) for the default set and for 200 extra generated modules.
# Prints medians of ROUNDS runs: libyang load+compile time as occd reports it,
# and the whole process wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-11}
cargo build --release -q
bin=target/release/occd
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
python3 bench/gen-modules.py 200 "$gen"

measure() { # label, args...
  local label=$1; shift
  local compile=() wall=()
  for _ in $(seq "$ROUNDS"); do
    local t0 t1 out
    t0=$(date +%s%N)
    out=$("$bin" check "$@")
    t1=$(date +%s%N)
    compile+=("$(sed -n 's/.*compiled in \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)")
    wall+=("$(( (t1 - t0) / 1000 ))")
  done
  local mods
  mods=$(head -1 <<<"$out" | cut -d' ' -f1)
  python3 - "$label" "$mods" "${compile[*]}" "${wall[*]}" <<'PY'
import statistics, sys
label, mods, comp, wall = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
print(f"{label}: {mods} modules, load+compile median {statistics.median(map(float, comp)):.1f} ms, "
      f"process wall median {statistics.median(map(int, wall)) / 1000:.1f} ms ({len(wall)} runs)")
PY
}

measure "default set" 
# A config's module list replaces the default application modules, so the
# OCC modules are named again to keep them in the set.
occ=()
for m in occ-types occ-actors occ-interfaces occ-connections occ-services occ-nfv occ-lso occ-oam; do
  occ+=(--module "$m")
done
measure "default set + 200 generated" -c "$gen/occd.toml" "${occ[@]}"
