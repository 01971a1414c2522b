#!/usr/bin/env bash
# Full libyang validation time of the OCC scale fixtures (N cSCTPs with their
# cSCs and services), as `occd check --timing` reports it: parse (no
# validation) and validate, medians of ROUNDS runs, for N = 1k, 10k, 100k.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
SIZES=${SIZES:-"1000 10000 100000"}
FORMAT=${FORMAT:-xml}
cargo build --release -q
bin=target/release/occd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in $SIZES; do
  f="$tmp/scale-$n.$FORMAT"
  python3 yang/occ/examples/gen-scale.py "$n" --format "$FORMAT" > "$f"
  parse=() validate=()
  for _ in $(seq "$ROUNDS"); do
    line=$("$bin" check --timing "$f" | tail -1)
    case "$line" in *": valid "*) ;; *) echo "scale-$n is not valid: $line" >&2; "$bin" check "$f" | tail -3; exit 1;; esac
    parse+=("$(sed -n 's/.*parse \([0-9.]*\) ms.*/\1/p' <<<"$line")")
    validate+=("$(sed -n 's/.*validate \([0-9.]*\) ms.*/\1/p' <<<"$line")")
  done
  python3 - "$n" "$(stat -c %s "$f")" "${parse[*]}" "${validate[*]}" <<'PY'
import statistics, sys
n, size, p, v = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
print(f"N={n}: {size/1e6:.1f} MB, parse median {statistics.median(map(float, p)):.1f} ms, "
      f"validate median {statistics.median(map(float, v)):.1f} ms ({len(v)} runs)")
PY
done
