#!/usr/bin/env bash
# fetch-secp256k1-src.sh DIR — Debian's source package of libsecp256k1, the version the
# host builds with (libsecp256k1-dev), fetched by apt (its .dsc checked against the signed
# Sources index) into DIR, its .dsc signature checked with gpgv against debian-keyring, and
# unpacked by dpkg-source (which checks the tarballs against the .dsc) into DIR/src.
# Needs a deb-src line (scripts/install-deps.sh adds one). Nothing is vendored.
set -euo pipefail
dir=$1
ver=$(dpkg-query -W -f='${Version}' libsecp256k1-dev)
mkdir -p "$dir/dl"
cd "$dir/dl"
rm -rf ../src
if ! ls libsecp256k1_"${ver#*:}".dsc >/dev/null 2>&1; then
  apt-get source --download-only "libsecp256k1=$ver" >/dev/null 2>apt.err || {
    cat apt.err >&2
    echo "fetch-secp256k1-src: apt-get source failed (is there a deb-src line? run scripts/install-deps.sh)" >&2
    exit 1
  }
fi
dsc=libsecp256k1_"${ver#*:}".dsc
gpgv --keyring /usr/share/keyrings/debian-keyring.gpg "$dsc" 2>gpgv.out || {
  cat gpgv.out >&2; echo "fetch-secp256k1-src: $dsc: the signature does not verify" >&2; exit 1; }
dpkg-source --require-valid-signature -x "$dsc" ../src >/dev/null
echo "fetch-secp256k1-src: libsecp256k1 $ver unpacked in $dir/src (.dsc signed by $(sed -n 's/.*Good signature from "\(.*\)".*/\1/p' gpgv.out | head -1))"
