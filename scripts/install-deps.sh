#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages WaterNotary builds and tests with.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev
      libsecp256k1-dev liblmdb-dev lmdb-utils libssl-dev libcjson-dev libcriterion-dev
      libcurl4-openssl-dev libmicrohttpd-dev nettle-dev curl
      chromium fonts-wqy-microhei)   # headless browser test of the monitoring page (tests/test_ui.c)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The monitoring page's charts: Apache ECharts from npm at the version pinned in
# web/vendor/package-lock.json, installed into web/vendor/node_modules and served by
# wn-node as a static file (no CDN, nothing fetched at run time).
root="$(cd "$(dirname "$0")/.." && pwd)"
want=$(sed -n 's/.*"echarts": "\([0-9.]*\)".*/\1/p' "$root/web/vendor/package.json")
have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$root/web/vendor/node_modules/echarts/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ] || [ ! -f "$root/web/vendor/node_modules/echarts/dist/echarts.min.js" ]; then
  echo "install-deps: npm ci of echarts $want into web/vendor" >&2
  npm ci --prefix "$root/web/vendor" --no-audit --no-fund --loglevel=error >/dev/null
fi
