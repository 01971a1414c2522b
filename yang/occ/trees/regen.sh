#!/usr/bin/env bash
# Regenerates the pyang tree diagrams of the OCC modules.
#
#   regen.sh           rewrite trees/<module>.txt for every module
#   regen.sh --check   exit non-zero, naming each stale or missing file,
#                      when a committed tree differs from pyang's output
#
# Environment:
#   PYANG         pyang binary (default: 'pyang' from PATH)
#   YANG_IETF_DIR directory with the IETF modules (default: ../../ietf
#                 relative to this script, i.e. yang/ietf)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
occ_dir="$(cd "$here/.." && pwd)"
ietf_dir="${YANG_IETF_DIR:-$here/../../ietf}"
pyang="${PYANG:-pyang}"

if [ ! -d "$ietf_dir" ]; then
    echo "regen.sh: IETF module directory '$ietf_dir' not found (set YANG_IETF_DIR)" >&2
    exit 2
fi
ietf_dir="$(cd "$ietf_dir" && pwd)"
if ! command -v "$pyang" >/dev/null 2>&1; then
    echo "regen.sh: pyang binary '$pyang' not found (set PYANG)" >&2
    exit 2
fi

check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

modules=()
for f in "$occ_dir"/*.yang "$occ_dir"/deviations/*.yang; do
    [ -e "$f" ] && modules+=("$f")
done

stale=0
for f in "${modules[@]}"; do
    name="$(basename "$f" .yang)"
    # Absolute search paths: pyang searches them recursively (submodules/).
    case "$f" in
        "$occ_dir"/deviations/*)
            # A deviation module has no tree of its own: show the trees of
            # the OCC modules it deviates, with its deviations applied.
            targets=()
            for m in $(sed -n 's/^ *import \(occ-[a-z-]*\) *{.*/\1/p' "$f"); do
                [ "$m" = "occ-types" ] || targets+=("$occ_dir/$m.yang")
            done
            "$pyang" -f tree -p "$ietf_dir" -p "$occ_dir" \
                --deviation-module "$f" "${targets[@]}" > "$tmp/$name.txt"
            ;;
        *)
            "$pyang" -f tree -p "$ietf_dir" -p "$occ_dir" "$f" > "$tmp/$name.txt"
            ;;
    esac
    target="$here/$name.txt"
    if [ "$check" -eq 1 ]; then
        if [ ! -f "$target" ]; then
            echo "missing: trees/$name.txt" >&2
            stale=1
        elif ! cmp -s "$tmp/$name.txt" "$target"; then
            echo "stale: trees/$name.txt" >&2
            stale=1
        fi
    else
        cp "$tmp/$name.txt" "$target"
    fi
done

if [ "$check" -eq 1 ]; then
    for t in "$here"/*.txt; do
        [ -e "$t" ] || continue
        name="$(basename "$t" .txt)"
        if [ ! -f "$occ_dir/$name.yang" ] && [ ! -f "$occ_dir/deviations/$name.yang" ]; then
            echo "orphan: trees/$name.txt (no such module)" >&2
            stale=1
        fi
    done
fi
exit "$stale"
