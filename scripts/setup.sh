#!/usr/bin/env bash
# Installs what building and testing occd needs on Debian 12, and nothing
# that is already there: a second run installs nothing.
#   scripts/setup.sh          build needs (apt: cmake, libpcre2-dev, a C compiler)
#   scripts/setup.sh --test   also the Python venv (.venv) for the interop tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_pkgs=(cmake libpcre2-dev pkg-config)
command -v cc >/dev/null 2>&1 || apt_pkgs+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || apt_pkgs+=(make)
if [ "$want_test" = 1 ]; then
  apt_pkgs+=(curl)
  if ! command -v python3 >/dev/null 2>&1; then
    apt_pkgs+=(python3 python3-venv)
  elif [ ! -x .venv/bin/python ] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_pkgs+=(python3-venv)
  fi
fi

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]} (apt)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$want_test" = 1 ]; then
  req=scripts/requirements-test.txt
  stamp=.venv/.requirements.sha256
  sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ]; then
    echo "setup: creating the Python venv .venv"
    python3 -m venv .venv
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    echo "setup: installing $req into .venv (pip)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
    echo "$sum" > "$stamp"
  fi
fi
