#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages WaterNotary builds and tests with.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev
      libsecp256k1-dev liblmdb-dev lmdb-utils libssl-dev libcjson-dev libcriterion-dev
      libcurl4-openssl-dev libmicrohttpd-dev nettle-dev curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
