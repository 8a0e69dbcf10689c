#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages WaterNotary builds and tests with.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev python3
      libsecp256k1-dev liblmdb-dev lmdb-utils libssl-dev libcjson-dev libcriterion-dev
      libcurl4-openssl-dev libmicrohttpd-dev nettle-dev libmodbus-dev curl
      libxlsxwriter-dev              # .xlsx exports of the monitoring page (node/monitor/monitor_export.c)
      chromium fonts-wqy-microhei    # headless browser test of the monitoring page (tests/test_ui.c)
      debhelper dpkg-dev fakeroot help2man lintian   # make deb / make deb-check (debian/)
      prometheus                     # promtool check rules on packaging/waternotary-alerts.yml
      gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm   # make firmware / test-firmware
      debian-keyring dpkg-dev)       # apt-get source libsecp256k1 for the firmware, .dsc checked
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The firmware (docs/FIRMWARE.md) builds libsecp256k1 for the target from Debian's source
# package (apt-get source), which needs a deb-src line for bookworm: added once, in its own file.
need_src=0
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  need_src=1
fi
if [ ${#missing[@]} -gt 0 ] || [ $need_src -eq 1 ]; then
  [ ${#missing[@]} -eq 0 ] || echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  if [ $need_src -eq 1 ]; then
    # the same archives apt already uses for binaries, as deb-src: deb822 stanzas and one-line entries
    echo "install-deps: adding deb-src entries for apt's configured Debian archives (waternotary-src.*)" >&2
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -e "$f" ] || continue
      awk 'BEGIN { RS = ""; ORS = "\n\n" }
           /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|$|\n)/ && /Suites:[^\n]*bookworm/ {
             sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
    done | $SUDO tee /etc/apt/sources.list.d/waternotary-src.sources >/dev/null
    if [ -f /etc/apt/sources.list ] && grep -q '^deb .*bookworm' /etc/apt/sources.list; then
      sed -n 's/^deb \(.*bookworm.*\)/deb-src \1/p' /etc/apt/sources.list |
        $SUDO tee /etc/apt/sources.list.d/waternotary-src.list >/dev/null
    fi
  fi
  $SUDO apt-get update -qq
  [ ${#missing[@]} -eq 0 ] || $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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

# A local Ethereum chain for the anchoring tests (tests/test_anchor.c): anvil (Foundry) from
# the npm package @foundry-rs/anvil at the exact version pinned in tools/anvil/package.json,
# installed into tools/anvil/node_modules. Its binary comes in the platform's optional
# dependency @foundry-rs/anvil-linux-<arch> (pinned by the package at the same version); the
# package's postinstall script is skipped (it would only fetch that same binary).
arch=amd64; [ "$(uname -m)" = aarch64 ] && arch=arm64
anvil_want=$(sed -n 's/.*"@foundry-rs\/anvil": "\([0-9.]*\)".*/\1/p' "$root/tools/anvil/package.json")
anvil_dir="$root/tools/anvil/node_modules/@foundry-rs/anvil-linux-$arch"
anvil_have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$anvil_dir/package.json" 2>/dev/null || true)
if [ "$anvil_have" != "$anvil_want" ] || [ ! -x "$anvil_dir/bin/anvil" ]; then
  echo "install-deps: npm install of @foundry-rs/anvil $anvil_want into tools/anvil" >&2
  npm install --prefix "$root/tools/anvil" --no-package-lock --no-audit --no-fund --ignore-scripts \
    --loglevel=error >/dev/null
  "$anvil_dir/bin/anvil" --version >/dev/null
fi
